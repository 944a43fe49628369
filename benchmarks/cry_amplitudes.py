"""How much probability the default cry model's negative amplitudes carry, fitted at (10, 1).

The controlled-RY circuit's amplitude of a pattern is one product of cos or sin of half an angle per
neuron (no sum over paths, so no interference); angles beyond pi make some products negative. Fits the
default ``cry`` model to the training repeats of neurons 0-9 of the shared recording (seed 0) and sums
the probability of the patterns whose amplitude is negative, over the latent values with their weights.

    python benchmarks/cry_amplitudes.py    # measured: 0.0152
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from spiqgan.data.loaders import load_raster
from spiqgan.models import make_model
from spiqgan.quantum.families.base import lower_triangular, pattern_bits

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "salamander-retina" / "recording_40_neurons.mat"


def negative_share(model) -> float:
    """Probability of the patterns with a negative amplitude, summed over the latent values (t = 1)."""
    n = model.params_["n_neurons"]
    z, w = model._latent()
    bits = pattern_bits(n, torch.float64)
    wl = lower_triangular(torch.as_tensor(model.pairs_), n)
    share = 0.0
    for k in range(z.shape[0]):
        theta = torch.as_tensor(model.angles_[0]) + torch.as_tensor(model.loadings_[0]) @ z[k]
        phi = theta[None] + bits @ wl.T  # each neuron's total angle given the earlier ones
        amp = torch.where(bits == 1, torch.sin(phi / 2), torch.cos(phi / 2)).prod(-1)
        share += float(w[k] * (amp[amp < 0] ** 2).sum())
    return share


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--neurons", default="0-9")
    args = parser.parse_args()
    train, _ = load_raster(args.data, repeat_length=953).select_neurons(args.neurons).split()
    x = train.windows(1)
    model = make_model("cry", x.shape[2], 1, seed=0).fit(x)
    print(f"probability carried by negative amplitudes: {negative_share(model):.4f}")


if __name__ == "__main__":
    main()
