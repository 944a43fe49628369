"""One seed of Born-machine variants at one size, on the protocol of ``born_fit.py``.

Each argument after the size is a model and options, ``name:key=value:key=value``;
every variant is fitted on repeats 0-197 of neurons 0..n-1 (``--first F``: F..F+n-1; seed 0, or
``--seed S``; one torch thread), samples as many windows as are held out and is judged on repeats
198-296. Prints one line per variant: parameters, seconds, error / floor; with
``--draws D``, D sample sets of the one fitted model, each with its tail: the most
spikes in a window and, per neuron, the windows in which it fires in at least 80 %
of the bins (the same for the training and held-out windows first).

    python benchmarks/born_variants.py 10x10 cry:calibrate=0 cry:calibrate=1 cry:latent_dim=2:latent_nodes=6
    python benchmarks/born_variants.py 10x10 --seed 1 cry:l2=0.001
    python benchmarks/born_variants.py 10x10 --seed 1 --draws 3 cry
    python benchmarks/born_variants.py 20x1 --first 20 cry cry:count_term=1
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from born_fit import DATA, split  # noqa: E402

from spiqgan.models.registry import make_model  # noqa: E402
from spiqgan.evaluation.scoring import evaluate  # noqa: E402


def _value(text: str) -> bool | int | float | str:
    if text in ("true", "false"):
        return text == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def model_and_options(spec: str) -> tuple[str, dict]:
    """``"name:key=value:..."`` (e.g. ``rbm:hidden=5``, ``dg:stimulus_locked=false``) as ``(name, options)``."""
    name, *opts = spec.split(":")
    return name, {k: _value(v) for k, v in (o.split("=", 1) for o in opts)}


def _option(argv: list[str], flag: str, default: int) -> tuple[int, list[str]]:
    if flag not in argv:
        return default, argv
    at = argv.index(flag)
    return int(argv[at + 1]), argv[:at] + argv[at + 2:]


def tail(windows: np.ndarray) -> str:
    """The most spikes in a window, and per neuron the windows where it fires in >= 80 % of the bins."""
    t = windows.shape[1]
    saturated = (windows.sum(1) >= 0.8 * t).sum(0)
    return f"most spikes in a window {int(windows.sum((1, 2)).max())}, saturated windows per neuron {saturated.tolist()}"


def main(argv: list[str]) -> None:
    seed, argv = _option(argv, "--seed", 0)
    draws, argv = _option(argv, "--draws", 1)
    first, argv = _option(argv, "--first", 0)
    if len(argv) < 2 or "x" not in argv[0]:
        raise SystemExit(__doc__)
    n, t = map(int, argv[0].split("x"))
    torch.set_num_threads(1)
    train_w, _, test_w, test_reps, train_starts = split(DATA, n, t, first)
    if draws > 1:
        print(f"training windows ({len(train_w)}): {tail(train_w)}\nheld-out windows ({len(test_w)}): {tail(test_w)}")
    for spec in argv[1:]:
        name, options = model_and_options(spec)
        start = time.perf_counter()
        model = make_model(name, n, t, seed=seed, **options).fit(train_w, starts=train_starts)
        seconds = time.perf_counter() - start
        for draw in range(draws):
            generated = model.sample(len(test_w), seed=1000 + seed + 100 * draw)
            rows = evaluate(generated, test_w, reference_repeats=test_reps, seed=0).rows
            ratios = {r.statistic: round(r.ratio, 2) for r in rows if r.ratio is not None}
            print(spec, f"neurons {first}-{first + n - 1}", f"seed {seed}", model.n_parameters, f"{seconds:.0f}s", ratios, flush=True)
            if draws > 1:
                print(f"  draw {draw}: {tail(generated)}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
