"""How many torch threads a default likelihood fit should use, by problem size.

Times default SpiQGAN training steps (likelihood, K = 128 noise draws) at
several (n, t) with 1 and with every core's threads, interleaved in one
process (1, all, 1, all, ...) so that other work on the machine weighs on both
alike; prints the median seconds per step and the ratio. The result picks
``spiqgan.experiments.runs.default_threads``. Run time: about 2 minutes on 2 cores.

    python benchmarks/threads.py [--steps 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from spiqgan.models.gan import SpiQGAN
from spiqgan.data.synthetic import DEFAULT_SYNTHETIC, retina_like

CASES = [(4, 2), (4, 5), (8, 1), (10, 1), (10, 10), (12, 1)]


def seconds_per_step(n: int, t: int, threads: int, steps: int) -> float:
    torch.set_num_threads(threads)
    raster = retina_like(**DEFAULT_SYNTHETIC)  # 16 neurons
    windows = raster.select_neurons(f"0-{n - 1}").windows(t)
    model = SpiQGAN(n, t, steps=1, eval_every=10**6, seed=0)
    model.fit(windows)  # warm-up: allocations, first kernels
    model.set_params(steps=1 + steps)
    start = time.perf_counter()
    model.fit(windows, resume=True)
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    print(f"torch {torch.__version__}, {cores} cores; median over {args.rounds} interleaved rounds of {args.steps} steps")
    print(f"| (n, t) | qubits | 1 thread, s/step | {cores} threads, s/step | {cores} / 1 |")
    print("|---|---|---|---|---|")
    for n, t in CASES:
        times: dict[int, list[float]] = {1: [], cores: []}
        for _ in range(args.rounds):
            for threads in (1, cores):
                times[threads].append(seconds_per_step(n, t, threads, args.steps))
        one, many = statistics.median(times[1]), statistics.median(times[cores])
        print(f"| ({n}, {t}) | {n + 1} | {one:.4f} | {many:.4f} | {many / one:.2f} |", flush=True)


if __name__ == "__main__":
    main()
