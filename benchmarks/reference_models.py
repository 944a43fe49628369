"""The first rows of the results table: real held-out data and classical models of the salamander recording.

For n = 10 neurons (0-9) and t = 1 and t = 10, evaluates against the held-out
repeats (198-296; held-out data itself against the training repeats 0-197):

* held-out real data (as "generated") versus the training repeats,
* the K-pairwise maximum-entropy samples and the dichotomized-Gaussian samples
  shipped in ../shared (both fitted by their authors to the whole recording),
* an independent-Bernoulli model fitted to the training repeats.

Prints a markdown table (error / floor for every statistic) and writes the
JSON reports and figures under ``--out``. Run time: about a minute on 2 cores.

    python benchmarks/reference_models.py --out runs/reference_models
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from spiqgan.models.classical.bernoulli import IndependentBernoulli
from spiqgan.evaluation.scoring import STATISTICS, evaluate
from spiqgan.data.loaders import load_raster, load_samples
from spiqgan.evaluation.report import save_evaluation

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "salamander-retina"
NEURONS = "0-9"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=Path("runs/reference_models"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    start = time.perf_counter()
    full = load_raster(args.data_dir / "recording_40_neurons.mat", repeat_length=953)
    raster = full.select_neurons(NEURONS)
    train, test = raster.split()
    header = "| model | t | windows compared | " + " | ".join(label for _, _, label in STATISTICS) + " |"
    lines = [header, "|" + "---|" * (3 + len(STATISTICS))]
    for t in (1, 10):
        test_w, test_reps = test.windows(t, return_repeats=True)
        train_w, train_reps = train.windows(t, return_repeats=True)
        cases = {
            "held-out real data (vs training repeats)": (test_w, train_w, train_reps),
            "K-pairwise maximum entropy": (
                load_samples(args.data_dir / "k_pairwise_samples_40_neurons.mat", data_n_neurons=full.n_neurons,
                             selection=NEURONS, timesteps=t, repeat_length=953, allow_partial_repeat=True), test_w, test_reps),
            "dichotomized Gaussian": (
                load_samples(args.data_dir / "dichotomized_gaussian_samples_40_neurons.mat",
                             data_n_neurons=full.n_neurons, selection=NEURONS, timesteps=t, repeat_length=953),
                test_w, test_reps),
            "independent Bernoulli (fit to training repeats)": (
                IndependentBernoulli().fit(train_w).sample(test_w.shape[0], seed=args.seed), test_w, test_reps),
        }
        for name, (gen, ref, reps) in cases.items():
            ev = evaluate(gen, ref, reference_repeats=reps, seed=args.seed)
            slug = name.split(" (")[0].replace(" ", "_").replace("-", "_").lower()
            save_evaluation(ev, gen, ref, args.out / f"{slug}_t{t}", metadata={"model": name, "neurons": NEURONS})
            cells = []
            for row in ev.rows:
                if row.ratio is None:
                    cells.append("n/a")
                else:
                    cells.append(f"{row.error:.3g} ({row.ratio:.1f}x)")
            lines.append(f"| {name} | {t} | {ev.n_compared} | " + " | ".join(cells) + " |")
        floor_ev = ev  # the floor depends only on the reference: print it once per t
        cells = ["n/a" if r.floor is None else f"{r.floor:.3g}" for r in floor_ev.rows]
        lines.append(f"| *noise floor (held-out halves)* | {t} | {floor_ev.n_compared} | " + " | ".join(cells) + " |")
    print("\n".join(lines))
    metrics = ", ".join(f"{label}: {metric}" for _, metric, label in STATISTICS)
    print(f"\n(error (error / noise floor); metrics: {metrics}; {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
