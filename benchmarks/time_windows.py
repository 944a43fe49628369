"""Windows of 10 to 30 bins, held out: the default against the temporal DG, the published DG and the data's ceiling.

For each size ``NxT`` of ``--sizes`` and group of ``--groups`` (group ``g``: ``n`` of the 40 shared neurons
drawn with seed ``g``, as ``verdicts.py`` draws them; ``n = 40`` is all of them), every model of
``--models`` is fitted to the training repeats (0-197) with its defaults and a seed of ``--seeds``, and
judged on the held-out repeats (198-296), beside

* **the ceiling**: the training windows themselves, judged as if generated. A model trained on them
  cannot be expected to come closer to the held-out repeats than they are (the recording drifts);
* **the published DG samples** (Spike-GAN's, ``../shared``): they saw every repeat, so for them the
  held-out repeats are in sample.

Each generated set is ``--multiple`` times the held-out windows (random draws, seeded), judged by
:func:`spiqgan.evaluation.scoring.evaluate` (30 draws of the floor), with the runaway check
(:func:`~spiqgan.evaluation.scoring.runaway_check`: the 99.9th percentile of spikes per window and the
saturated fraction against the held-out data's 95 % interval), and all sets of a cell together by
:func:`~spiqgan.evaluation.scoring.bootstrap_ratios` (``--boot`` replicates of the held-out repeats,
paired): each ratio's 95 % interval, and for every pair of ``--pairs`` the paired verdict (95 %,
Bonferroni-corrected for the pairs and statistics). Models with a likelihood: the held-out NLL in bits
per window, and for the pairs the paired difference by :func:`~spiqgan.evaluation.likelihood.compare_nll`.

The table's last column per statistic is the issue's criterion: the model's ratio over the better (the
lower) of the temporal DG's and the published DG's.

    python benchmarks/time_windows.py --out runs/time_windows                      # 10x10 and 10x30, groups 1-3
    python benchmarks/time_windows.py --out runs/time_windows --sizes 40x10 --groups 0
    python benchmarks/time_windows.py --out runs/time_windows --models cry,previous=cry:latent=normal:memory=1 \\
        --pairs cry-previous

A model is ``label=spec`` or ``spec``, the spec as ``born_variants.py`` reads it (``name:key=value:...``).
``previous`` is the default of 2026-12-06 (``cry:latent=normal:latent_nodes=12:memory=1``). Each cell's
result is kept in ``OUT/cells/`` and read back on the next call.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from born_variants import model_and_options  # noqa: E402
from verdicts import DATA, REPEAT, group_neurons, windows  # noqa: E402

from spiqgan.evaluation.likelihood import compare_nll  # noqa: E402
from spiqgan.evaluation.scoring import STATISTICS, bootstrap_ratios, evaluate, runaway_check  # noqa: E402
from spiqgan.io.atomic import write_json, write_text  # noqa: E402

#: the statistics of the issue's criterion
JUDGED = ("covariance", "autocorrelogram", "lag_covariance", "spike_count")
#: the default before issue 30, as a spec
PREVIOUS = "cry:latent=normal:latent_nodes=12:memory=1"
DEFAULT_MODELS = f"cry,previous={PREVIOUS},dg"


def _models(text: str) -> dict[str, str]:
    out = {}
    for item in text.split(","):
        label, _, spec = item.partition("=") if "=" in item.split(":")[0] else ("", "", item)
        out[label or item] = spec or item
    return out


def published_dg(data_dir: Path, neurons: list[int], t: int) -> np.ndarray:
    """The published DG samples' windows of ``t`` bins for ``neurons``, from all 297 repeats."""
    from spiqgan.data.loaders import load_raster

    raster = load_raster(data_dir / "dichotomized_gaussian_samples_40_neurons.mat", repeat_length=REPEAT)
    return raster.select_neurons(",".join(map(str, neurons))).windows(t)


def _runaway(generated: np.ndarray, reference: np.ndarray, repeats: np.ndarray) -> list[dict]:
    """:func:`~spiqgan.evaluation.scoring.runaway_check` of ``generated`` against ``reference``, as JSON rows."""
    return [{"statistic": r.statistic, "generated": r.generated, "held_out": r.held_out, "interval": list(r.interval),
             "inside": r.inside} for r in runaway_check(generated, reference, repeats)]


