"""Verdicts by held-out likelihood, over several groups of neurons and seeds, with paired intervals.

For ``--groups`` random groups of ``n`` of the 40 shared neurons (group ``g`` drawn with seed ``g``;
groups of 10 of 40 overlap, and the script prints how much), every model is fitted with its defaults to
the training repeats (0-197) and scores the held-out repeats (198-296) by its log-likelihood: exact, or
for Ising and K-pairwise beyond 16 neurons with the partition function by annealed importance sampling
(its standard error, shared by every window, inside the intervals; the table names the method), for the
stimulus-locked DG by orthant probabilities (GHK) mixed over the movie bins a window may start at. Born
machines are fitted once per seed (``--seeds``); the convex fits (independent, Ising, K-pairwise) do not
depend on the seed and are fitted once per group.

Reported, in bits per window:

* per group and seed, each model's held-out NLL;
* for each pair ``a - b`` of ``--pairs``: the paired difference per group and seed with its bootstrap
  interval over held-out repeats and its verdict ("better" only where the interval excludes 0, else
  "level"), how many of the group x seed cells each way, and the mean difference over all cells with
  one joint interval (the held-out repeats are the same for every group, so one resampling of repeats
  serves them all). Intervals are Bonferroni-corrected for the number of pairs (each at
  ``1 - 0.05 / pairs``).

``--folds K`` (K >= 2) replaces the default split (the last third of the repeats held out) by blocked
cross-validation: each of K contiguous blocks of repeats held out in turn
(:meth:`spiqgan.data.raster.SpikeRaster.fold`), one row per fold, so that drift over the recording
shows.

    python benchmarks/verdicts.py --out runs/verdicts    # (10, 1), 5 groups x 3 seeds; about 3 min
    python benchmarks/verdicts.py --out runs/verdicts --folds 3 --seeds 1   # blocked, 3 folds
    python benchmarks/verdicts.py --out runs/verdicts --size 20x1 --models cry,rbm,ising,kpairwise,bernoulli \
        --pairs cry-ising,cry-kpairwise,cry-rbm,kpairwise-ising   # n = 20: groups overlap (the table says how much)
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np

from born_variants import model_and_options  # noqa: E402 (benchmarks/ is on the path when run as a script)
from spiqgan.data.loaders import load_raster
from spiqgan.evaluation.likelihood import bootstrap_means, compare_nll, percentile_interval, widen
from spiqgan.experiments.compare import neuron_groups
from spiqgan.io.atomic import write_text

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "salamander-retina"
REPEAT = 953
#: the fits that do not depend on the seed (convex, exact; Ising and K-pairwise only up to 16 neurons; the DG's
#: moment fit, whose likelihood estimate is then seeded once)
SEEDLESS = ("bernoulli", "ising", "kpairwise", "dg")


def group_neurons(group: int, n: int, total: int = 40) -> list[int]:
    """The neurons of group ``group``: ``n`` of ``total`` drawn with seed ``group``, sorted (as ``spiqgan compare
    --groups``)."""
    return neuron_groups(range(total), n, group + 1)[group]


def windows(data_dir: Path, neurons: list[int], t: int, fold: int | None = None, n_folds: int = 1):
    """Training windows and their start bins, held-out windows and their repeats: the default split, or blocked fold
    ``fold``."""
    recording = load_raster(data_dir / "recording_40_neurons.mat", repeat_length=REPEAT)
    selected = recording.select_neurons(",".join(map(str, neurons)))
    train, test = selected.split() if fold is None else selected.fold(fold, n_folds)
    return *train.windows(t, return_starts=True), *test.windows(t, return_repeats=True)


def run_fit(model: str, group: int, n: int, t: int, seed: int, fold: int | None, n_folds: int, data_dir: str,
            out: str) -> str:
    """Fit one model to one group and save its held-out log-probabilities (one torch thread)."""
    import torch

    from spiqgan.models.registry import make_model

    torch.set_num_threads(1)
    train_w, train_starts, test_w, test_reps = windows(Path(data_dir), group_neurons(group, n), t, fold, n_folds)
    start = time.perf_counter()
    name, options = model_and_options(model)  # e.g. rbm:hidden=5, a model with options
    fitted = make_model(name, n, t, seed=seed, **options).fit(train_w, starts=train_starts)
    path = Path(out) / "runs" / f"{_slug(model)}_n{n}_t{t}_g{group}_s{seed}{_fold_tag(fold, n_folds)}.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    found = fitted.estimate_log_likelihood(test_w)  # exact, or AIS (Ising, K-pairwise), GHK orthants (DG)
    np.savez(tmp, log_probs=found.log_probs, repeats=test_reps, shared_se=found.shared_se, method=found.method, bias=found.bias,
             parameters=fitted.n_parameters, seconds=time.perf_counter() - start)
    os.replace(tmp, path)
    return str(path)


def _slug(model: str) -> str:
    return model.replace(":", "_").replace("=", "-")


def _fold_tag(fold: int | None, n_folds: int) -> str:
    return "" if fold is None else f"_f{fold}of{n_folds}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=Path("runs/verdicts"))
    parser.add_argument("--size", default="10x1", help="n x t (default 10x1)")
    parser.add_argument("--groups", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--models", default="cry,iqp,bitflip,ising,kpairwise,bernoulli")
    parser.add_argument("--pairs", default="cry-ising,cry-kpairwise,iqp-bitflip,cry-iqp,kpairwise-ising")
    parser.add_argument("--folds", type=int, default=1, help="blocked cross-validation folds (1: the default split)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args()
    n, t = map(int, args.size.split("x"))
    models = args.models.split(",")
    pairs = [tuple(p.split("-", 1)) for p in args.pairs.split(",") if p]
    groups = range(args.groups)
    seeds = range(args.seeds)
    folds: list[int | None] = [None] if args.folds < 2 else list(range(args.folds))

    def seed_of(m: str, s: int) -> int:  # beyond 16 neurons Ising and K-pairwise are fitted by Gibbs sampling: seeded
        name = m.split(":")[0]  # a model with options, e.g. dg:stimulus_locked=false
        return 0 if name in SEEDLESS and (n <= 16 or name in ("bernoulli", "dg")) else s

    def path(m: str, g: int, s: int, f: int | None) -> Path:
        return args.out / "runs" / f"{_slug(m)}_n{n}_t{t}_g{g}_s{seed_of(m, s)}{_fold_tag(f, args.folds)}.npz"

    todo = sorted({(m, g, seed_of(m, s), f) for m in models for g in groups for s in seeds
                   for f in folds if not path(m, g, s, f).exists()}, key=str)
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = {pool.submit(run_fit, m, g, n, t, s, f, args.folds, str(args.data_dir), str(args.out)): (m, g, s, f)
                   for m, g, s, f in todo}
        for fut in as_completed(futures):
            fut.result()
            m, g, s, f = futures[fut]
            print(f"fitted {m} group {g} seed {s}" + ("" if f is None else f" fold {f}"), flush=True)

    split = "the default split" if folds == [None] else f"blocked cross-validation, {args.folds} folds"
    lines = [f"# Held-out NLL at (n, t) = ({n}, {t}), bits per window: {args.groups} groups x {args.seeds} seeds, "
             f"{split}",
             "", "Groups (seeded draws of neurons from the 40 shared ones):", ""]
    members = {g: group_neurons(g, n) for g in groups}
    for g in groups:
        lines.append(f"- group {g}: neurons {', '.join(map(str, members[g]))}")
    shared = [len(set(members[a]) & set(members[b])) for a in groups for b in groups if a < b]
    if shared:
        lines.append(f"- neurons two groups share: {min(shared)} to {max(shared)} (mean {np.mean(shared):.1f})")
    data = {(m, g, s, f): np.load(path(m, g, s, f)) for m in models for g in groups for s in seeds for f in folds}
    lines += ["", "| model | fold | parameters | NLL, mean over groups and seeds | range over groups and seeds | "
              "method |", "|---|---|---|---|---|---|"]

    def shared_se(m: str, g: int, s: int, f: int | None) -> float:  # files written before AIS hold none
        return float(data[(m, g, s, f)]["shared_se"]) if "shared_se" in data[(m, g, s, f)] else 0.0

    for f in folds:
        for m in models:
            nll = [-data[(m, g, s, f)]["log_probs"].mean() / np.log(2) for g in groups for s in seeds]
            params = sorted({int(data[(m, g, s, f)]["parameters"]) for g in groups for s in seeds})
            se = max(shared_se(m, g, s, f) for g in groups for s in seeds) / np.log(2)
            method = str(data[(m, groups[0], seeds[0], f)]["method"]) if "method" in data[(m, 0, 0, f)] else "exact"
            method += f" (shared standard error up to {se:.4f} bits)" if se else ""
            biases = [float(data[(m, g, s, f)]["bias"]) for g in groups for s in seeds if "bias" in data[(m, g, s, f)]]
            if any(biases):  # an estimator's delta-method bias, on the NLL: stated, not subtracted
                method += f", estimated bias on the NLL up to {-min(biases) / np.log(2):+.1e} bits (not subtracted)"
            lines.append(f"| {m} | {'default' if f is None else f} | {params[0]} | {np.mean(nll):.4f} | "
                         f"{min(nll):.4f} to {max(nll):.4f} | {method} |")
    level = 1 - 0.05 / max(1, len(pairs))
    lines += ["", f"Paired differences NLL(a) - NLL(b) (negative: a fits better), intervals at {100 * level:.1f} % "
              f"(95 % Bonferroni-corrected for {len(pairs)} pairs), bootstrap over the held-out repeats:", "",
              "| a - b | fold | mean difference [joint interval] | cells a better / level / b better | "
              "per cell: difference [interval] |", "|---|---|---|---|---|"]
    for a, b in pairs:
        for f in folds:
            cells, tally, columns = [], {"a": 0, "level": 0, "b": 0}, []
            for g in groups:
                for s in seeds:
                    la, lb = data[(a, g, s, f)]["log_probs"], data[(b, g, s, f)]["log_probs"]
                    d = compare_nll(la, lb, data[(a, g, s, f)]["repeats"], names=(a, b), level=level, seed=0,
                                    shared_se=(shared_se(a, g, s, f), shared_se(b, g, s, f)))
                    tally["a" if d.verdict == f"{a} better" else "b" if d.verdict == f"{b} better" else "level"] += 1
                    cells.append(f"g{g}s{s} {d.difference:+.4f} [{d.low:+.4f}, {d.high:+.4f}]")
                    columns.append((lb - la) / np.log(2))  # NLL(a) - NLL(b) per window, bits
            # the held-out repeats of one fold are the same for every group: one resampling serves them all
            joint = bootstrap_means(np.stack(columns, 1).mean(1), data[(a, 0, 0, f)]["repeats"], seed=0)
            low, high = percentile_interval(joint, level)
            mean = float(np.mean([c.mean() for c in columns]))
            # the estimators' shared errors, independent between fits, average over the cells
            se = np.sqrt(sum(shared_se(a, g, s, f) ** 2 + shared_se(b, g, s, f) ** 2 for g in groups for s in seeds))
            low, high = widen(mean, low, high, float(se) / len(columns) / np.log(2), level)
            lines.append(f"| {a} - {b} | {'default' if f is None else f} | {mean:+.4f} [{low:+.4f}, {high:+.4f}] | "
                         f"{tally['a']} / {tally['level']} / {tally['b']} | {'; '.join(cells)} |")
    text = "\n".join(lines) + "\n"
    name = args.out / f"verdicts_n{n}_t{t}{'' if folds == [None] else f'_{args.folds}folds'}.md"
    write_text(name, text)
    print(text)
    print(json.dumps({"written": str(name)}))


if __name__ == "__main__":
    main()
