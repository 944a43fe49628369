"""Speed of SpiQGAN training: spiqgan against faithful PennyLane implementations, side by side, in one run.

What it measures (median wall-clock seconds on this machine, torch's default threads):

1. A whole training step at batch 32 (two critic updates with gradient penalty, one generator
   update with the K-loss, straight-through gradients, real-batch sampling): spiqgan, and the same
   step with the generator replaced by PennyLane ``default.qubit`` (a) called once per sample and
   sub-generator, as public patch-GAN code does, and (b) broadcast over the batch, one call per
   sub-generator; (c) ``lightning.qubit`` with the adjoint method, once per sample and sub-generator,
   for the generator alone. Slow forms at large sizes are timed on a slice of the batch and scaled
   to 32 (the calls are independent, so time is linear in the number of calls): marked "scaled".
2. Generator forward + backward alone; ``sample`` throughput (windows per second).
3. Peak resident memory of a spiqgan training run (child process per case).
4. Memory bandwidth of this machine (large copy) and cache bandwidth (small copy), measured in the
   same run, next to the simulator's amplitude updates per second.
5. Scaling: generator forward + backward for q = 4..20 qubits at t = 1, and t = 1..30 at n = 6.
6. The paper's grid (n in {2,4,6,8,10}, t in {1,2,5,10,20,30}, 2 losses, 1 seed, default steps):
   an estimate of its training time from measured step times (the grid itself runs in the sweep).

    python benchmarks/speed.py            # about 15 minutes on 2 cores
    python benchmarks/speed.py --quick    # fewer repeats, no q > 16, about 4 minutes
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import numpy as np
import torch

from spiqgan.quantum.generator import CircuitConfig, GeneratorOutput, PatchGenerator
from spiqgan.models.gan import SpiQGAN
from spiqgan.training.loop import train_step

CASES = [(2, 1), (6, 10), (10, 30)]
BATCH = 32


def median_time(fn, repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# --------------------------------------------------------------------------- PennyLane
class PennyLaneGenerator(PatchGenerator):
    """The same generator, simulated by PennyLane; same parameters, noise and outputs as PatchGenerator."""

    def __init__(self, config: CircuitConfig, n_timesteps: int, form: str, seed: int = 0) -> None:
        super().__init__(config, n_timesteps, dtype=torch.complex128, seed=seed)
        import pennylane as qml

        q, n = config.n_qubits, config.n_neurons
        device_name = "lightning.qubit" if form == "lightning" else "default.qubit"
        dev = qml.device(device_name, wires=q)
        diff = "adjoint" if form == "lightning" else "backprop"
        self.form = form

        @qml.qnode(dev, interface="torch", diff_method=diff)
        def circuit(gamma, rot):
            for layer in range(config.n_layers):
                for j in range(q):
                    qml.RX(gamma[..., j], wires=j)
                    qml.RY(rot[layer, j, 0], wires=j)
                    qml.RZ(rot[layer, j, 1], wires=j)
                for j in range(q - 1):
                    qml.CNOT(wires=[j, j + 1])
            if form == "lightning":  # adjoint differentiates expectation values, not probabilities
                return [qml.expval(qml.PauliZ(i)) for i in range(n)]
            return qml.probs(wires=range(n))

        self.circuit = circuit

    def forward(self, noise, shots=None, generator=None):  # noqa: D102
        batch = noise.shape[0]
        rot = self.rotations.double()
        if self.form == "lightning":  # spike probabilities (1 - <Z_i>) / 2 only
            z = torch.stack([torch.stack([torch.stack(self.circuit(noise[b].double(), rot[t]))
                                          for t in range(self.n_timesteps)]) for b in range(batch)])
            return GeneratorOutput(None, ((1 - z) / 2).float())
        per_t = []
        for t in range(self.n_timesteps):
            if self.form == "broadcast":
                per_t.append(self.circuit(noise.double(), rot[t]))  # (batch, 2^n)
            else:
                per_t.append(torch.stack([self.circuit(noise[b].double(), rot[t]) for b in range(batch)]))
        dist = torch.stack(per_t, dim=1).float()
        bits = torch.tensor([[(k >> (self.config.n_neurons - 1 - i)) & 1 for i in range(self.config.n_neurons)]
                             for k in range(2**self.config.n_neurons)], dtype=dist.dtype)
        return GeneratorOutput(dist, dist @ bits)


# ------------------------------------------------------------------------- training step
def make_state(n: int, t: int, form: str | None):
    model = SpiQGAN(n, t, batch_size=BATCH, estimator="straight-through", steps=1, eval_every=10**9, seed=0)
    params = model.resolved_params()
    state = model._build(params)
    if form is not None:
        gen = PennyLaneGenerator(model.circuit_config(), t, form)
        state.generator = gen
        state.opt_generator = torch.optim.Adam(gen.parameters(), lr=params["lr_generator"])
    windows = (np.random.default_rng(0).random((4000, t, n)) < 0.04).astype(np.float32)
    real = torch.as_tensor(windows)
    return state, params, real


def training_step_time(n: int, t: int, form: str | None, repeats: int, batch_scale: int = 1, per_call: int = 1) -> float:
    """Median seconds of one training step (``per_call`` steps are timed together and divided)."""
    state, params, real = make_state(n, t, form)
    if batch_scale > 1:
        params = {**params, "batch_size": BATCH // batch_scale}
    target = float(real.sum(dim=(1, 2)).mean())

    def steps():
        for _ in range(per_call):
            train_step(state, params, real, target)

    return median_time(steps, repeats) * batch_scale / per_call


def generator_time(n: int, t: int, form: str | None, repeats: int, batch: int = BATCH,
                   dtype: torch.dtype = torch.complex64) -> float:
    cfg = CircuitConfig(n)
    gen = PatchGenerator(cfg, t, dtype=dtype) if form is None else PennyLaneGenerator(cfg, t, form)
    noise = gen.draw_noise(batch, torch.Generator().manual_seed(0))

    def run():
        gen.zero_grad()
        out = gen(noise)
        out.spike_probabilities.sum().backward()

    return median_time(run, repeats) * (BATCH / batch)


# ------------------------------------------------------------------------------ memory
def peak_memory_child(n: int, t: int) -> None:
    state, params, real = make_state(n, t, None)
    target = float(real.sum(dim=(1, 2)).mean())
    for _ in range(3):
        train_step(state, params, real, target)
    # VmHWM: this process's peak resident memory (getrusage would report the parent's peak after fork)
    with open("/proc/self/status") as fh:
        hwm_kib = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
    print(json.dumps({"maxrss_mib": hwm_kib / 1024}))


def peak_memory(n: int, t: int) -> float:
    out = subprocess.run([sys.executable, __file__, "--memory-child", str(n), str(t)], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["maxrss_mib"]


def bandwidth() -> tuple[float, float]:
    """(memory, cache) copy bandwidth in GB/s, counting bytes read plus bytes written."""
    big = torch.empty(2**26, dtype=torch.float32).fill_(1.0)  # 256 MiB
    small = torch.empty(2**15, dtype=torch.float32).fill_(1.0)  # 128 KiB, fits in L2
    out_big, out_small = torch.empty_like(big), torch.empty_like(small)
    t_big = median_time(lambda: out_big.copy_(big), 7)
    reps = 2000
    t_small = median_time(lambda: [out_small.copy_(small) for _ in range(reps)], 5) / reps
    return 2 * big.numel() * 4 / t_big / 1e9, 2 * small.numel() * 4 / t_small / 1e9


# -------------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--memory-child", nargs=2, type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        peak_memory_child(*args.memory_child)
        return
    reps = 3 if args.quick else 7
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; batch {BATCH}, 5 layers, 1 ancilla\n")

    print("## Whole training step (s), and ratios PennyLane / spiqgan\n")
    print("| (n, t) | spiqgan | default.qubit per sample | default.qubit broadcast | ratio per-sample | ratio broadcast |")
    print("|---|---|---|---|---|---|")
    step_times = {}
    for n, t in CASES:
        ours = training_step_time(n, t, None, reps, per_call={2: 50, 6: 10, 10: 2}[n])
        step_times[(n, t)] = ours
        scale_ps = {2: 1, 6: 4, 10: 16}[n]
        per_sample = training_step_time(n, t, "per_sample", 1, batch_scale=scale_ps)
        broadcast = training_step_time(n, t, "broadcast", 1 if n == 10 else reps)
        note = " (scaled)" if scale_ps > 1 else ""
        print(f"| ({n}, {t}) | {ours:.4f} | {per_sample:.3f}{note} | {broadcast:.3f} | {per_sample / ours:.0f}x | "
              f"{broadcast / ours:.0f}x |", flush=True)

    print("\n## Generator forward + backward alone (s)\n")
    print("| (n, t) | spiqgan complex64 | spiqgan complex128 | lightning.qubit adjoint, per sample, spike probabilities only | ratio lightning |")
    print("|---|---|---|---|---|")
    for n, t in CASES:
        ours = generator_time(n, t, None, reps * 3 if n < 10 else reps)
        ours128 = generator_time(n, t, None, reps, dtype=torch.complex128)
        light_batch = {2: 32, 6: 8, 10: 2}[n]
        light = generator_time(n, t, "lightning", 1, batch=light_batch)
        note = " (scaled)" if light_batch < BATCH else ""
        print(f"| ({n}, {t}) | {ours:.4f} | {ours128:.4f} | {light:.3f}{note} | {light / ours:.0f}x |", flush=True)

    print("\n## Sampling throughput and memory\n")
    print("| (n, t) | windows / s (`sample`) | peak resident memory of training (MiB) |")
    print("|---|---|---|")
    for n, t in CASES:
        gen = PatchGenerator(CircuitConfig(n), t)
        k = {2: 200000, 6: 20000, 10: 2000}[n]
        sec = median_time(lambda: gen.sample(k, 0), 3)
        print(f"| ({n}, {t}) | {k / sec:,.0f} | {peak_memory(n, t):.0f} |", flush=True)

    mem_bw, cache_bw = bandwidth()
    gen = PatchGenerator(CircuitConfig(10), 30)
    noise = gen.draw_noise(BATCH)
    with torch.no_grad():
        fwd = median_time(lambda: gen(noise), reps)
    q, layers = 11, 5
    amplitudes = BATCH * 30 * 2**q * layers  # amplitude-layer updates of one forward pass
    achieved = amplitudes / fwd
    bytes_min = 2 * 8  # each amplitude read and written once per layer (complex64)
    print(f"\n## Bandwidth (same run)\n\nmemory copy {mem_bw:.1f} GB/s, cache copy {cache_bw:.1f} GB/s; simulator "
          f"forward at (10, 30, 32): {fwd:.3f} s, {achieved / 1e6:.0f} M amplitude-layer updates/s = "
          f"{achieved * bytes_min / 1e9:.2f} GB/s at the minimum traffic of one read and one write per layer, "
          f"{100 * achieved * bytes_min / 1e9 / mem_bw:.0f} % of the memory roofline; the state of a batch "
          f"({BATCH * 30 * 2**q * 8 / 2**20:.0f} MiB) does not fit in cache.")

    print("\n## Scaling: generator forward + backward (s), batch 32\n")
    print("| q (t = 1) | seconds | | t (n = 6) | seconds |")
    print("|---|---|---|---|---|")
    qs = list(range(4, 17 if args.quick else 21, 2))
    ts = [1, 2, 5, 10, 20, 30]
    for i in range(max(len(qs), len(ts))):
        left = ""
        if i < len(qs):
            qq = qs[i]
            left = f"| {qq} | {generator_time(qq - 1, 1, None, 1 if qq > 16 else reps):.4f} |"
        else:
            left = "| | |"
        right = f" | {ts[i]} | {generator_time(6, ts[i], None, reps):.4f} |" if i < len(ts) else " | | |"
        print(left + right, flush=True)

    print("\n## The paper's grid: estimated training time from measured step times\n")
    total = 0.0
    steps = SpiQGAN(2).steps
    for n in (2, 4, 6, 8, 10):
        for t in (1, 2, 5, 10, 20, 30):
            per_step = step_times.get((n, t)) or training_step_time(n, t, None, 2 if n * t > 100 else reps,
                                                                    per_call=2 if n * t > 100 else 5)
            total += 2 * steps * per_step
    print(f"{5 * 6 * 2} runs x {steps} steps: {total / 3600:.2f} hours of training on this machine, one run at a time "
          "(estimate: measured step time x steps; evaluation and JS tracking not included)")


if __name__ == "__main__":
    main()