def judge_cell(n: int, t: int, group: int, seed: int, models: dict[str, str], pairs: list[tuple[str, str]],
               multiple: int, n_boot: int, data_dir: str, threads: int = 1) -> dict:
    """Fit and judge every model on one group and seed (``threads`` torch threads)."""
    import torch

    from spiqgan.models import make_model

    torch.set_num_threads(threads)
    neurons = group_neurons(group, n)
    train_w, train_starts, test_w, test_reps = windows(Path(data_dir), neurons, t)
    generated = {"ceiling (training repeats)": train_w, "published DG": published_dg(Path(data_dir), neurons, t)}
    fit_s, log_probs = {}, {}
    for label, spec in models.items():
        name, options = model_and_options(spec)
        start = time.perf_counter()
        model = make_model(name, n, t, seed=seed, **options).fit(train_w, starts=train_starts)
        fit_s[label] = time.perf_counter() - start
        if name != "dg" and hasattr(model, "log_likelihood"):  # the DG's is an estimate (GHK), minutes at 10x10
            log_probs[label] = model.log_likelihood(test_w)
        generated[label] = model.sample(multiple * len(test_w), seed=1 + 100 * seed)
        print(f"({n}, {t}) group {group} seed {seed}: {label} fitted in {fit_s[label]:.0f} s", flush=True)
    ratios, runaway = {}, {}
    for label, g in generated.items():
        ev = evaluate(g, test_w, reference_repeats=test_reps, seed=0)
        ratios[label] = {r.statistic: r.ratio for r in ev.rows}
        runaway[label] = _runaway(g, test_w, test_reps)
    # in sample: every model and the published DG saw the training repeats; the criterion's other reading
    train_reps = np.cumsum(train_starts == 0) - 1  # a repeat's windows start at bin 0, 1, ...
    in_sample = {label: {r.statistic: r.ratio for r in evaluate(g, train_w, reference_repeats=train_reps, seed=0).rows}
                 for label, g in generated.items() if label != "ceiling (training repeats)"}
    runaway_in_sample = {label: _runaway(g, train_w, train_reps) for label, g in generated.items()
                         if label != "ceiling (training repeats)"}
    defined = [s for s, _, _ in STATISTICS if ratios[next(iter(models))][s] is not None]
    level = 1 - 0.05 / max(1, len(pairs) * len(defined))
    boot = bootstrap_ratios(generated, test_w, test_reps, n_boot=n_boot, level=level, seed=group + 1000 * seed)
    intervals = {label: {s: boot.interval(label, s, 0.95) for s in defined} for label in generated}
    verdicts = {f"{a} - {b}": {s: boot.verdict(a, b, s) for s in defined} for a, b in pairs}
    nll = {label: float(-lp.mean() / np.log(2)) for label, lp in log_probs.items()}
    nll_pairs = {}
    for a, b in pairs:
        if a in log_probs and b in log_probs:
            c = compare_nll(log_probs[a], log_probs[b], test_reps, names=(a, b), level=level)
            nll_pairs[f"{a} - {b}"] = {"difference": c.difference, "interval": [c.low, c.high], "verdict": c.verdict}
    return {"n": n, "t": t, "group": group, "seed": seed, "neurons": neurons, "fit_s": fit_s, "nll": nll,
            "nll_pairs": nll_pairs, "ratios": ratios, "in_sample": in_sample, "runaway_in_sample": runaway_in_sample,
            "intervals": intervals, "verdicts": verdicts,
            "runaway": runaway, "level": level, "windows": {k: len(v) for k, v in generated.items()}}


def _fmt(value: float | None, interval: list | tuple | None = None) -> str:
    if value is None:
        return "-"
    text = f"{value:.2f}" if value < 100 else f"{value:.3g}"
    return text + (f" [{interval[0]:.2f}, {interval[1]:.2f}]" if interval else "")


def _criterion(ratios: dict, models: dict[str, str], labels: dict[str, str]) -> list[str]:
    """Each model's ratio over the better of the temporal DG's and the published DG's, a table's lines."""
    lines = ["| model | " + " | ".join(labels[s] for s in JUDGED) + " |", "|---|" + "---|" * len(JUDGED)]
    for label in models:
        if label == "dg":
            continue
        best = {s: min(v for v in (ratios.get("dg", {}).get(s), ratios["published DG"][s]) if v is not None)
                for s in JUDGED}
        lines.append(f"| {label} | " + " | ".join(f"{ratios[label][s] / best[s]:.2f}" for s in JUDGED) + " |")
    return lines


