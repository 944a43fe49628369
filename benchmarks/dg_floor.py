"""The dichotomized Gaussian's eigenvalue floor, chosen inside the training repeats.

Where the DG's pairwise targets admit no joint Gaussian (at t = 10 on ten neurons the latent correlation
matrix has eigenvalues down to about -5), its eigenvalues are clipped at a floor. Samples hardly depend on
the floor; the likelihood does: a floor near 0 leaves directions of almost no variance, the orthant
probabilities of windows that cross them are astronomically small, and their GHK estimates heavy-tailed.
This script picks the floor without touching the held-out repeats: each group's training repeats (the
first two thirds) are split again by repeats, the DG fitted on the first two thirds of them and scored on
the rest (validation NLL in bits per window, GHK with ``--draws`` draws per distinct window, and the
statistics' error ratios against the validation repeats' own floor). Groups are the seeded groups of
``verdicts.py``.

    python benchmarks/dg_floor.py --size 10 --timesteps 10 --groups 5
    python benchmarks/dg_floor.py --size 20 --timesteps 1 --groups 3
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from verdicts import DATA, REPEAT, group_neurons  # noqa: E402

from spiqgan.data.loaders import load_raster  # noqa: E402
from spiqgan.evaluation.scoring import evaluate  # noqa: E402
from spiqgan.models import make_model  # noqa: E402

FLOORS = (1e-6, 1e-3, 1e-2, 0.05, 0.1, 0.2)
SHOWN = ("covariance", "k_probability", "autocorrelogram", "spike_count")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DATA)
    parser.add_argument("--size", type=int, default=10)
    parser.add_argument("--timesteps", type=int, default=10)
    parser.add_argument("--groups", type=int, default=5)
    parser.add_argument("--draws", type=int, default=200)
    parser.add_argument("--floors", default=",".join(map(str, FLOORS)))
    args = parser.parse_args()
    floors = [float(f) for f in args.floors.split(",")]
    raster = load_raster(args.data_dir / "recording_40_neurons.mat", key="data", repeat_length=REPEAT)
    print(f"(n, t) = ({args.size}, {args.timesteps}); validation NLL, bits per window (+- shared se); "
          f"ratios to the validation floor: {', '.join(SHOWN)}")
    for g in range(args.groups):
        train, _ = raster.select_neurons(group_neurons(g, args.size)).split()  # the held-out third is not used
        inner, valid = train.split()
        x, starts = inner.windows(args.timesteps, return_starts=True)
        v, v_reps = valid.windows(args.timesteps, return_repeats=True)
        for floor in floors:
            begin = time.perf_counter()
            model = make_model("dg", n_neurons=args.size, n_timesteps=args.timesteps,
                               eigenvalue_floor=floor).fit(x, starts=starts)
            est = model.estimate_log_likelihood(v, draws=args.draws)
            ev = evaluate(model.sample(4 * len(v), seed=1), v, reference_repeats=v_reps)
            ratios = {r.statistic: r.ratio for r in ev.rows}
            print(f"group {g} floor {floor:g}: NLL {-est.log_probs.mean() / np.log(2):10.3f} "
                  f"+- {est.shared_se / np.log(2):.3f}  " + "  ".join(f"{ratios[k]:.2f}" for k in SHOWN if k in ratios
                                                                      and ratios[k] is not None)
                  + f"  ({time.perf_counter() - begin:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
