"""Interference at scale: IQP circuits over whole windows against their bit-flip look-alike and classical references.

For each size ``TxN``, neuron group and seed: ``iqp-window`` and ``bitflip-window`` (the same generators and
parameter count, the same MMD fit from expectation values) are fitted to the training repeats and judged on the
held-out repeats, beside

* the published K-pairwise samples (t = 1) or the published DG samples (t > 1), Spike-GAN's (``../shared``; they
  saw every repeat, the held-out ones included),
* the training windows themselves (the ceiling: how far the training repeats are from the held-out ones).

Reported per cell: fit seconds, parameters; the held-out MMD^2 of every model (the models' kernels) with its
interval, and the paired difference IQP - bit-flip (intervals over operator chunks and held-out repeats together,
``spiqgan.experiments.moments.heldout_mmd``); the moment table's ratios (``spiqgan.evaluation.moments``); and how
far the fitted IQP is from the classical regime: MMD^2 between the IQP circuit and the bit-flip model *at IQP's
own angles*, against the ceiling's held-out MMD^2. Cells are kept in ``OUT/cells/`` and read back. Run:

    python benchmarks/iqp_scale.py --out runs/iqp_scale --sizes 1x40,10x20,30x10 --groups 1,2 --seeds 0,1
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from verdicts import DATA, REPEAT, group_neurons, windows  # noqa: E402

from spiqgan.evaluation.moments import MOMENT_STATISTICS, compare_moments, replicate_mean, window_statistics  # noqa: E402,E501
from spiqgan.experiments.moments import (heldout_mmd, model_expval, moment_replicates, sample_replicates,  # noqa: E402
                                         windows_expval)
from spiqgan.io.atomic import write_json, write_text  # noqa: E402

FAMILIES = ("iqp-window", "bitflip-window")


def published(data_dir: Path, neurons: list[int], t: int) -> tuple[str, np.ndarray]:
    """The published reference's windows for ``neurons``: K-pairwise patterns at t = 1, DG windows at t > 1."""
    from spiqgan.data.loaders import load_raster

    if t == 1:
        raster = load_raster(data_dir / "k_pairwise_samples_40_neurons.mat", repeat_length=None,
                             allow_partial_repeat=True)
        return "K-pairwise (published)", raster.select_neurons(",".join(map(str, neurons))).windows(1)
    raster = load_raster(data_dir / "dichotomized_gaussian_samples_40_neurons.mat", repeat_length=REPEAT)
    return "DG (published)", raster.select_neurons(",".join(map(str, neurons))).windows(t)


def classical_distance(iqp, sigmas: list[float], chunks: int = 40, per_chunk: int = 50, samples: int = 4000,
                       seed: int = 0) -> tuple[float, float]:
    """MMD^2 between the fitted IQP circuit and the bit-flip model at the same angles, and its standard error over
    chunks (unbiased: the IQP side's square from two independent estimates)."""
    from spiqgan.quantum.expval import mmd2_terms, sample_operators

    look_alike = copy.copy(iqp)
    look_alike.family = "bitflip-window"
    rng = np.random.default_rng([seed, 11])
    values = []
    for c in range(chunks):
        ops, _ = sample_operators(iqp.generators().n_qubits, sigmas, per_chunk, rng)
        a, _ = iqp.expval(ops, n_samples=samples, seed=2 * c)
        b, _ = iqp.expval(ops, n_samples=samples, seed=2 * c + 1)
        exact, _ = look_alike.expval(ops)
        values.append(np.mean(mmd2_terms(a, b, exact, exact**2)))
    values = np.array(values)
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(len(values)))


