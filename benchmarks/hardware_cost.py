"""What the default model and the SpiQGAN paper preset cost on a device, at (n, t) = (10, 1) and (10, 30).

The cost is the circuits' structure, not their trained values: the cry model is fitted for one
L-BFGS iteration on neurons 0-9 of the salamander recording (so that memory, history and the count
term are what a full fit has), the paper preset's generator is taken at its initial angles. Each is
costed as ``spiqgan resources RUN --device heavy-hex|all-to-all`` does
(:func:`spiqgan.hardware.export.resources`: Qiskit's transpiler, optimization level 1, seed 0, basis
cx rz sx x, IBM's 127-qubit heavy-hex map) for 10^4 windows and one training step at 1000 shots per
probability (a window circuit's likelihood step over the distinct training windows of neurons 0-9).
Prints a markdown table and writes ``--out``. About 2 minutes on 2 cores.

    python benchmarks/hardware_cost.py --out runs/hardware_cost.json

``--devices`` names other devices, e.g. IBM's fake backends with their native gates and coupling maps,
and ``--transpiler-seeds`` the seeds tried (the figures of the seed with the fewest two-qubit gates,
and their range over the seeds in brackets); ``--sizes`` restricts the sizes:

    python benchmarks/hardware_cost.py --devices fake_sherbrooke,fake_torino,heavy-hex --transpiler-seeds 5 \
        --sizes 10x1 --out runs/hardware_cost_ibm.json
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from spiqgan.io.atomic import write_json

SIZES = [(10, 1), (10, 30)]


def exports(n: int, t: int):
    from born_fit import split
    from spiqgan.models.registry import make_model
    from spiqgan.hardware.circuits import circuits_of
    from spiqgan.models.gan import SpiQGAN
    from spiqgan.quantum.generator import PatchGenerator

    train_w = split(Path(__file__).resolve().parents[1].parent / "shared" / "data" / "salamander-retina", n, t)[0]
    cry = make_model("cry", n, t, steps=1, calibrate=0).fit(train_w)
    paper = SpiQGAN.from_preset("paper", n, t)
    export = circuits_of(PatchGenerator(paper.circuit_config(), t))
    export.hyperparameters = paper.resolved_params()
    return [("cry (default)", circuits_of(cry), train_w), ("paper preset", export, None)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("runs/hardware_cost.json"))
    parser.add_argument("--devices", default="heavy-hex,all-to-all")
    parser.add_argument("--transpiler-seeds", type=int, default=1)
    parser.add_argument("--sizes", default=",".join(f"{n}x{t}" for n, t in SIZES))
    args = parser.parse_args()
    sizes = [tuple(int(v) for v in size.split("x")) for size in args.sizes.split(",")]
    from spiqgan.hardware.export import resources

    rows = []
    for n, t in sizes:
        for label, export, train_w in exports(n, t):
            for device in args.devices.split(","):
                start = time.perf_counter()
                r = resources(export, device, windows=10000, estimate_shots=1000, training_windows=train_w,
                              transpiler_seeds=args.transpiler_seeds)
                rows.append({"label": label, "seconds": time.perf_counter() - start, **r})
    write_json(args.out, rows)
    print("| model | (n, t) | device | circuits x qubits | depth (max) | 2q gates per window | conditional 2q | "
          "if blocks | draw 10^4 windows: executions / shots | one likelihood step: executions | "
          "one adversarial step: executions |")
    print("|" + "---|" * 11)
    for r in rows:
        cs = r["circuits"]
        per_window = sum(c["two_qubit_gates"] for c in cs)
        cond = sum(c["conditional_two_qubit_gates"] for c in cs)
        ifs = sum(c["conditional_blocks"] for c in cs)
        tr = r["training_per_step"]
        adv = tr.get("score_function", {}).get("executions", "-")
        depth = str(max(c["depth"] for c in cs))
        if args.transpiler_seeds > 1:  # the range over the seeds, circuit by circuit
            depth += f" [{max(c['depth_range'][0] for c in cs)}-{max(c['depth_range'][1] for c in cs)}]"
            per_window = f"{per_window} [{sum(c['two_qubit_gates_range'][0] for c in cs)}-" \
                         f"{sum(c['two_qubit_gates_range'][1] for c in cs)}]"
        print(f"| {r['label']} | ({r['neurons']}, {r['timesteps']}) | {r['device']} | {len(cs)} x "
              f"{cs[0]['logical_qubits']} | {depth} | {per_window} | {cond} | {ifs} | "
              f"{r['sampling']['executions']} / {r['sampling']['shots']} | "
              f"{tr['parameter_shift_likelihood']['executions']} | {adv} |")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