def report(cells: list[dict], models: dict[str, str], pairs: list[tuple[str, str]]) -> str:
    labels = {s: label for s, _, label in STATISTICS}
    lines = []
    for c in cells:
        n, t = c["n"], c["t"]
        lines += [f"## ({n}, {t}), group {c['group']} (neurons {', '.join(map(str, c['neurons']))}), seed {c['seed']}", "",
                  "Error / noise floor on the held-out repeats, 95 % interval over bootstrap replicates of them:", "",
                  "| windows | " + " | ".join(labels[s] for s in c["intervals"][next(iter(c["intervals"]))]) + " |",
                  "|---|" + "---|" * len(c["intervals"][next(iter(c["intervals"]))])]
        for label, iv in c["intervals"].items():
            lines.append(f"| {label} | " + " | ".join(_fmt(c["ratios"][label][s], iv[s]) for s in iv) + " |")
        lines += ["", "Criterion, each model's ratio over the better of the temporal DG's and the published DG's "
                  f"({'1.5' if n >= 40 else '1.25'} or under passes):", ""]
        lines += _criterion(c["ratios"], models, labels)
        if "in_sample" in c:
            lines += ["", "In sample, every set against the training repeats (which the models and the published DG "
                      "all saw): error / floor, then the criterion:", "",
                      "| windows | " + " | ".join(labels[s] for s in JUDGED) + " |", "|---|" + "---|" * len(JUDGED)]
            lines += [f"| {label} | " + " | ".join(_fmt(r[s]) for s in JUDGED) + " |" for label, r in c["in_sample"].items()]
            lines += [""] + _criterion(c["in_sample"], models, labels)
        for key, title in (("runaway", "held-out"), ("runaway_in_sample", "in sample: training repeats")):
            lines += ["", f"Runaway (generated, {title} [95 %]):", ""]
            for label, rs in c.get(key, {}).items():
                lines.append(f"- {label}: " + "; ".join(
                    f"{r['statistic']}: {r['generated']:.4g} vs {r['held_out']:.4g} [{r['interval'][0]:.4g}, "
                    f"{r['interval'][1]:.4g}] ({'inside' if r['inside'] else 'outside'})" for r in rs))
        lines += ["", "Held-out NLL (bits per window): " + ", ".join(f"{k} {v:.3f}" for k, v in c["nll"].items())
                  + "; fit: " + ", ".join(f"{k} {v:.0f} s" for k, v in c["fit_s"].items())]
        for key, d in c["nll_pairs"].items():
            lines.append(f"- {key}: {d['difference']:+.4f} [{d['interval'][0]:+.4f}, {d['interval'][1]:+.4f}] "
                         f"bits per window at {100 * c['level']:.2f} %: {d['verdict']}")
        for key, v in c["verdicts"].items():
            lines.append(f"- {key}, statistics: " + ", ".join(f"{labels[s]} {w}" for s, w in v.items()))
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=Path("runs/time_windows"))
    parser.add_argument("--sizes", default="10x10,10x30")
    parser.add_argument("--groups", default="1,2,3")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--models", default=DEFAULT_MODELS)
    parser.add_argument("--pairs", default="cry-previous,cry-dg")
    parser.add_argument("--multiple", type=int, default=20, help="generated windows per held-out window")
    parser.add_argument("--boot", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per worker (2 with --workers 1: "
                        "the fit times of the whole 2-core machine)")
    args = parser.parse_args()
    models = _models(args.models)
    pairs = [tuple(p.split("-", 1)) for p in args.pairs.split(",") if p]
    jobs = [(int(s.split("x")[0]), int(s.split("x")[1]), int(g), int(seed))
            for s in args.sizes.split(",") for g in args.groups.split(",") for seed in args.seeds.split(",")]
    cells, todo = {}, []
    for job in jobs:
        path = args.out / "cells" / ("n{}_t{}_g{}_s{}.json".format(*job))
        if path.exists():
            cells[job] = json.loads(path.read_text())
        else:
            todo.append((job, path))
    with ProcessPoolExecutor(max(1, args.workers)) as pool:
        running = {pool.submit(judge_cell, *job, models, pairs, args.multiple, args.boot, str(args.data_dir),
                               args.threads):
                   (job, path) for job, path in todo}
        for done in as_completed(running):
            job, path = running[done]
            cells[job] = done.result()
            write_json(path, cells[job])
    text = "# Windows over time, held out (`python benchmarks/time_windows.py`)\n\n" + \
        report([cells[j] for j in jobs], models, pairs)
    write_text(args.out / "time_windows.md", text)
    print(text)


if __name__ == "__main__":
    main()
