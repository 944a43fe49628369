"""Verdicts on the statistics, with paired intervals, over several groups of neurons: models without a likelihood too.

For ``--groups`` random groups of ``n`` of the 40 shared neurons (group ``g`` drawn with seed ``g``, as in
``verdicts.py``), every model is fitted with its defaults to the training repeats (0-197) and judged on
the held-out repeats (198-296) as ``spiqgan train`` judges it (``evaluate_model``: 10x the held-out windows
stratified on the exact distribution where it enumerates, else as many random windows as a 3 % sampling
error asks for). Then ``bootstrap_ratios`` resamples the held-out repeats (``--boot`` replicates, each
with its own floor and each model's own sampling noise) and, for each pair ``a - b`` of ``--pairs`` and
each statistic, gives the paired interval of ``ratio(a) - ratio(b)``, Bonferroni-corrected for the
number of pairs x statistics. Reported: per pair and statistic, the cells (groups) where a is better /
level / b is better, and the median difference.

    python benchmarks/ratio_verdicts.py --out runs/ratio_verdicts                   # (10, 1), 5 groups
    python benchmarks/ratio_verdicts.py --out runs/ratio_verdicts --size 10x10 \\
        --models cry,dg,dg:stimulus_locked=false,kpairwise --pairs cry-dg,cry-dg:stimulus_locked=false
    python benchmarks/ratio_verdicts.py --out runs/ratio_verdicts_seeds --size 10x10 --seeds 3 \\
        --models cry,dg --pairs cry-dg --max-multiple 32     # 5 groups x 3 seeds against the temporal DG
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from born_variants import model_and_options  # noqa: E402
from verdicts import DATA, REPEAT, group_neurons  # noqa: E402

from spiqgan.data.loaders import load_raster  # noqa: E402
from spiqgan.evaluation.scoring import STATISTICS, bootstrap_ratios  # noqa: E402
from spiqgan.experiments.runs import evaluate_model  # noqa: E402
from spiqgan.io.atomic import write_json, write_text  # noqa: E402
from spiqgan.models import make_model  # noqa: E402


def judge_group(group: int, n: int, t: int, models: list[str], pairs: list[tuple[str, str]], n_boot: int,
                level: float, data_dir: Path, seed: int = 0) -> dict:
    recording = load_raster(data_dir / "recording_40_neurons.mat", repeat_length=REPEAT)
    train, test = recording.select_neurons(",".join(map(str, group_neurons(group, n)))).split()
    train_w, train_starts = train.windows(t, return_starts=True)
    test_w, test_reps = test.windows(t, return_repeats=True)
    generated, ratios, drawn = {}, {}, {}
    for spec in models:
        name, options = model_and_options(spec)
        start = time.perf_counter()
        model = make_model(name, n, t, seed=seed, **options).fit(train_w, starts=train_starts)
        ev, generated[spec], drawn[spec] = evaluate_model(model, test_w, test_reps, sample_seed=1 + 100 * seed)
        ratios[spec] = {r.statistic: r.ratio for r in ev.rows}
        print(f"group {group} seed {seed}: {spec} fitted and judged in {time.perf_counter() - start:.0f} s ({drawn[spec]})",
              flush=True)
    boot = bootstrap_ratios(generated, test_w, test_reps, n_boot=n_boot, level=level, seed=group + 1000 * seed)
    out = {"group": group, "seed": seed, "ratios": ratios, "drawn": drawn, "pairs": {}}
    for a, b in pairs:
        out["pairs"][f"{a} - {b}"] = {
            s: {"difference": None if ratios[a][s] is None else ratios[a][s] - ratios[b][s],
                "interval": boot.difference(a, b, s), "verdict": boot.verdict(a, b, s)}
            for s, _, _ in STATISTICS}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=Path("runs/ratio_verdicts"))
    parser.add_argument("--size", default="10x1")
    parser.add_argument("--groups", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=1, help="seeds of every model's fit and sample, per group")
    parser.add_argument("--max-multiple", type=int, default=None,
                        help="at most this many times the held-out windows drawn per model (SPIQGAN_EVAL_MAX_MULTIPLE; "
                             "fewer: wider intervals, each model's sampling noise being inside them)")
    parser.add_argument("--boot", type=int, default=100)
    parser.add_argument("--models", default="cry,dg,dg:stimulus_locked=false,kpairwise,ising")
    parser.add_argument("--pairs", default="cry-dg,cry-dg:stimulus_locked=false,cry-kpairwise,cry-ising")
    args = parser.parse_args()
    n, t = map(int, args.size.split("x"))
    models = args.models.split(",")
    pairs = [tuple(p.split("-", 1)) for p in args.pairs.split(",") if p]
    names = [(s, label) for s, _, label in STATISTICS]
    defined = [s for s, _ in names if not (t == 1 and s in ("autocorrelogram", "lag_covariance"))
               and not (n * t > 20 and s == "js_divergence")]
    level = 1 - 0.05 / (len(pairs) * len(defined))
    if args.max_multiple is not None:
        os.environ["SPIQGAN_EVAL_MAX_MULTIPLE"] = str(args.max_multiple)
    results = []
    for g in range(args.groups):
        for seed in range(args.seeds):
            path = args.out / "groups" / f"n{n}_t{t}_g{g}{f'_s{seed}' if seed else ''}.json"
            if path.exists():
                results.append(json.loads(path.read_text()))
                continue
            results.append(judge_group(g, n, t, models, pairs, args.boot, level, args.data_dir, seed))
            write_json(path, results[-1])
    cells = f"{args.groups} groups x {args.seeds} seeds" if args.seeds > 1 else f"{args.groups} groups"
    lines = [f"# Verdicts on the statistics at (n, t) = ({n}, {t}): {cells}, paired bootstrap over the "
             f"held-out repeats ({args.boot} replicates), intervals at {100 * level:.2f} % (95 % Bonferroni-corrected "
             f"for {len(pairs)} pairs x {len(defined)} statistics)", "",
             "| a - b | statistic | median ratio(a) - ratio(b) | cells a better / level / b better |", "|---|---|---|---|"]
    labels = dict(names)
    for a, b in pairs:
        key = f"{a} - {b}"
        for s in defined:
            cells = [r["pairs"][key][s] for r in results]
            diffs = [c["difference"] for c in cells if c["difference"] is not None]
            better_a = sum(c["verdict"] == f"{a} better" for c in cells)
            better_b = sum(c["verdict"] == f"{b} better" for c in cells)
            lines.append(f"| {key} | {labels[s]} | {np.median(diffs):+.3g} | {better_a} / "
                         f"{len(cells) - better_a - better_b} / {better_b} |")
    text = "\n".join(lines) + "\n"
    write_text(args.out / f"ratio_verdicts_n{n}_t{t}.md", text)
    print(text)


if __name__ == "__main__":
    main()
