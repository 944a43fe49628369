"""How precise is the noise floor? Its relative standard error against the number of draws.

On neurons 0-9 of the salamander recording (held-out repeats; an independent
model fitted to the training repeats as the generated set), for t = 1 and 10
and 10, 20, 30 draws: the time of one evaluation, each statistic's ratio and
the floor's relative standard error over the draws (``floor_se``), and the
spread of the mean floor over 5 seeds. Chose ``spiqgan.evaluation.scoring.DEFAULT_DRAWS``.
Run time: about 2 minutes on 2 cores.

    python benchmarks/floor_spread.py [--data-dir ../shared/data/salamander-retina]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from spiqgan.models.classical.bernoulli import IndependentBernoulli
from spiqgan.evaluation.scoring import STATISTICS, evaluate
from spiqgan.data.loaders import load_raster

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "salamander-retina"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DATA)
    args = parser.parse_args()
    raster = load_raster(args.data_dir / "recording_40_neurons.mat", repeat_length=953).select_neurons("0-9")
    train, test = raster.split()
    names = [name for name, _, _ in STATISTICS]
    print("| t | draws | seconds | " + " | ".join(f"{n} floor se %" for n in names) + " |")
    print("|---" * (3 + len(names)) + "|")
    for t in (1, 10):
        ref, reps = test.windows(t, return_repeats=True)
        gen = IndependentBernoulli().fit(train.windows(t)).sample(ref.shape[0], seed=0)
        for draws in (10, 20, 30):
            start = time.perf_counter()
            ev = evaluate(gen, ref, reference_repeats=reps, n_draws=draws)
            seconds = time.perf_counter() - start
            se = ["-" if r.floor_se is None else f"{100 * r.floor_se:.1f}" for r in ev.rows]
            print(f"| {t} | {draws} | {seconds:.1f} | " + " | ".join(se) + " |", flush=True)
        floors = np.array([[np.nan if r.floor is None else r.floor for r in
                            evaluate(gen, ref, reference_repeats=reps, n_draws=10, seed=s).rows] for s in range(5)])
        with np.errstate(invalid="ignore"):
            spread = 100 * np.std(floors, axis=0, ddof=1) / np.mean(floors, axis=0)
        print(f"| {t} | 10, spread over 5 seeds | - | " + " | ".join("-" if np.isnan(v) else f"{v:.1f}" for v in spread)
              + " |")


if __name__ == "__main__":
    main()
