"""Fixtures of the hardware tests: the optional extra, present in CI."""

from __future__ import annotations

import os

import pytest


def _extra(module: str):
    """The optional extra's module; CI installs ``spiqgan[qiskit]``, so there its absence fails."""
    try:
        return __import__(module)
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail(f"{module} is missing; CI installs the optional extra spiqgan[qiskit]")
        pytest.skip(f"{module} is not installed (pip install 'spiqgan[qiskit]')")


@pytest.fixture(scope="session")
def qiskit():
    _extra("qiskit_aer")
    _extra("qiskit_qasm3_import")
    return _extra("qiskit")


@pytest.fixture(scope="session")
def pennylane():
    return _extra("pennylane")
