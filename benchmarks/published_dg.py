"""spiqgan's dichotomized Gaussian against the published DG samples at 40 neurons, and why it trailed them.

The published samples of ../shared (Spike-GAN's) come as rasters of 297 x 953 bins, like the
recording. This script measures, for the recording, the published DG and K-pairwise samples:

* how closely each follows the movie: the correlation, over the 953 bins of a repeat, of its
  population rate (spikes per bin, averaged over repeats) with the recording's;
* at (40, 1) and (40, 10), the error / noise-floor ratios of covariance and k-probability (and, at
  t = 10, autocorrelogram and lag cross-covariance), held out (the last third of the repeats) and in
  sample (the training repeats, split by repeats), for the published DG samples, spiqgan's DG as
  ``spiqgan train --model dg`` fits it (stimulus-locked: latent means per bin of the movie), the
  stationary DG (``stimulus_locked=false``: one latent mean per neuron, what spiqgan fitted before)
  and the training repeats themselves. The published samples saw every repeat, the held-out ones
  included; spiqgan's models saw the training repeats only.

    python benchmarks/published_dg.py    # about 10 min on 2 cores
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from spiqgan.data.loaders import load_raster
from spiqgan.evaluation.scoring import evaluate
from spiqgan.models import make_model

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "salamander-retina"
REPEAT = 953


def rasters(data_dir: Path) -> dict[str, object]:
    """The recording and the published samples as spike rasters (the K-pairwise file's last, partial repeat kept)."""
    out = {}
    for name, file, key in (("recording", "recording_40_neurons.mat", "data"),
                            ("published DG", "dichotomized_gaussian_samples_40_neurons.mat", "data"),
                            ("published K-pairwise", "k_pairwise_samples_40_neurons.mat", "samples_batch_all")):
        out[name] = load_raster(data_dir / file, key=key, repeat_length=REPEAT, allow_partial_repeat=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DATA)
    parser.add_argument("--draws", type=int, default=30)
    parser.add_argument("--timesteps", default="1,10")
    args = parser.parse_args()
    r = rasters(args.data_dir)
    full = {k: v.windows(REPEAT) for k, v in r.items()}  # (repeats, 953, 40): one window per repeat
    psth = {k: v.astype(np.float64).mean(0).sum(1) for k, v in full.items()}
    print("population rate over the 953 bins of the movie (spikes per bin):")
    for k, p in psth.items():
        print(f"  {k:<22} std {p.std():.3f}, correlation with the recording's {np.corrcoef(p, psth['recording'])[0, 1]:+.4f}")

    train, test = r["recording"].split()  # the default split: the last third held out
    for t in map(int, args.timesteps.split(",")):
        train_w, train_reps, train_starts = train.windows(t, return_repeats=True, return_starts=True)
        test_w, test_reps = test.windows(t, return_repeats=True)
        locked = make_model("dg", 40, t).fit(train_w, starts=train_starts)
        stationary = make_model("dg", 40, t, stimulus_locked=False).fit(train_w)
        candidates = {
            "published DG": r["published DG"].windows(t),
            "spiqgan DG (stimulus-locked)": locked.sample(len(test_w), seed=1),
            "spiqgan DG (stationary)": stationary.sample(len(test_w), seed=1),
            "training repeats": train_w,
        }
        stats = ["covariance", "k_probability"] + (["autocorrelogram", "lag_covariance"] if t > 1 else [])
        print(f"\n(40, {t}), error / noise floor ({args.draws} draws): held out | in sample")
        print(f"  {'':<30}" + "".join(f"{s[:12]:>13}" for s in stats) + " |" + "".join(f"{s[:12]:>13}" for s in stats))
        for name, windows in candidates.items():
            ho = {x.statistic: x.ratio for x in evaluate(windows, test_w, reference_repeats=test_reps,
                                                          n_draws=args.draws).rows}
            ins = {x.statistic: x.ratio for x in evaluate(windows, train_w, reference_repeats=train_reps,
                                                           n_draws=args.draws).rows}
            print(f"  {name:<30}" + "".join(f"{ho[s]:>13.2f}" for s in stats) + " |"
                  + "".join(f"{ins[s]:>13.2f}" for s in stats), flush=True)


if __name__ == "__main__":
    main()
