"""Speed at scale: the default model's fit and sampling at 40 neurons, side by side with the classical fits.

Every case runs in its own process (its peak resident memory its own) with the same torch threads
(``--threads``, 2 by default: the whole 2-core machine), one after the other in one run. On the
shared recording, neurons 0-39, trained on repeats 0-197 (``benchmarks/born_fit.py``'s split), each
model with its defaults (what ``spiqgan train --model NAME`` fits):

* at t = 1: ``kpairwise``, ``dg`` and ``cry`` (the default); at t = 10: ``dg`` and ``cry``;
* for ``cry``: the fit's seconds and likelihood evaluations, the held-out log-likelihood of every
  held-out window (kept, for paired comparisons), then sampling: windows per second over 200,000
  windows (after one warm-up draw);
* with ``--baseline REV``: the same ``cry`` fits with spiqgan at git revision ``REV`` (a worktree,
  ``PYTHONPATH`` to its ``src``), and the held-out NLL difference (now minus baseline, bits per
  window) with the project's paired bootstrap over the held-out repeats (``compare_nll``, 95 %);
* with ``--baseline REV --groups``: only that paired comparison, on neurons 0-9, 10-19, 20-29 and
  30-39 at t = 1 and t = 10 (one thread per fit, so that it can run beside other work);
* the machine's memory bandwidth (a 256 MB copy) and float64 matmul rate, measured in the same run,
  and one likelihood evaluation's distance to them (``--profile``: the operator table of one
  evaluation, torch's profiler).

Each case keeps its result in ``--out/cases/<case>.json`` (and ``.npy``: its held-out
log-likelihoods); a rerun skips what is there.

    python benchmarks/fit_speed.py --out runs/fit_speed                     # about 10 minutes
    python benchmarks/fit_speed.py --out runs/fit_speed --baseline 343ee5e  # + the previous default (an hour and more)
    python benchmarks/fit_speed.py --out runs/fit_speed --profile           # + an evaluation's operator profile
    python benchmarks/fit_speed.py --out runs/fit_speed --baseline 343ee5e --groups   # 4 groups of 10, t = 1 and 10
    python benchmarks/fit_speed.py --out runs/fit_speed --baseline 343ee5e --groups --sizes 1 --seeds 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "salamander-retina" / "recording_40_neurons.mat"
CASES = [("kpairwise", 1), ("dg", 1), ("cry", 1), ("dg", 10), ("cry", 10)]
SAMPLED = 200_000


def _split(t: int, neurons: str = "0-39"):
    from spiqgan.data.loaders import load_raster

    train, test = load_raster(DATA, repeat_length=953).select_neurons(neurons).split()
    test_w, test_reps = test.windows(t, return_repeats=True)
    return (*train.windows(t, return_starts=True), test_w, test_reps)


def child(name: str, t: int, threads: int, out: str, neurons: str = "0-39", seed: int = 0) -> None:
    """One case, in this process: fit (timed), held-out log-likelihood, sampling speed; JSON to ``out``."""
    import torch

    torch.set_num_threads(threads)
    from spiqgan.models.registry import make_model

    train_w, starts, test_w, test_reps = _split(t, neurons)
    model = make_model(name, train_w.shape[2], t, seed=seed)
    start = time.perf_counter()
    model.fit(train_w, starts=starts)  # the stimulus-locked DG's latent means follow the bin in the repeat
    result = {"model": name, "t": t, "threads": threads, "fit_s": time.perf_counter() - start,
              "parameters": int(model.n_parameters)}
    if name == "cry":
        result["evaluations"] = len(model.history_)
        ll = model.log_likelihood(test_w)
        np.save(out[:-5] + ".npy", ll)
        np.save(out[:-5] + ".repeats.npy", test_reps)
        result["heldout_nats_per_window"] = float(ll.mean())
        model.sample(10_000, seed=1)  # warm-up
        start = time.perf_counter()
        model.sample(SAMPLED, seed=2)
        result["windows_per_s"] = SAMPLED / (time.perf_counter() - start)
    result["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    Path(out).write_text(json.dumps(result, indent=1))


def _run(name: str, t: int, threads: int, path: Path, pythonpath: str | None = None, neurons: str = "0-39",
         seed: int = 0) -> dict:
    if not path.exists():
        env = {**os.environ, **({"PYTHONPATH": pythonpath} if pythonpath else {})}
        subprocess.run([sys.executable, __file__, "--child", name, str(t), str(threads), str(path), neurons, str(seed)],
                       check=True, env=env)
    result = json.loads(path.read_text())
    print(json.dumps(result), flush=True)
    return result


def machine(threads: int) -> dict:
    """Memory bandwidth (copy of 256 MB: read + write) and float64 matmul GFLOP/s at ``threads``."""
    import torch

    torch.set_num_threads(threads)
    a = torch.empty(2**25, dtype=torch.float64).fill_(1.0)
    b = torch.empty_like(a)
    best = min(_timed(lambda: b.copy_(a)) for _ in range(5))
    m = torch.rand(2048, 2048, dtype=torch.float64)
    mm = min(_timed(lambda: m @ m) for _ in range(3))
    return {"copy_gb_per_s": 2 * a.numel() * 8 / best / 1e9, "matmul_gflop_per_s": 2 * 2048**3 / mm / 1e9}


def _timed(f) -> float:
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def evaluation(t: int, threads: int, profile: bool) -> dict:
    """One likelihood evaluation (value and gradient) of ``cry`` at its start: seconds, elements, passes."""
    import torch

    torch.set_num_threads(threads)
    from spiqgan.models.born import BornMachine

    train_w = _split(t)[0]
    model = BornMachine(40, t)
    p = model.resolved_params()
    p["n_timesteps"], p["n_neurons"] = t, 40
    values = model._initial(train_w, p)
    trained = {k: v.requires_grad_() for k, v in values.items() if k != "pad_"}
    loss = model._objective(train_w, p)
    call = lambda: loss({**trained, "pad_": values["pad_"]})  # noqa: E731
    call()
    seconds = min(_timed(call) for _ in range(5))
    distinct = len(np.unique(train_w.reshape(len(train_w), -1), axis=0))
    out = {"t": t, "seconds": seconds, "distinct_windows": distinct,
           "elements": int(p["latent_nodes"] * distinct * t * 40)}
    if profile:
        from torch.profiler import ProfilerActivity, profile as prof

        with prof(activities=[ProfilerActivity.CPU]) as pr:
            call()
        out["profile"] = pr.key_averages().table(sort_by="self_cpu_time_total", row_limit=12)
    return out


def sampling_profiles(threads: int) -> str:
    """Operator profiles of sampling at (40, 10): ``cry`` (100,000 windows, after a 3-iteration fit: the
    sampler's work does not depend on the fitted values) and the SpiQGAN chain on the MPS backend (64 windows)."""
    import torch
    from torch.profiler import ProfilerActivity, profile as prof

    torch.set_num_threads(threads)
    from spiqgan.models.born import BornMachine
    from spiqgan.quantum.generator import CircuitConfig, PatchGenerator

    model = BornMachine(40, 10, steps=3, calibrate=0).fit(_split(10)[0])
    model.SAMPLE_CHUNK = 100_000  # one chunk: the profiler sees the operations of its own thread only
    model.sample(10_000, seed=0)
    chain = PatchGenerator(CircuitConfig(40, n_ancillas=1, n_layers=5, trainable_encoding=True), 10, seed=0)
    chain.sample(16, 0)
    out = []
    for what, call in (("cry, 100,000 windows", lambda: model.sample(100_000, seed=1)),
                       ("SpiQGAN chain (MPS, 5 layers), 64 windows", lambda: chain.sample(64, 1))):
        with prof(activities=[ProfilerActivity.CPU]) as pr:
            start = time.perf_counter()
            call()
            seconds = time.perf_counter() - start
        out += [f"sampling at (40, 10), {what}: {seconds:.2f} s under the profiler",
                pr.key_averages().table(sort_by="self_cpu_time_total", row_limit=10)]
    return "\n".join(out)


#: passes over the (K, B, t, n) tensor of one evaluation, 8 bytes each read or written (the fused kernel:
#: product and sum for P, product and sum and division for the derivative, the log, the sum over
#: neurons; backward: the product with the gradient and the two sums)
PASSES = 3 * 2 + 3 * 2 + 2 + 1 + 3 + 2


def _paired(new: Path, old: Path):
    """The held-out NLL difference, now minus then, with the project's paired bootstrap over held-out repeats
    (:func:`spiqgan.evaluation.likelihood.compare_nll`: bits per window, 95 %, its verdict)."""
    from spiqgan.evaluation.likelihood import compare_nll

    return compare_nll(np.load(str(new)[:-5] + ".npy"), np.load(str(old)[:-5] + ".npy"),
                       np.load(str(new)[:-5] + ".repeats.npy"), names=("now", "then"), level=0.95)


def _baseline_tree(rev: str, tmp: str) -> Path:
    tree = Path(tmp) / "baseline"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree), rev], check=True)
    return tree


