"""The quantum generator: the patch generator and its circuits (:mod:`~spiqgan.quantum.generator`) on the
batched statevector simulator (:mod:`~spiqgan.quantum.statevector`).

Nothing is imported here, so that ``import spiqgan`` does not load torch.
"""
