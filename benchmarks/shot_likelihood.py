"""How the default model's fit degrades when its likelihood is estimated from N shots per circuit instead of exactly.

On a device, the probability that step s's circuit (at a latent value, given the earlier steps) gives
a training window's pattern is a frequency among N shots, and its gradient a parameter-shift
difference of two more such frequencies. This script fits the default model (cry, neurons 0-3 of the
salamander recording, (n, t) = (4, 1) and (4, 5)) with exactly that noise, simulated:

* every evaluation replaces each probability p of the likelihood by a shot estimate,
  ``(Binomial(N, p) + 1/2) / (N + 2^n / 2)`` (add-half smoothing: a pattern not seen in N shots
  must not have probability 0), independently per probability;
* its gradient is the exact derivative of p (the parameter-shift rule's mean) plus the shift rule's
  shot noise: two shifted probabilities from N shots each, variance ``p(1 - p) / 2N`` per parameter
  and probability (the shifted probabilities taken as p), summed through the chain rule;
* the optimizer is Adam (``--steps`` steps, learning rate ``--lr``), since L-BFGS's line search needs
  exact values; ``N = exact`` with the same Adam run separates the optimizer's effect from the shots'.

Each fit is then sampled exactly and scored on the held-out repeats (error / noise floor); the
default L-BFGS fit is the first row. Prints a markdown table, writes ``--out/results.json`` and draws
``--figure``. About 6 minutes on 2 cores.

    python benchmarks/shot_likelihood.py --out runs/shot_likelihood --figure docs/figures/shot_likelihood.png
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from spiqgan.evaluation.scoring import STATISTICS, evaluate
from spiqgan.io.atomic import write_json

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "salamander-retina"
SIZES = [(4, 1), (4, 5)]
SHOTS = [None, 100, 300, 1000, 3000, 10000]


def fit_with_shots(train_w: np.ndarray, shots: int | None, steps: int, lr: float, seed: int):
    """A cry Born machine (default hyperparameters) fitted by Adam on a shot-estimated likelihood."""
    import torch

    from spiqgan.models.born import BornMachine

    model = BornMachine(family="cry", seed=seed)
    p = model.resolved_params()
    p["n_timesteps"], p["n_neurons"] = train_w.shape[1:]
    n = p["n_neurons"]
    values = model._initial(train_w, p)
    trained = {k: torch.nn.Parameter(v) for k, v in values.items() if k != "pad_"}
    z, w = model._latent(p)
    logw = torch.log(w)
    unique, counts = np.unique(train_w.reshape(len(train_w), -1), axis=0, return_counts=True)
    x = torch.as_tensor(unique.reshape(-1, *train_w.shape[1:]), dtype=torch.float64)
    weight = torch.as_tensor(counts / counts.sum(), dtype=torch.float64)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(trained.values(), lr=lr)
    penalized = ("pairs_", "loadings_", "memory_", "own_")
    for _ in range(steps):
        opt.zero_grad()
        v = {**trained, "pad_": values["pad_"]}
        prob = model._step_log_probs(v, x, z).exp()  # (K, B, t): each circuit's probability of each pattern
        if shots is None:
            used = prob
        else:
            with torch.no_grad():
                hits = torch.binomial(torch.full_like(prob, float(shots)), prob.clamp(0, 1), generator=gen)
                estimate = (hits + 0.5) / (shots + 0.5 * 2**n)
            used = prob + (estimate - prob).detach()  # the shot estimate's value, the exact derivative
            used.retain_grad()
        loss = -(model._forward(torch.log(used), logw, v["stay_"]) * weight).sum()
        loss = loss + 0.5 * p["l2"] * sum((trained[k] ** 2).sum() for k in penalized)
        loss.backward()
        if shots is not None:  # the parameter-shift rule's shot noise, through the chain rule
            var = float((used.grad**2 * prob.detach() * (1 - prob.detach()) / (2 * shots)).sum())
            with torch.no_grad():
                for param in (q for q in trained.values() if q.grad is not None):
                    param.grad += math.sqrt(var) * torch.randn(param.shape, generator=gen, dtype=param.dtype)
        opt.step()
    for k, value in trained.items():
        setattr(model, k, value.detach().numpy().copy())
    model.pad_ = values["pad_"].numpy().copy()
    model.params_, model.history_ = p, []
    if model._memory(p) or model._memory(p, "history"):
        model._calibrate(train_w.mean(0, dtype=np.float64), p)
    model._fitted_flag = True
    return model


def run_case(n: int, t: int, shots: int | str | None, steps: int, lr: float, seed: int) -> dict:
    import torch

    from born_fit import split
    from spiqgan.models.registry import make_model

    torch.set_num_threads(1)
    train_w, _, test_w, test_reps, train_starts = split(DATA, n, t)
    start = time.perf_counter()
    if shots == "lbfgs":
        model = make_model("cry", n, t, seed=seed).fit(train_w, starts=train_starts)
    else:
        model = fit_with_shots(train_w, shots, steps, lr, seed)
    seconds = time.perf_counter() - start
    nll = -float(model.log_likelihood(test_w).mean())
    ev = evaluate(model.sample(len(test_w), seed=1000 + seed), test_w, reference_repeats=test_reps, seed=0)
    return {"n": n, "t": t, "shots": shots, "seed": seed, "seconds": seconds, "test_nll": nll,
            "ratios": {r.statistic: r.ratio for r in ev.rows}}


def figure(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(SIZES), figsize=(12, 4.2), sharey=True)
    for ax, (n, t) in zip(axes, SIZES):
        rows = [r for r in results if (r["n"], r["t"]) == (n, t)]
        finite = sorted((r for r in rows if isinstance(r["shots"], int)), key=lambda r: r["shots"])
        for k, (stat, _, label) in enumerate(STATISTICS):
            if any(r["ratios"][stat] is None for r in rows):
                continue  # not defined at this size (t = 1 has no autocorrelogram)
            colour = f"C{k}"
            ax.plot([r["shots"] for r in finite], [r["ratios"][stat] for r in finite], "o-" if k % 2 else "s--",
                    ms=3, color=colour, label=label)
            exact = [r for r in rows if r["shots"] is None]
            if exact:
                ax.axhline(exact[0]["ratios"][stat], color=colour, ls=":", lw=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("shots per circuit and probability (N)")
        ax.set_title(f"cry (default), (n, t) = ({n}, {t})")
    axes[0].set_ylabel("held-out error / noise floor")
    axes[-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1))
    fig.suptitle("Likelihood estimated from N shots; dotted: the exact likelihood, same Adam fit "
                 "(python benchmarks/shot_likelihood.py)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("runs/shot_likelihood"))
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--lr", type=float, default=0.03)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--figure", type=Path, default=None)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args()
    cases = [(n, t, s, args.steps, args.lr, args.seed) for n, t in SIZES for s in ["lbfgs"] + SHOTS]
    saved = args.out / "results.json"
    if saved.exists():  # an earlier run's fits (delete the file to fit again)
        results = json.loads(saved.read_text())
    else:
        with ProcessPoolExecutor(args.jobs) as pool:
            results = list(pool.map(run_case, *zip(*cases)))
        write_json(saved, results)
    from born_fit import ratio_cells, table_head

    print(f"Adam, {args.steps} steps, learning rate {args.lr}, seed {args.seed}; L-BFGS: the default fit")
    print("\n".join(table_head(["(n, t)", "likelihood", "held-out NLL", "seconds"])))
    for r in results:
        how = {"lbfgs": "exact, L-BFGS (default)", None: "exact, Adam"}.get(r["shots"], f"N = {r['shots']}, Adam")
        print(f"| ({r['n']}, {r['t']}) | {how} | {r['test_nll']:.4f} | {r['seconds']:.0f} | {ratio_cells(r['ratios'])} |")
    if args.figure is not None:
        figure(results, args.figure)
        print(f"wrote {args.figure}")


if __name__ == "__main__":
    main()