def groups(args: argparse.Namespace) -> None:
    """``cry`` now against ``cry`` at ``--baseline``, 4 groups of 10 neurons at t = 1 and 10 (one thread each)."""
    cases = args.out / "cases"
    cases.mkdir(parents=True, exist_ok=True)
    lines = [f"| neurons | t | seed | fit now (s) | evaluations now | fit at {args.baseline} (s) | evaluations then | "
             "held-out NLL now - then, bits / window [95 % paired bootstrap over repeats]: verdict |",
             "|---|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        tree = _baseline_tree(args.baseline, tmp)
        try:
            for t in map(int, args.sizes.split(",")):
                for first in (0, 10, 20, 30):
                    for seed in range(args.seeds):
                        neurons, tail = f"{first}-{first + 9}", f"_s{seed}" if seed else ""
                        new_path = cases / f"cry_n{neurons}_t{t}{tail}.json"
                        old_path = cases / f"cry_n{neurons}_t{t}{tail}_{args.baseline}.json"
                        new = _run("cry", t, 1, new_path, neurons=neurons, seed=seed)
                        old = _run("cry", t, 1, old_path, pythonpath=str(tree / "src"), neurons=neurons, seed=seed)
                        d = _paired(new_path, old_path)
                        lines.append(f"| {neurons} | {t} | {seed} | {new['fit_s']:.1f} | {new['evaluations']} | "
                                     f"{old['fit_s']:.1f} | {old['evaluations']} | "
                                     f"{d.difference:+.4f} [{d.low:+.4f}, {d.high:+.4f}]: {d.verdict} |")
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)
    text = "\n".join(lines)
    print(text)
    (args.out / "fit_speed_groups.md").write_text(text + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("runs/fit_speed"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--baseline", default=None, metavar="REV", help="also fit cry with spiqgan at this git revision")
    ap.add_argument("--profile", action="store_true", help="print one evaluation's operator profile")
    ap.add_argument("--groups", action="store_true",
                    help="with --baseline: only the paired held-out comparison at (10, 1) and (10, 10) on neurons "
                         "0-9, 10-19, 20-29 and 30-39, one thread per fit")
    ap.add_argument("--sizes", default="1,10", help="with --groups: the window lengths t (default 1,10)")
    ap.add_argument("--seeds", type=int, default=1, help="with --groups: seeds 0 .. N-1 of every fit (default 1)")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)  # name t threads out [neurons [seed]]
    args = ap.parse_args()
    if args.child:
        name, t, threads, out, *rest = args.child
        child(name, int(t), int(threads), out, *rest[:1], *map(int, rest[1:2]))
        return
    if args.groups:
        groups(args)
        return
    cases = args.out / "cases"
    cases.mkdir(parents=True, exist_ok=True)
    hw = machine(args.threads)
    print(json.dumps(hw))
    results = {f"{name} {t}": _run(name, t, args.threads, cases / f"{name}_t{t}.json") for name, t in CASES}
    lines = ["| model | t | parameters | fit (s) | evaluations | peak memory (GB) | held-out nats / window | windows / s |",
             "|---|---|---|---|---|---|---|---|"]
    for key, r in results.items():
        lines.append(f"| {r['model']} | {r['t']} | {r['parameters']} | {r['fit_s']:.1f} | {r.get('evaluations', '-')} | "
                     f"{r['peak_rss_gb']:.2f} | {r.get('heldout_nats_per_window', float('nan')):.4f} | "
                     f"{r.get('windows_per_s', float('nan')):,.0f} |")
    if args.baseline:
        with tempfile.TemporaryDirectory() as tmp:
            tree = _baseline_tree(args.baseline, tmp)
            try:
                for t in (1, 10):
                    path = cases / f"cry_t{t}_{args.baseline}.json"
                    old = _run("cry", t, args.threads, path, pythonpath=str(tree / "src"))
                    d = _paired(cases / f"cry_t{t}.json", path)
                    lines.append(f"| cry at {args.baseline} | {t} | {old['parameters']} | {old['fit_s']:.1f} | "
                                 f"{old.get('evaluations', '-')} | {old['peak_rss_gb']:.2f} | "
                                 f"{old['heldout_nats_per_window']:.4f} | {old['windows_per_s']:,.0f} |")
                    lines.append(f"|  held-out NLL now - {args.baseline}, bits / window, 95 % paired bootstrap | {t} "
                                 f"| | | | | {d.difference:+.4f} [{d.low:+.4f}, {d.high:+.4f}]: {d.verdict} | |")
            finally:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)
    lines += ["", f"machine at {args.threads} threads: copy {hw['copy_gb_per_s']:.1f} GB/s, "
                  f"float64 matmul {hw['matmul_gflop_per_s']:.1f} GFLOP/s", ""]
    for t in (1, 10):
        e = evaluation(t, args.threads, args.profile)
        moved = e["elements"] * PASSES * 8 / 1e9
        lines.append(f"one evaluation at (40, {t}): {e['seconds']:.3f} s over {e['elements']:,} (latent value, window, "
                     f"step, neuron) elements ({e['distinct_windows']:,} distinct windows); its {PASSES} passes of 8 "
                     f"bytes move {moved:.2f} GB: {moved / e['seconds']:.1f} GB/s, "
                     f"{moved / e['seconds'] / hw['copy_gb_per_s']:.0%} of the copy bandwidth")
        if args.profile:
            lines.append(e["profile"])
    if args.profile:
        lines.append(sampling_profiles(args.threads))
    text = "\n".join(lines)
    print(text)
    (args.out / "fit_speed.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
