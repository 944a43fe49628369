"""Judging windows against held-out data: the statistics (:mod:`~spiqgan.evaluation.statistics`), their
errors against the noise floor (:mod:`~spiqgan.evaluation.scoring`), reports (:mod:`~spiqgan.evaluation.report`)
and figures (:mod:`~spiqgan.evaluation.plotting`, the only module that uses matplotlib)."""

from spiqgan.evaluation.scoring import STATISTICS, Evaluation, evaluate, noise_floor

__all__ = ["evaluate", "noise_floor", "Evaluation", "STATISTICS"]
