"""Micro-benchmark: forward + backward of the full patch generator.

Times one generator forward pass (exact outcome distributions of all t
sub-generators for a batch of noise) plus the backward pass of a scalar loss
with respect to every parameter, median over repeats, at (n, t, batch) =
(10, 30, 32) and (6, 10, 32) (5 layers, 1 ancilla, the SpiQGAN circuit), in
complex64 and complex128. Run time: about a minute on 2 cores.

    python benchmarks/generator_speed.py [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from spiqgan.quantum.generator import CircuitConfig, PatchGenerator

CASES = [(10, 30, 32), (6, 10, 32), (2, 1, 32)]


def time_case(n: int, t: int, batch: int, dtype: torch.dtype, repeats: int) -> tuple[float, float]:
    gen = PatchGenerator(CircuitConfig(n), t, dtype=dtype, seed=0)
    noise = gen.draw_noise(batch, torch.Generator().manual_seed(0))
    times = []
    for i in range(repeats + 1):
        start = time.perf_counter()
        out = gen(noise)
        loss = (out.spike_probabilities * torch.arange(n, dtype=out.spike_probabilities.dtype)).sum()
        gen.zero_grad()
        loss.backward()
        if i:  # the first call warms up
            times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("| (n, t, batch) | qubits | dtype | forward + backward, median s | min s |")
    print("|---|---|---|---|---|")
    for n, t, batch in CASES:
        for dtype in (torch.complex64, torch.complex128):
            med, best = time_case(n, t, batch, dtype, args.repeats)
            print(f"| ({n}, {t}, {batch}) | {n + 1} | {str(dtype).replace('torch.', '')} | {med:.4f} | {best:.4f} |")


if __name__ == "__main__":
    main()
