"""Positive control: can the MMD fit from expectation values see interference when it is there?

Synthetic windows are drawn from a large-angle IQP circuit over a whole window (the ``iqp-window``
generators of ``(t, n)``, every angle uniform in [0, pi/4): up to the angle where a generator is furthest from
a classical bit flip; the fitted models on the recording stay under 0.25). ``iqp-window`` and ``bitflip-window`` are
trained on them exactly as on data and compared on fresh held-out windows:

* the exact held-out NLL (``t n <= 20`` enumerates), difference IQP - bit-flip with a paired bootstrap over
  blocks of held-out windows;
* the held-out MMD^2 with the models' kernels, the difference paired over operator chunks and blocks.

Several truth circuits (seeds), so that one lucky circuit cannot carry the verdict. Run:

    python benchmarks/iqp_control.py --size 2x6 --seeds 0,1,2
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from spiqgan.evaluation.likelihood import compare_nll
from spiqgan.evaluation.statistics import pattern_windows
from spiqgan.experiments.moments import heldout_mmd, model_expval
from spiqgan.models import make_model
from spiqgan.quantum.expval import iqp_probabilities, window_generators


def draw(p: np.ndarray, t: int, n: int, count: int, rng: np.random.Generator) -> np.ndarray:
    return pattern_windows(rng.choice(p.size, size=count, p=p / p.sum()), t, n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="2x6", help="TxN of the windows (t n <= 20)")
    ap.add_argument("--seeds", default="0,1,2", help="truth circuits (and fit seeds)")
    ap.add_argument("--windows", type=int, default=20000, help="training and held-out windows each")
    ap.add_argument("--blocks", type=int, default=100, help="held-out blocks the bootstraps resample")
    ap.add_argument("--steps", type=int, default=None, help="Adam steps (default: the models')")
    ap.add_argument("--max-angle", type=float, default=np.pi / 4, help="the truth's angles: uniform in [0, this)")
    ap.add_argument("--out", default=None, help="write the rows as JSON here")
    args = ap.parse_args()
    t, n = (int(v) for v in args.size.split("x"))
    options = {} if args.steps is None else {"steps": args.steps}
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        g = window_generators(t, n, 1)
        rng = np.random.default_rng([seed, 99])
        truth = torch.as_tensor(rng.uniform(0, args.max_angle, g.n_parameters))
        p = iqp_probabilities(truth, g).numpy()
        train, test = draw(p, t, n, args.windows, rng), draw(p, t, n, args.windows, rng)
        blocks = np.arange(args.windows) % args.blocks
        fitted, seconds = {}, {}
        for family in ("iqp-window", "bitflip-window"):
            start = time.perf_counter()
            fitted[family] = make_model(family, n, t, seed=seed, **options).fit(train)
            seconds[family] = time.perf_counter() - start
        lp = {k: m.log_likelihood(test) for k, m in fitted.items()}
        entropy = float(-(p[p > 0] * np.log2(p[p > 0])).sum())
        nll = compare_nll(lp["iqp-window"], lp["bitflip-window"], blocks, names=("iqp-window", "bitflip-window"),
                          seed=seed)
        mmd = heldout_mmd({k: model_expval(m, 4000) for k, m in fitted.items()}, test, blocks,
                          fitted["iqp-window"].sigmas(), seed=seed)
        diff, (lo, hi) = mmd.differences[("iqp-window", "bitflip-window")]
        row = {"seed": seed, "size": [t, n], "parameters": int(g.n_parameters), "entropy_bits": entropy,
               "nll_iqp": float(-lp["iqp-window"].mean() / np.log(2)), "nll_bitflip": float(-lp["bitflip-window"].mean() / np.log(2)),
               "nll_difference": nll.difference, "nll_interval": [nll.low, nll.high],
               "mmd_iqp": mmd.models["iqp-window"][0], "mmd_bitflip": mmd.models["bitflip-window"][0],
               "mmd_difference": diff, "mmd_interval": [lo, hi], "verdict_nll": "iqp better" if nll.high < 0 else
               "bitflip better" if nll.low > 0 else "level", "verdict_mmd": mmd.verdict("iqp-window", "bitflip-window"),
               "fit_seconds": seconds}
        rows.append(row)
        print(json.dumps(row), flush=True)
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
