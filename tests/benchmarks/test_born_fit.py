"""benchmarks/born_fit.py: its summary of the targets (the script is not part of the package; read from its file)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "born_fit.py"


def _module():
    spec = importlib.util.spec_from_file_location("born_fit_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _row(parameters: int, value: float) -> dict:
    return {"parameters": parameters, "covariance": value, "k_probability": value, "js_divergence": value}


def test_targets_without_the_classical_models():
    """``--models cry,iqp,bitflip`` crashed at the end: min() of no classical model."""
    targets = _module().targets
    means = {("cry", 10, 1): _row(65, 2.0), ("iqp", 10, 1): _row(65, 3.0), ("bitflip", 10, 1): _row(65, 2.5)}
    out = targets(means)
    assert out == ["- (10, 1) iqp covariance / its look-alike bitflip's: 1.2 (limit 1): missed by 1.20x",
                   "- (10, 1) iqp js_divergence / its look-alike bitflip's: 1.2 (limit 1): missed by 1.20x"]
    with_ising = targets({**means, ("ising", 10, 1): _row(55, 1.6)})
    assert "- (10, 1) cry (65 parameters) covariance / best classical: 1.25 (limit 1.25): met" in with_ising
