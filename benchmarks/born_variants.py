"""One seed of Born-machine variants at one size, on the protocol of ``born_fit.py``.

Each argument after the size is a model and options, ``name:key=value:key=value``;
every variant is fitted on repeats 0-197 of neurons 0..n-1 (seed 0, or ``--seed S``; one torch
thread), samples as many windows as are held out and is judged on repeats
198-296. Prints one line per variant: parameters, seconds, error / floor.

    python benchmarks/born_variants.py 10x10 cry:calibrate=0 cry:calibrate=1 cry:latent_dim=2:latent_nodes=6
    python benchmarks/born_variants.py 10x10 --seed 1 cry:l2=0.001
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from born_fit import DATA, split  # noqa: E402

from spiqgan.baselines import make_model  # noqa: E402
from spiqgan.evaluation.scoring import evaluate  # noqa: E402


def _value(text: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def main(argv: list[str]) -> None:
    seed = 0
    if "--seed" in argv:
        at = argv.index("--seed")
        seed = int(argv[at + 1])
        argv = argv[:at] + argv[at + 2:]
    if len(argv) < 2 or "x" not in argv[0]:
        raise SystemExit(__doc__)
    n, t = map(int, argv[0].split("x"))
    torch.set_num_threads(1)
    train_w, test_w, test_reps = split(DATA, n, t)
    for spec in argv[1:]:
        name, *opts = spec.split(":")
        options = {k: _value(v) for k, v in (o.split("=", 1) for o in opts)}
        start = time.perf_counter()
        model = make_model(name, n, t, seed=seed, **options).fit(train_w)
        generated = model.sample(len(test_w), seed=1000 + seed)
        seconds = time.perf_counter() - start
        rows = evaluate(generated, test_w, reference_repeats=test_reps, seed=0).rows
        ratios = {r.statistic: round(r.ratio, 2) for r in rows if r.ratio is not None}
        print(spec, f"seed {seed}", model.n_parameters, f"{seconds:.0f}s", ratios, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
