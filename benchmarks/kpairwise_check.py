"""Is spiqgan's K-pairwise fit right? Against the published K-pairwise samples of the salamander recording.

The published samples (../shared, Tkačik et al. 2014 via Molano-Mazon et al.
2018) come from a K-pairwise model fitted by its authors to 40 neurons of the
whole recording. This script fits :class:`spiqgan.models.classical.maxent.KPairwise` to the
whole recording too and compares, statistic by statistic (error / noise floor
of :func:`spiqgan.evaluation.scoring.evaluate`; the floor comes from halves of the
compared-with set):

* n = 10 (neurons 0-9), t = 1, exact enumeration: our samples against the
  published samples of those neurons, and each against the data;
* n = 40, t = 1, Gibbs learning (``--steps``): the same, over all 40 neurons,
  and over neurons 0-9 of the 40-neuron fits.

Prints a markdown table. Run time: under a minute on 2 cores.

    python benchmarks/kpairwise_check.py
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from spiqgan.models.classical.maxent import KPairwise
from spiqgan.evaluation.scoring import STATISTICS, evaluate
from spiqgan.data.loaders import load_raster, load_samples

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "salamander-retina"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DATA)
    parser.add_argument("--steps", type=int, default=1000, help="Gibbs learning steps of the 40-neuron fit")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    full = load_raster(args.data_dir / "recording_40_neurons.mat", repeat_length=953)
    labels = [label for name, _, label in STATISTICS if name != "autocorrelogram"]
    lines = ["| comparison | n | fit | " + " | ".join(labels) + " |", "|" + "---|" * (3 + len(labels))]

    def row(name: str, n: int, fit: str, generated, reference) -> None:
        ev = evaluate(generated, reference, seed=args.seed)
        cells = ["n/a" if r.ratio is None else f"{r.ratio:.2f}" for r in ev.rows if r.statistic != "autocorrelogram"]
        lines.append(f"| {name} | {n} | {fit} | " + " | ".join(cells) + " |")

    for n, selection in ((10, "0-9"), (40, None)):
        data = full.select_neurons(selection).windows(1)
        published = load_samples(args.data_dir / "k_pairwise_samples_40_neurons.mat", data_n_neurons=full.n_neurons,
                                 selection=selection, timesteps=1)
        start = time.perf_counter()
        model = KPairwise(steps=args.steps, seed=args.seed).fit(data)
        fit = f"{'exact' if n <= model.max_exact else f'Gibbs, {args.steps} steps'}, {time.perf_counter() - start:.0f} s"
        ours = model.sample(len(published), seed=args.seed + 1)
        row("spiqgan K-pairwise vs published samples", n, fit, ours, published)
        row("spiqgan K-pairwise vs data", n, fit, ours, data)
        row("published samples vs data", n, "(authors')", published, data)
        if n == 40:
            row("neurons 0-9 of the 40-neuron fits: spiqgan vs published", 10, fit, ours[:, :, :10],
                published[:, :, :10])
    print("\n".join(lines))
    print("\n(error / noise floor; the floor from halves of the compared-with set; all of the recording, t = 1)")


if __name__ == "__main__":
    main()
