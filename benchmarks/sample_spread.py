"""How much one fitted model's error ratios move between sample draws, and how many windows steady them.

Fits the default model (``cry``) once to the training repeats of neurons 0-9, then for each way of
drawing the generated windows draws 5 sets (seeds 0-4) and evaluates each against the held-out repeats
with the default evaluation (30 draws, seed 0, so the floor is the same for all). Ways: ``default``,
what ``spiqgan train`` and ``spiqgan evaluate --run`` use (``evaluate_model``: 10x the held-out
windows stratified on the exact distribution where the model enumerates, else a random sample doubled
until every ratio's sampling standard error is under 3 % or a limit is reached), and ``Kx``, a random sample of K times the held-out windows. Reported per
statistic: the spread (max - min) / median of the ratio over the 5 seeds. The noise left is the
generated side's: the floor and the reference subsets are fixed by the seed.

    python benchmarks/sample_spread.py --size 10x1 --draws default,1x,10x   # about 3 minutes on 2 cores
    python benchmarks/sample_spread.py --size 10x10 --draws default        # about 15 minutes (the fit: 2)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from spiqgan.data.loaders import load_raster
from spiqgan.evaluation.scoring import STATISTICS, evaluate
from spiqgan.experiments.runs import evaluate_model
from spiqgan.models import make_model

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "salamander-retina" / "recording_40_neurons.mat"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--size", default="10x1")
    parser.add_argument("--model", default="cry")
    parser.add_argument("--draws", default="default,1x,10x",
                        help="default (what spiqgan train draws) and/or Kx (a random sample of K x held-out)")
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    n, t = map(int, args.size.split("x"))
    train, test = load_raster(args.data, repeat_length=953).select_neurons(f"0-{n - 1}").split()
    train_w = train.windows(t)
    test_w, test_reps = test.windows(t, return_repeats=True)
    model = make_model(args.model, n, t, seed=0).fit(train_w)
    names = [(name, label) for name, _, label in STATISTICS]
    print(f"{args.model} at ({n}, {t}): ratio spread (max - min) / median over {args.seeds} sample seeds")
    print(f"{'generated windows':<22}" + "".join(f"{label[:14]:>16}" for _, label in names))
    for way in args.draws.split(","):
        ratios = {name: [] for name, _ in names}
        for seed in range(args.seeds):
            if way == "default":
                ev, generated, drawn = evaluate_model(model, test_w, test_reps, sample_seed=seed)
                print(f"  seed {seed}: {drawn}", flush=True)
                drawn = drawn.split(" (")[0].split(" drawn")[0]
            else:
                generated = model.sample(int(way.rstrip("x")) * len(test_w), seed=seed)
                drawn = f"{way} random"
                ev = evaluate(generated, test_w, reference_repeats=test_reps)
            for r in ev.rows:
                ratios[r.statistic].append(r.ratio)
        cells = []
        for name, _ in names:
            v = [x for x in ratios[name] if x is not None]
            cells.append(f"{(max(v) - min(v)) / np.median(v):>15.1%} " if v else f"{'-':>16}")
        print(f"{drawn[:21]:<22}" + "".join(cells), flush=True)


if __name__ == "__main__":
    main()