def judge_cell(n: int, t: int, group: int, seed: int, data_dir: Path, steps: int | None) -> dict:
    from spiqgan.models import make_model

    neurons = group_neurons(group, n)
    train_w, _, test_w, test_reps = windows(data_dir, neurons, t)
    label, reference = published(data_dir, neurons, t)
    fitted, seconds = {}, {}
    for family in FAMILIES:
        start = time.perf_counter()
        fitted[family] = make_model(family, n, t, seed=seed, **({} if steps is None else {"steps": steps})).fit(train_w)
        seconds[family] = time.perf_counter() - start
        print(f"({t}, {n}) group {group} seed {seed}: {family} fitted in {seconds[family]:.0f} s", flush=True)
    sigmas = fitted["iqp-window"].sigmas()
    sides = {**{k: model_expval(m, 4000) for k, m in fitted.items()}, label: windows_expval(reference),
             "training windows": windows_expval(train_w)}
    mmd = heldout_mmd(sides, test_w, test_reps, sigmas, seed=seed)
    tables = {}
    for k, m in fitted.items():
        mean, var = replicate_mean(moment_replicates(m, t, n))
        tables[k] = compare_moments(mean, var, test_w, test_reps, seed=seed)
    mean, var = replicate_mean(sample_replicates(reference))  # samples of a model: their sampling noise out
    tables[label] = compare_moments(mean, var, test_w, test_reps, seed=seed)
    exact = window_statistics(train_w)  # the training windows' empirical distribution: its statistics are exact
    tables["training windows"] = compare_moments(exact, {k: None if v is None else np.zeros_like(v)
                                                         for k, v in exact.items()}, test_w, test_reps, seed=seed)
    distance, distance_se = classical_distance(fitted["iqp-window"], sigmas, seed=seed)
    iqp = fitted["iqp-window"]
    return {
        "size": [t, n], "group": group, "neurons": neurons, "seed": seed, "fit_seconds": seconds,
        "parameters": {k: int(m.n_parameters) for k, m in fitted.items()},
        "qubits": t * n, "sigmas": sigmas,
        "mmd": {k: {"value": v, "interval": list(ci)} for k, (v, ci) in mmd.models.items()},
        "iqp_minus_bitflip": {"value": mmd.differences[FAMILIES][0], "interval": list(mmd.differences[FAMILIES][1]),
                              "verdict": mmd.verdict(*FAMILIES)},
        "ratios": {k: {r.statistic: r.ratio for r in rows} for k, rows in tables.items()},
        "iqp_vs_look_alike_at_its_angles": {"value": distance, "se": distance_se},
        "largest_iqp_angle": float(np.abs(iqp.theta_).max()),
        "largest_iqp_coupling": float(np.abs(iqp.theta_[[s.startswith("zz") for s in iqp.generators().names]]).max()),
    }


def _fmt(v: float | None, digits: str = ".2f") -> str:
    return "-" if v is None else format(v, digits)


def report(cells: list[dict]) -> str:
    lines = ["| size (t, n) | group | seed | model | params | fit s | held-out MMD^2 [95 %] | "
             + " | ".join(label for _, label in MOMENT_STATISTICS) + " |",
             "|" + "---|" * (6 + len(MOMENT_STATISTICS))]
    for c in cells:
        for k, v in c["mmd"].items():
            params = c["parameters"].get(k, "")
            fit = _fmt(c["fit_seconds"].get(k), ".0f") if k in c["fit_seconds"] else ""
            ratios = " | ".join(_fmt(c["ratios"][k].get(s)) for s, _ in MOMENT_STATISTICS)
            lines.append(f"| {tuple(c['size'])} | {c['group']} | {c['seed']} | {k} | {params} | {fit} | "
                         f"{v['value']:.3e} [{v['interval'][0]:.3e}, {v['interval'][1]:.3e}] | {ratios} |")
    lines += ["", "| size (t, n) | group | seed | IQP - bit-flip, held-out MMD^2 [95 %] | verdict | "
              "MMD^2(IQP, look-alike at IQP's angles) +- se | ceiling's held-out MMD^2 | largest IQP angle |",
              "|---|---|---|---|---|---|---|---|"]
    for c in cells:
        d, far = c["iqp_minus_bitflip"], c["iqp_vs_look_alike_at_its_angles"]
        lines.append(f"| {tuple(c['size'])} | {c['group']} | {c['seed']} | {d['value']:.3e} [{d['interval'][0]:.3e}, "
                     f"{d['interval'][1]:.3e}] | {d['verdict']} | {far['value']:.3e} +- {far['se']:.1e} | "
                     f"{c['mmd']['training windows']['value']:.3e} | {c['largest_iqp_angle']:.3f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--sizes", default="1x40,10x20,30x10", help="TxN, comma separated")
    ap.add_argument("--groups", default="1,2", help="neuron groups (0: all 40 when N = 40)")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--steps", type=int, default=None, help="Adam steps (default: the models')")
    ap.add_argument("--data", default=str(DATA))
    args = ap.parse_args()
    out = Path(args.out)
    (out / "cells").mkdir(parents=True, exist_ok=True)
    cells = []
    for size in args.sizes.split(","):
        t, n = (int(v) for v in size.split("x"))
        groups = [0] if n == 40 else [int(g) for g in args.groups.split(",")]
        for group in groups:
            for seed in (int(s) for s in args.seeds.split(",")):
                path = out / "cells" / f"{t}x{n}_g{group}_s{seed}.json"
                if path.exists():
                    cells.append(json.loads(path.read_text()))
                    continue
                cell = judge_cell(n, t, group, seed, Path(args.data), args.steps)
                write_json(path, cell)
                cells.append(cell)
    text = report(cells)
    write_text(out / "report.md", text + "\n")
    print(text)


if __name__ == "__main__":
    main()
