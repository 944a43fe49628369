"""Experiments: a run in a folder (:mod:`~spiqgan.experiments.runs`), sweeps of runs
(:mod:`~spiqgan.experiments.sweep`) and their executors (:mod:`~spiqgan.experiments.executors`), the
comparison of models (:mod:`~spiqgan.experiments.compare`) and the sweep report
(:mod:`~spiqgan.experiments.sweep_report`)."""
