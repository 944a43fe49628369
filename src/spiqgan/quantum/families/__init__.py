"""Circuit families of the Born machines, by name: each owns its probabilities, sampling and gates.

================  ============================================  ============  =============
name              circuit                                       interference  neurons
================  ============================================  ============  =============
``cry``           controlled-RY (:mod:`.cry`)                   no            any
``iqp``           IQP (:mod:`.iqp`)                             yes           at most 16
``bitflip``       IQP's classical look-alike (:mod:`.bitflip`)  no            at most 16
================  ============================================  ============  =============

A new family is one module with a subclass of :class:`~spiqgan.quantum.families.base.CircuitFamily`
and one line in :data:`FAMILIES`; it is then also a Born machine model of the same name
(:mod:`spiqgan.models.registry`). Families are imported when first asked for.

A circuit of the user's, a PennyLane QNode or a Qiskit circuit in a Python file, is a family named
``FILE.py:NAME`` without any registration (:mod:`.user`).
"""

from __future__ import annotations

import importlib
from functools import lru_cache

from spiqgan.exceptions import ConfigError

__all__ = ["FAMILIES", "get_family"]

#: every circuit family: ``name -> "module:Class"``
FAMILIES: dict[str, str] = {
    "cry": "spiqgan.quantum.families.cry:ControlledRY",
    "iqp": "spiqgan.quantum.families.iqp:IQP",
    "bitflip": "spiqgan.quantum.families.bitflip:BitFlip",
}


def get_family(name: str):
    """The :class:`~spiqgan.quantum.families.base.CircuitFamily` registered as ``name``, or the user's circuit
    ``FILE.py:NAME`` (:func:`spiqgan.quantum.families.user.load_user_circuit`)."""
    from spiqgan.quantum.families.user import is_user_circuit, load_user_circuit

    if is_user_circuit(name):
        return load_user_circuit(name)
    if name not in FAMILIES:
        raise ConfigError(f"unknown circuit family {name!r}; expected one of {', '.join(FAMILIES)}.")
    return _load(FAMILIES[name])


@lru_cache(maxsize=None)
def _load(target: str):
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)()
