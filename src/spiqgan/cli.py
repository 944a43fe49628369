"""The ``spiqgan`` command line: a thin layer that parses options and calls the Python API.

Every data-reading command takes the same data options (``--data``, ``--key``,
``--repeat-length``, ``--bin-ms``, ``--layout``, ``--clip``, ``--neurons``,
``--timesteps``, ``--stride``, ``--test-fraction``). Without ``--data`` the
built-in synthetic dataset is used. Errors that spiqgan raises on purpose are
printed as one line (``spiqgan: error: ...``) with exit status 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Sequence


from . import __version__
from .data import DEFAULT_BIN_MS, DEFAULT_TEST_FRACTION, SpikeRaster
from .exceptions import DataError, SpiqganError

log = logging.getLogger("spiqgan")

SAMPLE_KEYWORDS = ("independent", "train", "test")


def _add_data_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("data")
    g.add_argument("--data", type=Path, default=None, metavar="PATH",
                   help=".mat, .npy or .npz spike data (default: the built-in synthetic population)")
    g.add_argument("--key", default=None, metavar="NAME", help="array name inside a .mat/.npz file (inferred when unique)")
    g.add_argument("--repeat-length", type=int, default=None, metavar="BINS",
                   help="bins per repeat of a 2-D raster (953 for the salamander recording)")
    g.add_argument("--bin-ms", type=float, default=DEFAULT_BIN_MS, metavar="MS", help="bin width in ms (default 20)")
    g.add_argument("--layout", default=None, help="axis order of the array, e.g. 'repeats,neurons,bins'")
    g.add_argument("--clip", action="store_true", help="count bins with several spikes as one spike")
    g.add_argument("--neurons", default=None, metavar="SEL", help="neurons to use: '0-3', '0,5,7' (default: all)")
    g.add_argument("--timesteps", type=int, default=1, metavar="T", help="bins per window (default 1)")
    g.add_argument("--stride", type=int, default=None, metavar="BINS",
                   help="bins between window starts (default: T, non-overlapping windows)")
    g.add_argument("--test-fraction", type=float, default=DEFAULT_TEST_FRACTION, metavar="F",
                   help="fraction of the repeats held out at the end (default 1/3)")


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spiqgan",
        description="Quantum GANs for synthetic neuronal spike trains, and the statistics to judge them.",
    )
    parser.add_argument("--version", action="version", version=f"spiqgan {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # -v after the command too; SUPPRESS keeps a -v given before it
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log more detail")

    ev = sub.add_parser(
        "evaluate",
        parents=[common],
        help="compare samples with held-out data: error, noise floor and ratio per statistic",
        description=(
            "Compare sample windows with real windows of the reference split (held-out repeats by default). "
            "Prints a table (statistic, error, floor, ratio) and writes evaluation.json, evaluation.txt and "
            "figures to --out."
        ),
    )
    _add_data_options(ev)
    ev.add_argument(
        "--samples", required=True, metavar="PATH|independent|train|test",
        help=("windows to judge: a file (.npy of shape (n_windows, t, n), or a raster such as the K-pairwise "
              ".mat samples), 'independent' (independent-Bernoulli model fitted to the other split), or real "
              "windows of the 'train' or 'test' split"),
    )
    ev.add_argument("--samples-key", default=None, metavar="NAME", help="array name inside the samples file")
    ev.add_argument("--reference", choices=("test", "train"), default="test",
                    help="real windows to compare with (default: the held-out test repeats)")
    ev.add_argument("--max-lag", type=int, default=10, metavar="L", help="largest autocorrelogram lag (default 10)")
    ev.add_argument("--draws", type=int, default=10, help="random draws of halves and subsets to average (default 10)")
    ev.add_argument("--seed", type=int, default=0, help="seed of subset draws and model samples (default 0)")
    ev.add_argument("--out", type=Path, default=None, metavar="DIR", help="folder for the report and figures")
    ev.add_argument("--no-figures", action="store_true", help="write the JSON and text report only")
    ev.set_defaults(func=_cmd_evaluate)
    return parser


def _load(args: argparse.Namespace) -> tuple[SpikeRaster, SpikeRaster]:
    """The full raster and the selected one."""
    from .loaders import load_dataset

    full = load_dataset(
        args.data, key=args.key, repeat_length=args.repeat_length, bin_ms=args.bin_ms, layout=args.layout,
        clip=args.clip,
    )
    return full, full.select_neurons(args.neurons)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from .baselines import IndependentBernoulli
    from .evaluation import evaluate
    from .loaders import load_samples
    from .report import save_evaluation

    full, raster = _load(args)
    log.info("data: %r", raster)
    train, test = raster.split(args.test_fraction)
    splits = {"train": train, "test": test}
    other = "train" if args.reference == "test" else "test"
    reference, reference_repeats = splits[args.reference].windows(args.timesteps, args.stride, return_repeats=True)
    if args.samples == args.reference:
        raise DataError(f"--samples {args.samples} is the reference split itself; compare it with the other split.")
    if args.samples in SAMPLE_KEYWORDS[1:]:
        generated = splits[args.samples].windows(args.timesteps, args.stride)
        label = f"real windows of the {args.samples} split"
    elif args.samples == "independent":
        model = IndependentBernoulli().fit(splits[other].windows(args.timesteps, args.stride))
        generated = model.sample(reference.shape[0], seed=args.seed)
        label = f"independent-Bernoulli model fitted to the {other} split"
    else:
        generated = load_samples(
            args.samples, data_n_neurons=full.n_neurons, selection=args.neurons, timesteps=args.timesteps,
            key=args.samples_key, repeat_length=args.repeat_length, clip=args.clip,
        )
        label = str(args.samples)
    result = evaluate(
        generated, reference, reference_repeats=reference_repeats, max_lag=args.max_lag, n_draws=args.draws,
        seed=args.seed,
    )
    print(f"samples:   {label} ({generated.shape[0]} windows)")
    print(f"reference: {args.reference} split of {raster!r} ({reference.shape[0]} windows, "
          f"{splits[args.reference].n_repeats} repeats)")
    print(result.table())
    if args.out is not None:
        metadata = {
            "data": str(args.data) if args.data else "built-in synthetic",
            "neurons": [int(i) for i in raster.neuron_ids],
            "timesteps": args.timesteps,
            "stride": args.stride or args.timesteps,
            "bin_ms": raster.bin_ms,
            "test_fraction": args.test_fraction,
            "reference": args.reference,
            "samples": label,
        }
        written = save_evaluation(result, generated, reference, args.out, metadata=metadata, figures=not args.no_figures)
        print(f"wrote {', '.join(str(p) for p in written.values())}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except SpiqganError as exc:
        print(f"spiqgan: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("spiqgan: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
