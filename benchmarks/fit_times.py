"""Wall-clock time of the classical fits that are not checkpointed step by step, at their largest sizes.

Which fits may start over after a kill and which must checkpoint (issue 27) is decided by these times:
the exact Ising and K-pairwise fits (enumeration of 2^n patterns, up to ``max_exact = 16`` neurons)
restart; the dichotomized Gaussian, whose temporal fit solves the latent correlations lag by lag,
checkpoints after each lag. Fitted on the training repeats of the salamander recording in
``../shared``, neurons ``0..n-1``, with the threads torch and numpy choose.

    python benchmarks/fit_times.py     # about 5 minutes on 2 cores
"""

from __future__ import annotations

import time
from pathlib import Path

from spiqgan.data.loaders import load_raster
from spiqgan.models.registry import make_model

RECORDING = Path(__file__).resolve().parents[2] / "shared" / "data" / "salamander-retina" / "recording_40_neurons.mat"
CASES = [("bernoulli", 40, 10), ("ising", 16, 1), ("kpairwise", 16, 1), ("dg", 40, 1), ("dg", 40, 10),
         ("dg", 40, 30)]


def main() -> None:
    train, _ = load_raster(RECORDING, repeat_length=953).split()
    print(f"{'model':<12} {'n':>3} {'t':>3} {'fit (s)':>8}")
    for name, n, t in CASES:
        windows, starts = train.select_neurons(f"0-{n - 1}").windows(t, return_starts=True)
        model = make_model(name, n, t)
        start = time.perf_counter()
        model.fit(windows, starts=starts)
        print(f"{name:<12} {n:>3} {t:>3} {time.perf_counter() - start:>8.2f}", flush=True)


if __name__ == "__main__":
    main()
