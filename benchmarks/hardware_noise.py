"""How each statistic's held-out error degrades on a noisy device: Aer with two-qubit depolarizing noise and readout error.

The default model (cry) and the SpiQGAN paper preset, at (n, t) = (4, 5) and (10, 1) (neurons 0..n-1 of
the salamander recording), are trained once (cached under ``--out/models``), exported
(:mod:`spiqgan.hardware.circuits`) and sampled through Qiskit Aer (``spiqgan sample --backend aer``)
with two-qubit depolarizing probability p2 in 0 .. 1e-2 (one-qubit gates noiseless) and, separately,
readout error e in 0 .. 5e-2. Each draw of ``--windows`` windows is scored on the held-out repeats
(error / noise floor per statistic). Results per setting are cached in ``--out/runs``; the script
prints a markdown table and draws ``--figure``. About 25 minutes on 2 cores (the paper preset's
training and its one-execution-per-window sampling dominate).

    python benchmarks/hardware_noise.py --out runs/hardware_noise --figure docs/figures/hardware_noise.png

``--devices fake_sherbrooke,fake_torino`` adds each device's calibrated noise (qiskit-ibm-runtime's fake
backends: native gates, coupling map, gate and readout errors, relaxation). Every setting with readout
error is scored raw and readout-mitigated (:mod:`spiqgan.hardware.mitigation`: the pattern distribution
of the drawn windows with each bit's confusion inverted, the confusion from the noise model or the
device's calibration circuits; as many windows drawn from it as were drawn raw, since a ratio's noise
floor is that of its number of generated windows: 10 times as many made every ratio about 10 times
larger; drawing again adds its own sampling error). About 40 more minutes with two devices.

    python benchmarks/hardware_noise.py --out runs/hardware_noise --devices fake_sherbrooke,fake_torino
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from spiqgan.evaluation.scoring import STATISTICS, evaluate
from spiqgan.io.atomic import write_json

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "salamander-retina"
SIZES = [(4, 5), (10, 1)]
MODELS = ("cry", "paper")
DEPOLARIZING = [0.0, 1e-3, 2e-3, 5e-3, 1e-2]
READOUT = [0.0, 5e-3, 1e-2, 2e-2, 5e-2]


def _split(n: int, t: int):
    from born_fit import split

    return split(DATA, n, t)


def train(model: str, n: int, t: int, out: Path):
    """The trained model of a case, from ``out/models`` when an earlier run saved it."""
    from spiqgan.models.registry import load_model, make_model
    from spiqgan.models.gan import SpiQGAN

    path = out / "models" / f"{model}_n{n}_t{t}.safetensors"
    if path.exists():
        return load_model(path)
    train_w = _split(n, t)[0]
    start = time.perf_counter()
    fitted = (SpiQGAN.from_preset("paper", n, t) if model == "paper" else make_model(model, n, t)).fit(train_w)
    print(f"trained {model} ({n}, {t}) in {time.perf_counter() - start:.0f} s", flush=True)
    fitted.save(path)
    return fitted


def run_setting(model: str, n: int, t: int, kind: str, level: float, windows: int, out: str) -> dict:
    """Aer windows at one noise setting, scored on the held-out repeats."""
    import torch

    from spiqgan.models.registry import load_model
    from spiqgan.hardware.circuits import circuits_of
    from spiqgan.hardware.export import aer_sample
    from spiqgan.hardware.sampling import NoiseSpec

    import numpy as np

    from spiqgan.hardware.mitigation import mitigated_windows, readout_confusion
    from spiqgan.hardware.sampling import DeviceNoise

    torch.set_num_threads(1)
    fitted = load_model(Path(out) / "models" / f"{model}_n{n}_t{t}.safetensors")
    _, _, test_w, test_reps, _ = _split(n, t)
    noise = {"depolarizing": lambda: NoiseSpec(p2=level), "readout": lambda: NoiseSpec(readout=level),
             "device": lambda: DeviceNoise(level)}[kind]()
    export = circuits_of(fitted)
    start = time.perf_counter()
    drawn = aer_sample(export, windows, noise=noise, seed=1)
    seconds = time.perf_counter() - start
    ev = evaluate(drawn, test_w, reference_repeats=test_reps, seed=0)
    result = {"model": model, "n": n, "t": t, "noise": kind, "level": level, "windows": windows,
              "seconds": seconds, "rate": float(drawn.mean()), "ratios": {r.statistic: r.ratio for r in ev.rows}}
    if kind != "depolarizing":  # readout error to mitigate
        confusion = readout_confusion(export, noise, seed=1)
        fixed = mitigated_windows(drawn, confusion, windows, np.random.default_rng(2))  # same count: same floor
        ev = evaluate(fixed, test_w, reference_repeats=test_reps, seed=0)
        result.update({"mitigated_rate": float(fixed.mean()), "mitigated_ratios": {r.statistic: r.ratio for r in ev.rows},
                       "confusion_mean": [float(v) for v in confusion.reshape(-1, 2).mean(0)]})
    write_json(Path(out) / "runs" / f"{model}_n{n}_t{t}_{kind}_{_tag(level)}.json", result)
    return result


def _tag(level) -> str:
    return level if isinstance(level, str) else f"{level:g}"


def figure(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(SIZES) * len(MODELS), figsize=(16, 6.5), sharey=True)
    for col, (model, (n, t)) in enumerate((m, s) for s in SIZES for m in MODELS):
        for row, kind in enumerate(("depolarizing", "readout")):
            ax = axes[row, col]
            rows = sorted((r for r in results if (r["model"], r["n"], r["t"], r["noise"]) == (model, n, t, kind)),
                          key=lambda r: r["level"])
            for k, (stat, _, label) in enumerate(STATISTICS):
                if any(r["ratios"][stat] is None for r in rows):
                    continue  # not defined at this size (t = 1 has no autocorrelogram)
                ax.plot([r["level"] for r in rows], [r["ratios"][stat] for r in rows], "o-", ms=3, color=f"C{k}",
                        label=label)
            ax.set_yscale("log")
            ax.axhline(1, color="k", lw=0.6)
            ax.set_xlabel("two-qubit depolarizing p2" if kind == "depolarizing" else "readout error e")
            if row == 0:
                ax.set_title(f"{'cry (default)' if model == 'cry' else 'paper preset'}, (n, t) = ({n}, {t})")
            if col == 0:
                ax.set_ylabel("held-out error / noise floor")
    handles = {h.get_label(): h for ax in axes.ravel() for h in ax.get_lines() if not h.get_label().startswith("_")}
    axes[0, -1].legend(handles.values(), handles.keys(), fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1))
    fig.suptitle("Sampled through Qiskit Aer with device noise (python benchmarks/hardware_noise.py)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("runs/hardware_noise"))
    parser.add_argument("--windows", type=int, default=4000, help="windows per noise setting (default 4000)")
    parser.add_argument("--figure", type=Path, default=None)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--devices", default="", help="fake IBM backends whose calibrated noise to add, comma-separated")
    args = parser.parse_args()
    devices = [d for d in args.devices.split(",") if d]
    for model in MODELS:
        for n, t in SIZES:
            train(model, n, t, args.out)
    cases = [(m, n, t, kind, level) for m in MODELS for n, t in SIZES
             for kind, levels in (("depolarizing", DEPOLARIZING), ("readout", READOUT)) for level in levels
             if not (kind == "readout" and level == 0)]  # the noiseless draw is shared
    cases += [(m, n, t, "device", d) for m in MODELS for n, t in SIZES for d in devices]
    results, todo = [], []
    for c in cases:
        path = args.out / "runs" / f"{c[0]}_n{c[1]}_t{c[2]}_{c[3]}_{_tag(c[4])}.json"
        cached = json.loads(path.read_text()) if path.exists() else None
        stale = cached is not None and c[3] != "depolarizing" and "mitigated_ratios" not in cached  # before mitigation
        (results.append(cached) if cached is not None and not stale else todo.append(c))
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run_setting, *c, args.windows, str(args.out)) for c in todo]
        for f in as_completed(futures):
            r = f.result()
            results.append(r)
            print(f"{r['model']:>6} ({r['n']}, {r['t']}) {r['noise']:>12} {_tag(r['level']):<6}: {r['seconds']:.0f} s",
                  flush=True)
    results += [{**r, "noise": "readout"} for r in results if r["noise"] == "depolarizing" and r["level"] == 0]
    from born_fit import ratio_cells, table_head

    print("\n".join(table_head(["model", "(n, t)", "noise", "level", "readout", "rate"])))
    for r in sorted(results, key=lambda r: (r["model"], r["n"], r["noise"], str(r["level"]))):
        print(f"| {r['model']} | ({r['n']}, {r['t']}) | {r['noise']} | {_tag(r['level'])} | raw | {r['rate']:.4f} | "
              f"{ratio_cells(r['ratios'])} |")
        if "mitigated_ratios" in r:
            print(f"| {r['model']} | ({r['n']}, {r['t']}) | {r['noise']} | {_tag(r['level'])} | mitigated | "
                  f"{r['mitigated_rate']:.4f} | {ratio_cells(r['mitigated_ratios'])} |")
    if args.figure is not None:
        figure([r for r in results if r["noise"] != "device"], args.figure)
        print(f"wrote {args.figure}")


if __name__ == "__main__":
    main()
