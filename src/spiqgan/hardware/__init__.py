"""From simulator to hardware: a trained generator as circuits (OpenQASM 3, Qiskit, PennyLane), sampled on Aer, costed on a device.

:mod:`~spiqgan.hardware.circuits` (the circuits of a model), :mod:`~spiqgan.hardware.qasm` and
:mod:`~spiqgan.hardware.pennylane_io` (text, no extra needed), :mod:`~spiqgan.hardware.sampling` (inputs
and windows), :mod:`~spiqgan.hardware.qiskit_io` (Qiskit and Aer: ``pip install 'spiqgan[qiskit]'``) and
:mod:`~spiqgan.hardware.export` (the folder that ``spiqgan export`` writes, the cost that
``spiqgan resources`` prints).
"""
