"""How close the Gibbs (Boltzmann-learning) fit of Ising / K-pairwise comes to the exact maximum-likelihood fit.

Beyond ``max_exact`` = 16 neurons the maximum-entropy models are fitted by persistent Gibbs chains and their
likelihood is estimated by annealed importance sampling; at 20 neurons the exact fit still runs (2^20
patterns enumerated, about a minute and 2 GB), so the two fits can be compared by held-out NLL. Group ``g``
is the seeded group of ``verdicts.py``.

    python benchmarks/gibbs_vs_exact.py --size 20 --group 0 --model ising
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
from spiqgan.models import make_model  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DATA)
    parser.add_argument("--size", type=int, default=20)
    parser.add_argument("--group", type=int, default=0)
    parser.add_argument("--model", default="ising", choices=("ising", "kpairwise"))
    args = parser.parse_args()
    recording = load_raster(args.data_dir / "recording_40_neurons.mat", repeat_length=REPEAT)
    train, test = recording.select_neurons(",".join(map(str, group_neurons(args.group, args.size)))).split()
    train_w, test_w = train.windows(1), test.windows(1)
    for label, options in (("gibbs fit, AIS likelihood", {}), ("exact fit and likelihood", {"max_exact": args.size})):
        start = time.perf_counter()
        model = make_model(args.model, args.size, 1, seed=0, **options).fit(train_w)
        fitted = time.perf_counter() - start
        print(f"{args.model}, n = {args.size}, group {args.group}, {label}: fit {fitted:.0f} s; NLL bits per window "
              f"held out {-model.score(test_w) / np.log(2):.4f}, training {-model.score(train_w) / np.log(2):.4f} "
              f"({model.likelihood_method()})", flush=True)


if __name__ == "__main__":
    main()
