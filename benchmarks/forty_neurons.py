"""Models of all 40 shared neurons: quantum models against classical ones, on held-out repeats.

Protocol of ``benchmarks/born_fit.py`` at n = 40: trained on repeats 0-197, judged on repeats
198-296 as error / noise floor (JS is undefined at 40 neurons: 2^40 patterns); every model
generates as many windows as are held out; one torch thread per fit. Models, each at t = 1
and t = 10 unless said:

* ``cry``: the default model, as ``spiqgan train --neurons 0-39`` fits it (no other option);
* ``spiqgan chain (mps)``: the SpiQGAN paper's chain circuit (40 feature qubits and one
  ancilla, 5 layers, trainable encoding without mixing: 615 parameters) trained by likelihood
  on the MPS backend (bond dimension 32), 300 steps of 64 noise draws and 256 windows (t = 1 only:
  a step at t = 10 costs 10 sub-generators);
* ``bernoulli`` (independent), ``kpairwise`` (t = 1, Gibbs fit), ``dg`` (temporal at t = 10);
* the published K-pairwise and dichotomized-Gaussian samples in ../shared (fitted by their
  authors to the whole recording, held-out repeats included);
* the training windows themselves.

Writes ``forty_neurons.md``, ``forty_neurons.json`` and the error-against-parameters figure
``forty_neurons.png`` to ``--out``; every case keeps its result in ``--out/runs``, and a rerun
skips what is there. Run time on the 2-core machine: see docs/results.md ("Forty neurons").

    python benchmarks/forty_neurons.py --out runs/forty_neurons
    python benchmarks/forty_neurons.py --out runs/forty_neurons --timesteps 1 --models cry,bernoulli
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from born_fit import DATA, REPEAT, run_cached, split  # noqa: E402

from spiqgan.evaluation.scoring import STATISTICS, evaluate  # noqa: E402
from spiqgan.io.atomic import write_json, write_text  # noqa: E402

N = 40
CHAIN = dict(model="spiqgan", backend="mps", n_layers=5, noise_mixing=False, steps=300, noise_samples=64,
             batch_size=256, eval_every=300)
PUBLISHED = {"published kpairwise": "k_pairwise_samples_40_neurons.mat",
             "published dg": "dichotomized_gaussian_samples_40_neurons.mat"}
STATIC = ("kpairwise", "spiqgan chain (mps)")


def models_at(t: int) -> list[str]:
    names = ["cry", "spiqgan chain (mps)", "bernoulli", "kpairwise", "dg", *PUBLISHED, "training data"]
    return [m for m in names if t == 1 or m not in STATIC]


def _slug(name: str) -> str:
    return name.replace(" ", "-").replace("(", "").replace(")", "")


def run_case(name: str, t: int, seed: int, data_dir: str, out: str) -> dict:
    import torch

    from spiqgan.models.registry import make_model
    from spiqgan.data.loaders import load_samples

    torch.set_num_threads(1)
    train_w, _, test_w, test_reps, train_starts = split(Path(data_dir), N, t)
    start = time.perf_counter()
    params, sampling = None, None
    if name == "training data":
        generated = train_w[np.random.default_rng(seed).choice(len(train_w), len(test_w), replace=False)]
    elif name in PUBLISHED:
        samples = load_samples(Path(data_dir) / PUBLISHED[name], data_n_neurons=N, selection=f"0-{N - 1}",
                               timesteps=t, repeat_length=REPEAT, allow_partial_repeat=True)
        generated = samples[np.random.default_rng(seed).choice(len(samples), len(test_w), replace=False)]
    else:
        kind, options = (("spiqgan", {k: v for k, v in CHAIN.items() if k != "model"})
                         if name == "spiqgan chain (mps)" else (name, {}))
        model = make_model(kind, N, t, seed=seed, **options).fit(train_w, starts=train_starts)
        drawn = time.perf_counter()
        generated, params = model.sample(len(test_w), seed=1000 + seed), model.n_parameters
        sampling = len(test_w) / (time.perf_counter() - drawn)
    seconds = time.perf_counter() - start
    ev = evaluate(generated, test_w, reference_repeats=test_reps, seed=0)
    result = {"model": name, "n": N, "t": t, "seed": seed, "parameters": params, "seconds": seconds,
              "windows_per_second": sampling, "ratios": {r.statistic: r.ratio for r in ev.rows}}
    write_json(Path(out) / "runs" / f"{_slug(name)}_t{t}_s{seed}.json", result)
    return result


def table(results: list[dict]) -> list[str]:
    names = [(s, label) for s, _, label in STATISTICS if s != "js_divergence"]
    lines = ["| model | t | parameters | " + " | ".join(label for _, label in names)
             + " | seconds (fit and sample) | windows sampled per second |", "|" + "---|" * (5 + len(names))]
    for t in sorted({r["t"] for r in results}):
        for name in models_at(t):
            rs = [r for r in results if r["model"] == name and r["t"] == t]
            if not rs:
                continue
            cells = []
            for s, _ in names:
                values = [r["ratios"].get(s) for r in rs if r["ratios"].get(s) is not None]
                cells.append(f"{np.mean(values):.3g}" if values else "n/a")
            label = f"*{name}*" if name == "training data" else name
            params = rs[0]["parameters"] if rs[0]["parameters"] is not None else "n/a"
            rate = [r["windows_per_second"] for r in rs if r.get("windows_per_second")]
            lines.append(f"| {label} | {t} | {params} | " + " | ".join(cells)
                         + f" | {np.mean([r['seconds'] for r in rs]):.0f} | "
                         + (f"{np.mean(rate):.0f} |" if rate else "n/a |"))
    return lines


def targets(results: list[dict]) -> list[str]:
    def mean(name: str, t: int, s: str) -> float | None:
        values = [r["ratios"].get(s) for r in results if r["model"] == name and r["t"] == t]
        return float(np.mean(values)) if values and None not in values else None

    out = []

    def check(text: str, value: float | None, limit: float) -> None:
        if value is not None:
            out.append(f"- {text}: {value:.3g} (limit {limit:g}): "
                       + ("met" if value <= limit else f"missed by {value / limit:.2f}x"))

    for s in ("covariance", "k_probability"):
        cry, ind, kp = mean("cry", 1, s), mean("bernoulli", 1, s), mean("kpairwise", 1, s)
        if cry is not None and ind:
            check(f"(40, 1) cry {s} / independent", cry / ind, 0.2)
        if cry is not None and kp:
            check(f"(40, 1) cry {s} / K-pairwise", cry / kp, 3.0)
    for s in ("autocorrelogram", "spike_count"):
        cry, ind = mean("cry", 10, s), mean("bernoulli", 10, s)
        if cry is not None and ind:
            check(f"(40, 10) cry {s} / independent", cry / ind, 0.5)
    for t, limit in ((1, 15 * 60), (10, 60 * 60)):
        rs = [r for r in results if r["model"] == "cry" and r["t"] == t]
        if rs:
            check(f"(40, {t}) cry fit and sampling seconds", float(np.mean([r["seconds"] for r in rs])), limit)
            if t == 1:  # "hundreds of parameters": the target at t = 1
                check(f"(40, {t}) cry trainable parameters", float(rs[0]["parameters"]), 1000)
    return out


def figure(results: list[dict], path: Path) -> None:
    from spiqgan.evaluation.plotting import plot_error_vs_parameters

    rows = []  # the training data and the published samples (no parameter count): horizontal lines
    for r in results:
        rows.append({"label": r["model"], "model": r["model"], "timesteps": r["t"], "n_parameters": r["parameters"],
                     **{f"{s}_ratio": v for s, v in r["ratios"].items()}})
    stats = [s for s, _, _ in STATISTICS if s != "js_divergence"]
    fig = plot_error_vs_parameters(rows, stats)
    fig.suptitle("40 neurons: error / noise floor on held-out repeats (python benchmarks/forty_neurons.py)")
    fig.savefig(path, dpi=90, bbox_inches="tight")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=Path("runs/forty_neurons"))
    parser.add_argument("--timesteps", default="1,10")
    parser.add_argument("--models", default=None, help="e.g. 'cry,bernoulli' (default: all)")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args()
    chosen = args.models.split(",") if args.models else None
    cases = [(m, t, s) for t in map(int, args.timesteps.split(",")) for m in models_at(t)
             if chosen is None or m in chosen for s in range(args.seeds)]
    done = run_cached(run_case, cases, lambda c: f"{_slug(c[0])}_t{c[1]}_s{c[2]}.json", args.data_dir, args.out,
                      args.jobs)
    report = "\n".join(["(error / noise floor on held-out repeats, mean over seeds; "
                        "command: python benchmarks/forty_neurons.py)", ""] + table(done) + ["", "Targets:"]
                       + targets(done))
    print(report)
    write_text(args.out / "forty_neurons.md", report + "\n")
    write_json(args.out / "forty_neurons.json", done)
    figure(done, args.out / "forty_neurons.png")


if __name__ == "__main__":
    main()
