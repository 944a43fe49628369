"""The papers' presets and the current defaults, trained on the salamander recording and evaluated on held-out data.

Neurons 0-3, (n, t) = (4, 1) and (4, 5), 1000 steps, seed 0, for
``--preset paper`` (SpiQGAN paper), ``--preset qce2023`` and the adversarial
defaults of version 0.1 (the current defaults are in ``fit_quality.py``); plus
the QCE 2023 Figure 1 setting (2 neurons, 1 time step) with the uniform readout
constant and with c = 0.75. Each run is a full run folder under ``--out``; the
script prints a markdown table of held-out errors (error / noise floor).
Run time: about 6 minutes on 2 cores.

    python benchmarks/presets.py --out runs/presets
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

from spiqgan.evaluation.scoring import STATISTICS
from spiqgan.data.loaders import load_raster
from spiqgan.models.gan import SpiQGAN
from spiqgan.experiments.runs import train_run

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "salamander-retina" / "recording_40_neurons.mat"

#: the adversarial settings that were the defaults before the likelihood objective
OLD_DEFAULTS = dict(objective="adversarial", noise_scale=0.1, trainable_encoding=False, noise_mixing=False,
                    batch_size=32, lr_generator=0.01, lr_schedule="constant", steps=1000)

RUNS = [
    # (label, preset, neurons, t, overrides)
    ("paper preset", "paper", "0-3", 1, {}),
    ("paper preset", "paper", "0-3", 5, {}),
    ("qce2023 preset", "qce2023", "0-3", 1, {}),
    ("qce2023 preset", "qce2023", "0-3", 5, {}),
    ("adversarial defaults of 0.1", None, "0-3", 1, OLD_DEFAULTS),
    ("adversarial defaults of 0.1", None, "0-3", 5, OLD_DEFAULTS),
    ("qce2023 preset (QCE Fig. 1)", "qce2023", "0-1", 1, {}),
    ("qce2023 preset, c = 0.75", "qce2023", "0-1", 1, {"qce_offset": 0.75}),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=Path("runs/presets"))
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args()
    raster = load_raster(args.data, repeat_length=953)
    labels = [label for name, _, label in STATISTICS]
    lines = ["| model | n | t | estimator | parameters | best step | " + " | ".join(labels) + " | seconds |",
             "|" + "---|" * (7 + len(labels))]
    for label, preset, neurons, t, overrides in RUNS:
        train, test = raster.select_neurons(neurons).split()
        train_w = train.windows(t)
        test_w, test_reps = test.windows(t, return_repeats=True)
        n = train_w.shape[2]
        kw = {**overrides, "steps": args.steps}
        model = SpiQGAN.from_preset(preset, n, t, **kw) if preset else SpiQGAN(n, t, **kw)
        slug = re.sub(r"[^a-z0-9.]+", "_", label.split(" (")[0].lower()).strip("_") + f"_n{n}_t{t}"
        start = time.perf_counter()
        model, results = train_run(model, train_w, test_w, test_reps, args.out / slug, progress=False)
        seconds = time.perf_counter() - start
        ev = results["last"]
        cells = ["n/a" if r.ratio is None else f"{r.error:.3g} ({r.ratio:.3g}x)" for r in ev.rows]
        lines.append(
            f"| {label} | {n} | {t} | {model.params_['estimator']} | "
            f"{model.generator_.resources()['trainable_parameters']} | {model.best_step_} | "
            + " | ".join(cells) + f" | {seconds:.0f} |"
        )
        print(lines[-1], flush=True)
    print("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
