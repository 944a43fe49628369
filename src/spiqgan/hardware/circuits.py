r"""A trained model's gate-level circuits, for every output format (:func:`circuits_of`).

The circuit description itself (:class:`Circuit`, :class:`Angle`, conditions, :class:`Export`,
:func:`lower_counts`) lives in :mod:`spiqgan.quantum.circuit`; the gates come from the models:

* **SpiQGAN chain** (``--preset paper`` and relatives): one circuit per sub-generator, inputs
  ``gamma_0 .. gamma_{q-1}`` (the noise angles; shared noise feeds the same values to every step)
  (:func:`spiqgan.quantum.generator.chain_circuits`). The QCE 2023 circuit measures every qubit:
  ``basis`` (the feature register) and ``ancilla`` (post-selected on 0).
* **Born machines** (``cry``, ``iqp``, ``bitflip``): one circuit per time step, inputs ``z_0 .. z_{d-1}``
  (the latent common state), or one *window* circuit with mid-circuit measurement, reset and
  feed-forward for a ``cry`` model that conditions on earlier steps
  (:meth:`spiqgan.models.born.BornMachine.circuits`); each family writes its own gates
  (:meth:`spiqgan.quantum.families.base.CircuitFamily.add_step`). The count term conditions neuron
  ``j`` on how many of neurons ``0..j-1`` fired at the step (:class:`CountAtLeast`, lowered to
  single-bit conditions by :func:`lower_counts`). ``bitflip`` flips its bits through one ancilla,
  rotated, entangled and reset per generator, so its outcome distribution is the classical model's.

For fixed inputs, every circuit's outcome distribution is exactly the model's (tests check it to
1e-9 through Qiskit, its OpenQASM 3 importer and PennyLane). Nothing here imports Qiskit or
PennyLane: :mod:`spiqgan.hardware.qasm`, :mod:`spiqgan.hardware.qiskit_io` and
:mod:`spiqgan.hardware.pennylane_io` write these descriptions out.
"""

from __future__ import annotations

from typing import Any

from spiqgan.exceptions import ConfigError
from spiqgan.models.base import HasCircuits
from spiqgan.quantum.circuit import GATES, Angle, Bit, Circuit, CountAtLeast, Export, Op, lower_counts
from spiqgan.quantum.generator import PatchGenerator, chain_export

__all__ = ["Angle", "Bit", "CountAtLeast", "Op", "Circuit", "Export", "circuits_of", "lower_counts", "GATES"]


def circuits_of(model: Any, *, which: str = "last", neurons: list[int] | None = None) -> Export:
    """The circuits of a trained model with circuits (:class:`~spiqgan.models.base.HasCircuits`: SpiQGAN, the
    Born machines) or of a :class:`~spiqgan.quantum.generator.PatchGenerator`; ``neurons``: the data's ids.

    Raises :class:`ConfigError` for a model that is not a quantum circuit (the classical references)
    or is not fitted.
    """
    if isinstance(model, PatchGenerator):
        exp = chain_export(model)
    elif isinstance(model, HasCircuits):
        exp = model.circuits(which)
    else:
        raise ConfigError(f"{type(model).__name__} is a classical model: only the quantum generators (spiqgan, "
                          "the papers' presets, cry, iqp, bitflip) have circuits to export.")
    exp.neurons = list(neurons) if neurons is not None else list(range(exp.n_neurons))
    if len(exp.neurons) != exp.n_neurons:
        raise ConfigError(f"{len(exp.neurons)} neuron ids for a model of {exp.n_neurons} neurons.")
    return exp
