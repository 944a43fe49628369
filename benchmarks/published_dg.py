"""Why spiqgan's dichotomized Gaussian trails the published DG samples at 40 neurons: the stimulus.

The published samples of ../shared (Spike-GAN's) come as rasters of 297 x 953 bins, like the
recording. This script measures, for the recording, the published DG and K-pairwise samples:

* how closely each follows the movie: the correlation, over the 953 bins of a repeat, of its
  population rate (spikes per bin, averaged over repeats) with the recording's;
* at (40, 1), the error / noise-floor ratios of covariance and k-probability, held out (the last third
  of the repeats) and in sample (the training repeats), for the published DG samples, spiqgan's DG
  (stationary: one Gaussian for every bin, what ``--model dg`` fits), and a stimulus-locked DG
  (a prototype here, not a spiqgan model: the latent means follow each neuron's firing rate at each
  bin of the movie, estimated on the training repeats, with one latent correlation matrix fitted to
  the pooled pairwise moments).

    python benchmarks/published_dg.py    # about 2 min on 2 cores
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from spiqgan.data.loaders import load_raster
from spiqgan.evaluation.scoring import evaluate
from spiqgan.models import make_model
from spiqgan.models.classical.dg import RHO_MAX, bivariate_orthant, nearest_correlation

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "salamander-retina"
REPEAT = 953


def rasters(data_dir: Path) -> dict[str, np.ndarray]:
    """The recording and the published samples as ``(repeats, 953, 40)`` (the K-pairwise file's last, partial
    repeat left out)."""
    out = {}
    for name, file, key in (("recording", "recording_40_neurons.mat", "data"),
                            ("published DG", "dichotomized_gaussian_samples_40_neurons.mat", "data"),
                            ("published K-pairwise", "k_pairwise_samples_40_neurons.mat", "samples_batch_all")):
        raster = load_raster(data_dir / file, key=key, repeat_length=REPEAT, allow_partial_repeat=True)
        out[name] = raster.windows(REPEAT)  # (repeats, 953, 40): one window per repeat
    return out


def stimulus_locked_dg(train: np.ndarray, reps: int, seed: int) -> np.ndarray:
    """The prototype: ``reps`` repeats ``(reps, 953, n)`` of a DG whose latent means follow the training PSTH."""
    from scipy.special import ndtri

    r, t, n = train.shape
    x = train.astype(np.float64)
    rate = np.clip(x.mean(0), 0.5 / r, 1 - 0.5 / r)  # (t, n); half a spike where a bin never fired
    gamma = ndtri(rate)
    second = np.einsum("rsi,rsj->ij", x, x) / (r * t)
    iu = np.triu_indices(n, 1)
    a, b, target = gamma[:, iu[0]], gamma[:, iu[1]], second[iu]
    lo, hi = np.full(len(target), -RHO_MAX), np.full(len(target), RHO_MAX)
    for _ in range(40):  # bisection: the pooled P(x_i = x_j = 1) over the movie equals the data's
        mid = 0.5 * (lo + hi)
        below = bivariate_orthant(a, b, mid[None]).mean(0) < target
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    rho = np.eye(n)
    rho[iu] = rho[(iu[1], iu[0])] = 0.5 * (lo + hi)
    w, v = np.linalg.eigh(nearest_correlation(rho))
    root = v * np.sqrt(np.maximum(w, 0.0))
    z = gamma[None] + np.random.default_rng(seed).standard_normal((reps, t, n)) @ root.T
    return (z > 0).astype(np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DATA)
    parser.add_argument("--draws", type=int, default=10)
    args = parser.parse_args()
    r = rasters(args.data_dir)
    psth = {k: v.astype(np.float64).mean(0).sum(1) for k, v in r.items()}
    print("population rate over the 953 bins of the movie (spikes per bin):")
    for k, p in psth.items():
        print(f"  {k:<22} std {p.std():.3f}, correlation with the recording's {np.corrcoef(p, psth['recording'])[0, 1]:+.4f}")

    rec = r["recording"]
    n_train = rec.shape[0] - rec.shape[0] // 3  # the default split: the last third held out
    train, test = rec[:n_train], rec[n_train:]
    held_out, held_reps = test.reshape(-1, 1, 40), np.repeat(np.arange(test.shape[0]), REPEAT)
    in_sample = train.reshape(-1, 1, 40)
    dg = make_model("dg", 40, 1).fit(in_sample)
    candidates = {
        "published DG": r["published DG"].reshape(-1, 1, 40),
        "spiqgan DG (stationary)": dg.sample(held_out.shape[0], seed=1),
        "stimulus-locked DG": stimulus_locked_dg(train, test.shape[0], seed=1).reshape(-1, 1, 40),
        "training repeats": in_sample,
    }
    print(f"\n(40, 1), error / noise floor ({args.draws} draws): held out | in sample")
    print(f"  {'':<26}{'covariance':>11}{'k-prob':>9} |{'covariance':>11}{'k-prob':>9}")
    for name, windows in candidates.items():
        ho = {x.statistic: x.ratio for x in evaluate(windows, held_out, reference_repeats=held_reps,
                                                      n_draws=args.draws).rows}
        ins = {x.statistic: x.ratio for x in evaluate(windows, in_sample, n_draws=args.draws).rows}
        print(f"  {name:<26}{ho['covariance']:>11.2f}{ho['k_probability']:>9.2f} |"
              f"{ins['covariance']:>11.2f}{ins['k_probability']:>9.2f}")


if __name__ == "__main__":
    main()
