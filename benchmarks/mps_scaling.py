"""Step time and memory of the MPS backend against qubits and layers; the statevector crossover; sampling speed.

Each case runs in its own process (one torch thread unless ``--threads``), so that its peak
resident memory is its own. A *step* is one likelihood step of the SpiQGAN chain circuit:
forward and backward of the Monte Carlo log-likelihood of ``--windows`` windows under ``--draws``
noise draws (t = 1, ``q - 1`` neurons and one ancilla, default encoding: trainable, no mixing),
the windows drawn with 5 % spikes per neuron and bin (as sparse as the retina: most patterns
repeat, and each distinct one is computed once).

    python benchmarks/mps_scaling.py                # the scaling tables (q = 11..161 at l = 5; l = 2..8 at q = 41)
    python benchmarks/mps_scaling.py --crossover    # statevector against MPS, q = 8..20 at l = 5
    python benchmarks/mps_scaling.py --crossover --layers 3   # q = 4..12 at l = 3 (2l - 2 .. 2l + 6)
    python benchmarks/mps_scaling.py --sampling     # windows per second at (n, t) = (40, 10), l = 5 and 2
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

QUBITS = (11, 21, 41, 81, 161)
LAYERS = (2, 3, 4, 5, 6, 7, 8)


def _case(backend: str, q: int, layers: int, draws: int, windows: int, repeats: int) -> dict:
    import torch

    from spiqgan.quantum.generator import CircuitConfig, PatchGenerator
    from spiqgan.training.likelihood import combine_log_likelihood

    n = q - 1
    gen = PatchGenerator(CircuitConfig(n, n_ancillas=1, n_layers=layers, trainable_encoding=True), 1, seed=0,
                         backend=backend)
    rng = torch.Generator().manual_seed(0)
    x = (torch.rand(windows, 1, n, generator=rng) < 0.05).to(torch.uint8)
    times = []
    for _ in range(repeats + 1):  # the first step warms up
        start = time.perf_counter()
        out = gen(gen.draw_noise(draws, rng), windows=x)
        loss = -combine_log_likelihood(out.window_log_probs).mean()
        loss.backward()
        times.append(time.perf_counter() - start)
    distinct = int(torch.unique(x.reshape(windows, n), dim=0).shape[0])
    return {"backend": backend, "qubits": q, "layers": layers, "draws": draws, "windows": windows,
            "distinct_patterns": distinct, "seconds_per_step": min(times[1:]),
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _sampling(n: int, t: int, layers: int, count: int) -> dict:
    from spiqgan.quantum.generator import CircuitConfig, PatchGenerator

    gen = PatchGenerator(CircuitConfig(n, n_ancillas=1, n_layers=layers, trainable_encoding=True), t, seed=0)
    gen.sample(64, 0)  # warm up
    start = time.perf_counter()
    windows = gen.sample(count, 1)
    seconds = time.perf_counter() - start
    roofline = _sampling_roofline(gen, n, layers)
    return {"backend": gen.backend, "neurons": n, "timesteps": t, "layers": layers, "windows": count,
            "windows_per_second": count / seconds, "mean_rate": float(windows.float().mean()),
            **roofline, "roofline_windows_per_second": roofline["bmm_gflop_per_s"] * 1e9 / roofline["flop_per_window"],
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _sampling_roofline(gen, n: int, layers: int) -> dict:
    """The floating-point work of sampling one window, and this machine's rate for its contractions.

    Sampling is dominated by the right environments (``R_j = sum_b A_j[b] R_{j+1} A_j[b]^dagger``, two
    products: ``(2 Dl x Dr) @ (Dr x Dr)`` and ``(Dl x 2 Dr) @ (2 Dr x Dl)``, 8 real flops per complex
    multiply-add), one chain of them per circuit, ``t`` circuits per window; the row vectors that
    draw the bits add ``O(n D^2)``. The rate: batched complex products of the middle sites' shape,
    measured in the same process (same threads).
    """
    import torch

    from spiqgan.quantum import mps

    sites = mps.chain_mps(gen._noise_gates(gen.draw_noise(1, torch.Generator().manual_seed(0)))[:1])
    flop = sum(8 * (2 * dl * dr * dr + 2 * dl * dl * dr) for _, dl, _, dr in (a.shape for a in sites))
    d = mps.bond_dimension(layers)
    dtype = sites[0].dtype
    a, b = torch.randn(256, 2 * d, d, dtype=dtype), torch.randn(256, d, d, dtype=dtype)
    a @ b
    start = time.perf_counter()
    for _ in range(10):
        a @ b
    rate = 10 * 256 * 2 * d * d * d * 8 / (time.perf_counter() - start) / 1e9
    return {"flop_per_window": flop * gen.n_timesteps, "bmm_gflop_per_s": rate}


def _run(options: list[str], case: tuple[str, ...], timeout: float) -> dict | None:
    cmd = [sys.executable, __file__, *options, "--child", *case]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--crossover", action="store_true")
    ap.add_argument("--sampling", action="store_true")
    ap.add_argument("--draws", type=int, default=64)
    ap.add_argument("--windows", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--layers", type=int, default=5, help="layers of the --crossover cases")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per case")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        import torch

        torch.set_num_threads(a.threads)
        kind, *rest = a.child
        if kind == "sample":
            n, t, layers, count = map(int, rest)
            print(json.dumps(_sampling(n, t, layers, count)))
        else:
            q, layers = map(int, rest)
            print(json.dumps(_case(kind, q, layers, a.draws, a.windows, a.repeats)))
        return
    common = ["--draws", str(a.draws), "--windows", str(a.windows), "--repeats", str(a.repeats),
              "--threads", str(a.threads)]
    if a.sampling:
        cases = [("sample", "40", "10", str(layers), "2000") for layers in (5, 2)]
    elif a.crossover:
        qubits = range(8, 21, 2) if a.layers == 5 else range(max(2, 2 * a.layers - 2), min(20, 2 * a.layers + 6) + 1, 2)
        cases = [(backend, str(q), str(a.layers)) for q in qubits for backend in ("statevector", "mps")]
    else:
        cases = [("mps", str(q), "5") for q in QUBITS] + [("mps", "41", str(l)) for l in LAYERS if l != 5]
    print(f"# {' '.join(sys.argv[1:]) or 'scaling'}; {a.threads} torch thread(s); draws {a.draws}, windows {a.windows}")
    for case in cases:
        row = _run(common, case, a.timeout)
        print(json.dumps(row if row is not None else {"case": case, "result": f"not finished in {a.timeout:.0f} s"}),
              flush=True)


if __name__ == "__main__":
    main()
