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
from typing import Any, Sequence


from spiqgan import __version__
from spiqgan.data.raster import DEFAULT_BIN_MS, DEFAULT_TEST_FRACTION, SpikeRaster
from spiqgan.exceptions import DataError, SpiqganError
from spiqgan.models.registry import MODEL_NAMES
from spiqgan.experiments.compare import DEFAULT_MODELS, DEFAULT_SIZES
from spiqgan.cost import check_memory, describe_cost
from spiqgan.evaluation.scoring import DEFAULT_DRAWS
from spiqgan.models.gan import TRAINING_PRESETS

log = logging.getLogger("spiqgan")

SPLITS = ("train", "test")


def _add_data_options(p: argparse.ArgumentParser, windows: bool = True) -> None:
    g = p.add_argument_group("data")
    g.add_argument("--data", type=Path, default=None, metavar="PATH",
                   help=".mat, .npy or .npz spike data (default: the built-in synthetic population)")
    g.add_argument("--key", default=None, metavar="NAME", help="array name inside a .mat/.npz file (inferred when unique)")
    g.add_argument("--repeat-length", type=int, default=None, metavar="BINS",
                   help="bins per repeat of a 2-D raster (953 for the salamander recording)")
    g.add_argument("--bin-ms", type=float, default=DEFAULT_BIN_MS, metavar="MS", help="bin width in ms (default 20)")
    g.add_argument("--layout", default=None, help="axis order of the array, e.g. 'repeats,neurons,bins'")
    g.add_argument("--allow-partial-repeat", action="store_true",
                   help="accept a last repeat shorter than --repeat-length (e.g. the published K-pairwise samples, "
                        "283032 rows); without it a remainder is an error")
    g.add_argument("--clip", action="store_true", help="count bins with several spikes as one spike")
    g.add_argument("--synthetic-neurons", type=int, default=None, metavar="N",
                   help="neurons of the built-in synthetic population, without --data (default 16)")
    g.add_argument("--neurons", default=None, metavar="SEL", help="neurons to use: '0-3', '0,5,7' (default: all)")
    if windows:
        g.add_argument("--timesteps", type=int, default=1, metavar="T", help="bins per window (default 1)")
        g.add_argument("--stride", type=int, default=None, metavar="BINS",
                       help="bins between window starts (default: T, non-overlapping windows)")
    g.add_argument("--test-fraction", type=float, default=DEFAULT_TEST_FRACTION, metavar="F",
                   help="fraction of the repeats held out at the end (default 1/3)")


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spiqgan",
        description="Quantum and classical generative models of neuronal spike trains (binary population activity), "
                    "and the statistics and held-out likelihoods to judge them.",
    )
    parser.add_argument("--version", action="version", version=f"spiqgan {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # -v after the command too; SUPPRESS keeps a -v given before it
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log more detail")
    threads = argparse.ArgumentParser(add_help=False)
    threads.add_argument("--threads", type=int, default=None, metavar="N",
                         help="torch threads (default: chosen by problem size and by how busy the machine is; "
                              "see spiqgan.cost.default_threads)")

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
        "--samples", default=None, metavar="PATH|independent|train|test",
        help=("windows to judge: a file (.npy of shape (n_windows, t, n), or a raster such as the K-pairwise "
              ".mat samples), 'independent' (independent-Bernoulli model fitted to the other split), or real "
              "windows of the 'train' or 'test' split"),
    )
    ev.add_argument("--run", type=Path, default=None, metavar="RUN_DIR",
                    help="judge the model of a run folder instead of --samples: its samples (as many as reference "
                         "windows, --seed) and, where it has a likelihood, its held-out NLL with an interval")
    ev.add_argument("--samples-key", default=None, metavar="NAME", help="array name inside the samples file")
    ev.add_argument("--samples-repeat-length", type=int, default=None, metavar="BINS",
                    help="bins per repeat of a 2-D samples raster (default: --repeat-length); a 3-D file of windows "
                         "(n_windows, t, n), as spiqgan sample writes, needs none")
    ev.add_argument("--split-windows", action="store_true",
                    help="cut the windows of a 3-D samples file into pieces of --timesteps bins (else a file of "
                         "longer or shorter windows is refused)")
    ev.add_argument("--reference", choices=("test", "train"), default="test",
                    help="real windows to compare with (default: the held-out test repeats)")
    ev.add_argument("--max-lag", type=int, default=10, metavar="L", help="largest autocorrelogram lag (default 10)")
    ev.add_argument("--draws", type=int, default=DEFAULT_DRAWS,
                    help=f"random draws of halves and subsets to average (default {DEFAULT_DRAWS}; the table's "
                         "'floor se' column says how precise the floor is)")
    ev.add_argument("--seed", type=int, default=0, help="seed of subset draws and model samples (default 0)")
    ev.add_argument("--bootstrap", type=int, default=0, metavar="B",
                    help="also a 95 %% interval of every ratio from B bootstrap replicates of the held-out repeats "
                         "(and of the sample's own noise); 200 is a good number, 0 (the default) skips it")
    ev.add_argument("--out", type=Path, default=None, metavar="DIR", help="folder for the report and figures")
    ev.add_argument("--no-figures", action="store_true", help="write the JSON and text report only")
    ev.set_defaults(func=_cmd_evaluate)

    tr = sub.add_parser(
        "train",
        parents=[common, threads],
        help="fit a model (default: the cry Born machine; --model, --preset); checkpoints, metrics, figures and a "
             "held-out evaluation go to --out",
        description=(
            "Train on the training repeats, evaluate on the held-out repeats. Hyperparameters: the defaults, "
            "then --preset, then --config FILE.toml (keys as the option names, with - or _), then the options."
        ),
    )
    _add_data_options(tr)
    tr.add_argument("--preset", choices=sorted(TRAINING_PRESETS), default=None,
                    help="the exact settings of a paper: 'paper' (SpiQGAN) or 'qce2023'")
    tr.add_argument("--config", type=Path, default=None, metavar="FILE", help="TOML file of hyperparameters")
    tr.add_argument("--out", type=Path, required=True, metavar="RUN_DIR", help="run folder")
    tr.add_argument("--force", action="store_true",
                    help="replace a run of another configuration in RUN_DIR (without it: resume the same "
                         "configuration from its last checkpoint, refuse another)")
    tr.add_argument("--no-progress", action="store_true", help="no progress line")
    tr.add_argument("--no-figures", action="store_true", help="no figures")
    tr.add_argument("--model", type=_model_name, default=None, metavar="{" + ",".join(MODEL_NAMES) + ",FILE.py:NAME}",
                    help="cry (default: controlled-RY Born machine), iqp (IQP Born machine), spiqgan (the paper's "
                         "patch GAN; the default with --preset), qce2023, or a classical model: bitflip (IQP's "
                         "look-alike), bernoulli, ising, kpairwise, dg (dichotomized Gaussian), wgan-mlp, wgan-conv "
                         "(see spiqgan.models); or FILE.py:NAME, a PennyLane QNode or Qiskit circuit of yours as a "
                         "Born machine (see spiqgan.quantum.families.user)")
    _add_hyperparameters(tr)
    tr.set_defaults(func=_cmd_train)

    sw = sub.add_parser(
        "sweep", parents=[common], help="train a grid of runs from a TOML file",
        description="Train, sample and evaluate every run of a grid (see spiqgan.experiments.sweep for the file format), "
                    "each in SWEEP_DIR/runs/<name>, and gather their metrics into SWEEP_DIR/results.csv. "
                    "Finished runs are never redone; killed runs continue from their last checkpoint; "
                    "failed runs are recorded and retried on the next invocation.")
    sw.add_argument("--config", type=Path, required=True, metavar="SWEEP.toml", help="the sweep file")
    sw.add_argument("--out", type=Path, required=True, metavar="SWEEP_DIR", help="sweep folder")
    sw.add_argument("--workers", type=int, default=None, metavar="N",
                    help="runs at a time on this machine, one torch thread each (default: every core)")
    sw.add_argument("--executor", choices=("local", "dask"), default="local",
                    help="local processes, or Dask distributed (needs spiqgan[dask]; a LocalCluster of --workers "
                         "processes unless --scheduler is given)")
    sw.add_argument("--scheduler", default=None, metavar="ADDRESS",
                    help="a Dask scheduler address (tcp://host:8786) or scheduler file: run on that cluster")
    sw.add_argument("--no-figures", action="store_true", help="no figures in the run folders")
    sw.set_defaults(func=_cmd_sweep)

    cp = sub.add_parser(
        "compare", parents=[common], help="SpiQGAN and classical models side by side: error against parameters",
        description="Train every model on the same training repeats and judge it on the same held-out repeats, "
                    "for each window length: writes OUT/comparison.csv, comparison.txt and comparison.png "
                    "(error / noise floor against trainable parameters), and each model's run folder under "
                    "OUT/runs/. Resumable like a sweep: finished runs are kept.")
    _add_data_options(cp, windows=False)
    cp.add_argument("--timesteps", default="1", metavar="T1,T2", help="window lengths (default 1)")
    cp.add_argument("--models", default=",".join(DEFAULT_MODELS), metavar="M1,M2",
                    help=f"models to compare (default {','.join(DEFAULT_MODELS)}); any of {', '.join(MODEL_NAMES)}")
    cp.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)), metavar="S1,S2",
                    help="generator sizes of the classical GANs: hidden units or channels, or 'matched' to "
                         f"SpiQGAN's parameter count (default {','.join(map(str, DEFAULT_SIZES))})")
    cp.add_argument("--steps", type=int, default=None, metavar="N",
                    help="training steps of the models that train by steps (default: each model's own)")
    cp.add_argument("--seed", type=int, default=0, help="seed of every model (default 0)")
    cp.add_argument("--seeds", type=int, default=1, metavar="S",
                    help="fit every model with seeds SEED .. SEED+S-1 (default 1)")
    cp.add_argument("--groups", type=int, default=None, metavar="G",
                    help="compare on G random groups of --group-size neurons drawn from --neurons (group g drawn "
                         "with seed g; groups overlap where the pool is small, and the verdicts say how much)")
    cp.add_argument("--group-size", type=int, default=10, metavar="N", help="neurons per group (default 10)")
    cp.add_argument("--folds", type=int, default=1, metavar="K",
                    help="blocked cross-validation: each of K contiguous blocks of repeats held out in turn "
                         "(default 1: the --test-fraction split)")
    cp.add_argument("--baseline", default=None, metavar="MODEL",
                    help="over several groups, seeds or folds: the model every other one is compared with by "
                         "paired held-out NLL (default: the first model with a likelihood)")
    cp.add_argument("--out", type=Path, required=True, metavar="DIR", help="comparison folder")
    cp.add_argument("--workers", type=int, default=None, metavar="N",
                    help="models trained at a time, one torch thread each (default: every core)")
    cp.add_argument("--no-figures", action="store_true", help="no figures")
    cp.set_defaults(func=_cmd_compare)

    rp = sub.add_parser("report", parents=[common], help="figures, tables and an HTML page of a sweep",
                        description="Write SWEEP_DIR/report/: the paper's summary figures (error against n and t, "
                                    "K-loss minus standard loss, statistics against t per n), the results table and "
                                    "index.html, a static page of all of it and of every run's figures.")
    rp.add_argument("sweep_dir", type=Path, metavar="SWEEP_DIR")
    rp.set_defaults(func=_cmd_report)

    sa = sub.add_parser("sample", parents=[common, threads], help="draw windows from a trained run",
                        description="Draw binary windows (n_windows, t, n) uint8 from a run's generator into a .npy file, "
                                    "or into an NWB file (.nwb: one unit per neuron with spikes at bin centres, one "
                                    "trial per window; readable by pynwb, pynapple and spiqgan --data).")
    sa.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    sa.add_argument("--windows", type=int, default=10000, help="number of windows (default 10000)")
    sa.add_argument("--seed", type=int, default=0)
    sa.add_argument("--which", choices=("last", "best"), default="last",
                    help="the generator after the last step or at the step with the lowest JS")
    sa.add_argument("--out", type=Path, required=True, metavar="FILE.npy|FILE.nwb")
    sa.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    sa.add_argument("--backend", choices=("exact", "aer"), default="exact",
                    help="exact: spiqgan's simulator; aer: the exported circuits through Qiskit Aer "
                         "(pip install 'spiqgan[qiskit]')")
    sa.add_argument("--shots", type=int, default=None, metavar="N",
                    help="(aer) the most windows drawn from one execution of a circuit (default: as many as keep "
                         "windows independent); for the threshold and QCE readouts, shots per window and step "
                         "(default 1000)")
    sa.add_argument("--noise-model", default=None, metavar="SPEC",
                    help="(aer) depolarizing:P1,P2 (one- and two-qubit gate errors), readout:E (bit-flip probability "
                         "of a measurement), or both: depolarizing:0.001,0.01,readout:0.02; or a fake IBM backend, "
                         "e.g. fake_sherbrooke: its calibrated noise, native gates and coupling map")
    sa.add_argument("--mitigate-readout", action="store_true",
                    help="(aer, with --noise-model) write windows drawn from the readout-mitigated distribution of the "
                         "drawn windows' patterns (each bit's confusion inverted: the noise model's readout error, or "
                         "a fake backend's calibration circuits; t n <= 20), and the raw windows beside them as "
                         "FILE.raw.npy")
    sa.set_defaults(func=_cmd_sample)

    ex = sub.add_parser("export", parents=[common], help="write a trained generator as circuits (OpenQASM 3, Qiskit, PennyLane)",
                        description="Write the trained generator of RUN_DIR as circuits, one per sub-generator (or one "
                                    "window circuit with feed-forward when steps condition on earlier ones), trained "
                                    "angles bound, the random inputs as circuit inputs, and manifest.json saying what "
                                    "the inputs and registers mean.")
    ex.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    ex.add_argument("--format", choices=("qasm3", "qiskit", "pennylane"), default="qasm3",
                    help="qasm3: one .qasm file per circuit; qiskit: circuits.qpy (qiskit.qpy.load); pennylane: a "
                         "Python module, one function per circuit (default qasm3)")
    ex.add_argument("--out", type=Path, required=True, metavar="DIR")
    ex.add_argument("--which", choices=("last", "best"), default="last")
    ex.add_argument("--force", action="store_true", help="write into a folder that is not empty")
    ex.set_defaults(func=_cmd_export)

    rs = sub.add_parser("resources", parents=[common],
                        help="what a trained model costs on a device: transpiled depth, two-qubit gates, executions, shots",
                        description="Transpile the model's circuits with Qiskit for a device (an IBM device's native "
                                    "gates and coupling map from qiskit-ibm-runtime's fake backends, e.g. "
                                    "fake_sherbrooke (ECR) or fake_torino (CZ); or a generic topology: heavy-hex, IBM's "
                                    "127-qubit map with CX either way, or all-to-all) over several transpiler seeds, "
                                    "and count depth, two-qubit gates, and the circuit executions and shots to draw "
                                    "--windows windows and for one training step. Needs pip install 'spiqgan[qiskit]'.")
    rs.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    rs.add_argument("--device", default="heavy-hex", metavar="NAME",
                    help="a fake IBM backend (fake_sherbrooke, fake_torino, ...: native gates and coupling map), "
                         "heavy-hex or all-to-all (default heavy-hex)")
    rs.add_argument("--transpiler-seeds", type=int, default=5, metavar="N",
                    help="transpile each circuit with seeds 0..N-1: the figures of the seed with the fewest two-qubit "
                         "gates and the range over all (default 5)")
    rs.add_argument("--windows", type=int, default=10000, help="windows to draw (default 10000)")
    rs.add_argument("--shots", type=int, default=None, metavar="N", help="as for spiqgan sample --backend aer")
    rs.add_argument("--estimate-shots", type=int, default=1000, metavar="N",
                    help="shots per execution that estimate a probability during training (default 1000)")
    rs.add_argument("--which", choices=("last", "best"), default="last")
    rs.add_argument("--json", type=Path, default=None, metavar="FILE", help="also write the figures as JSON")
    rs.set_defaults(func=_cmd_resources)
    return parser


def _add_hyperparameters(p: argparse.ArgumentParser) -> None:
    """One option per hyperparameter of any model, its help from the models' docstrings; defaults (None) mean
    the model's own."""
    from spiqgan.models.registry import hyperparameters, option_choices, option_help

    groups = {"spiqgan": p.add_argument_group("SpiQGAN hyperparameters (see spiqgan.models.gan.SpiQGAN)"),
              "classical": p.add_argument_group("hyperparameters of the Born machines and classical models "
                                                "(see spiqgan.models.born, spiqgan.models.classical)")}
    docs, choices_of = option_help(), option_choices()
    for name, (default, users, same) in hyperparameters().items():
        flag = "--" + name.replace("_", "-")
        group = groups["spiqgan" if "spiqgan" in users else "classical"]
        where = "" if users == ["spiqgan"] or len(users) == len(MODEL_NAMES) - 1 else f" [{', '.join(users)}]"
        shown = f"default {default}" if same else "default: the model's own"
        help_text = f"{docs.get(name, '')}{where} ({shown})".replace("%", "%%")
        choices = choices_of.get(name) or None
        if isinstance(default, bool) or _annotation(name, users[0]).startswith("bool"):
            group.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        elif name == "size":
            group.add_argument(flag, type=_size, default=None, metavar="H", help=help_text)
        elif default is None and not choices:
            group.add_argument(flag, type=_number, default=None, metavar="X", help=help_text)
        else:
            kind = (str if choices else float) if default is None else type(default)  # --latent: None, or a choice
            group.add_argument(flag, type=kind, default=None, choices=choices, metavar=None if choices else "X",
                               help=help_text)


def _annotation(name: str, model: str) -> str:
    """The declared type of hyperparameter ``name`` of ``model``, as written (e.g. ``"bool | None"``)."""
    import inspect

    from spiqgan.models.registry import model_class

    annotation = inspect.signature(model_class(model).__init__).parameters[name].annotation
    return annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))


def _model_name(text: str) -> str:
    """``--model``: a registered model or ``FILE.py:NAME``."""
    from spiqgan.models.registry import is_model_name

    from spiqgan.quantum.families.user import is_user_circuit

    if not is_model_name(text):
        raise argparse.ArgumentTypeError(f"unknown model {text!r}; expected one of {', '.join(MODEL_NAMES)}, or "
                                         "FILE.py:NAME for a circuit of yours")
    if is_user_circuit(text):  # the file by its absolute path: a resume or a worker elsewhere finds it
        path, _, name = text.rpartition(":")
        return f"{Path(path).expanduser().resolve()}:{name}"
    return text


def _number(text: str) -> int | float:
    """An option whose default is None (the model decides): an integer where the text is one, else a number."""
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _size(text: str) -> int | str:
    if text == "matched":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'matched', got {text!r}") from None


def _cmd_train(args: argparse.Namespace) -> int:
    from spiqgan.experiments.runs import (check_config, check_data_options, check_model_options, check_out_folder,
                                          train_run)
    from spiqgan.models.base import ArrayModel, Previewable
    from spiqgan.models.registry import hyperparameters, model_spec

    check_out_folder(args.out)  # a file, no permission, another run's lock: refused before the data is loaded
    spec = model_spec(args.model, preset=args.preset, config=args.config,
                      **{k: getattr(args, k, None) for k in hyperparameters()})
    if not args.force:  # and a folder of other data or model options (the neurons are known once the data is)
        check_data_options(args.out, {"data": _data_label(args),
                                      "timesteps": args.timesteps, "stride": args.stride or args.timesteps,
                                      "test_fraction": args.test_fraction})
        check_model_options(args.out, lambda n_saved: spec.build(n_saved, args.timesteps).resolved_params())
    full, raster = _load(args)
    train, test = raster.split(args.test_fraction)
    train_w, train_starts = train.windows(args.timesteps, args.stride, return_starts=True)
    test_w, test_reps = test.windows(args.timesteps, args.stride, return_repeats=True)
    n, t = raster.n_neurons, args.timesteps
    model, preset = spec.build(n, t), spec.preset
    params = model.resolved_params()  # bad hyperparameters are refused before anything runs
    data_info = {
        "data": _data_label(args),
        "neurons": [int(i) for i in raster.neuron_ids], "timesteps": t, "stride": args.stride or t,
        "bin_ms": raster.bin_ms, "test_fraction": args.test_fraction, "preset": preset,
    }
    if not args.force:  # a folder of another configuration: refused before the timed first step
        check_config(args.out, {"data": data_info, "model": params})
    print(f"data: {raster!r}; {train_w.shape[0]} training windows, {test_w.shape[0]} held-out")
    threads = _set_threads(args, model)
    print(f"model: {model.describe(preset)}")
    check_memory(model)  # a fit that cannot fit in memory: refused before its first step allocates
    preview = model.preview(train_w) if isinstance(model, Previewable) else None  # a timed first step
    print(describe_cost(model, threads, preview))
    sys.stdout.flush()

    def show(trained, results) -> None:  # printed before the figures are drawn: a failure there cannot lose it
        if isinstance(trained, ArrayModel):  # fitted in one call: its parameters are known now
            print(f"fitted: {trained.n_parameters} parameters")
        if trained.best_step_ is not None:
            print(f"best step {trained.best_step_} (JS {trained.best_js_:.4g}); last step {trained.n_steps_}")
        for which, ev in results.items():
            print(f"\nheld-out evaluation, {which} generator:")
            print(ev.table())
        sys.stdout.flush()

    train_run(model, train_w, test_w, test_reps, args.out, train_starts=train_starts, data_info=data_info,
              progress=not args.no_progress,
              figures=not args.no_figures, force=args.force, on_results=show, estimated=preview is not None)
    print(f"\nrun written to {args.out}")
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from spiqgan.experiments.sweep import load_sweep
    from spiqgan.experiments.executors import LocalExecutor, run_sweep

    if args.workers is not None and args.workers < 1:
        raise DataError(f"--workers must be at least 1, got {args.workers}.")
    sweep = load_sweep(args.config)
    if args.executor == "dask" or args.scheduler is not None:
        from spiqgan.experiments.executors import DaskExecutor

        executor = DaskExecutor(args.scheduler, workers=args.workers)
    else:
        executor = LocalExecutor(args.workers)
    try:
        rows = run_sweep(sweep, args.out, executor=executor, figures=not args.no_figures)
    finally:
        if hasattr(executor, "close"):
            executor.close()
    failed = [r for r in rows if r["status"] == "failed"]
    print(f"{len(rows) - len(failed)} of {len(rows)} runs done; results in {args.out / 'results.csv'}")
    for r in failed:
        print(f"failed: {r['run']}: {r['error']} (see {args.out / 'runs' / r['run'] / 'error.json'})")
    return 1 if failed else 0


def _int_list(text: str, what: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise DataError(f"{what} must be integers separated by commas, such as 1,10; got {text!r}.") from None
    if not values or min(values) < 1:
        raise DataError(f"{what} must be positive integers separated by commas, such as 1,10; got {text!r}.")
    return values


def _cmd_compare(args: argparse.Namespace) -> int:
    from spiqgan.experiments.compare import comparison_sweep, write_comparison
    from spiqgan.experiments.executors import LocalExecutor, run_sweep

    if args.workers is not None and args.workers < 1:
        raise DataError(f"--workers must be at least 1, got {args.workers}.")
    if args.steps is not None and args.steps < 1:
        raise DataError(f"--steps must be a positive integer, got {args.steps}.")
    timesteps = _int_list(args.timesteps, "--timesteps")
    sizes = [v if v == "matched" else _int_list(v, "--sizes")[0] for v in args.sizes.split(",") if v.strip()]
    from spiqgan.experiments.runs import check_out_folder

    check_out_folder(args.out, lock=False)
    full, raster = _load(args)
    neurons = args.neurons if args.neurons is not None else f"0-{full.n_neurons - 1}"
    for flag, value in (("--seeds", args.seeds), ("--folds", args.folds), ("--group-size", args.group_size)):
        if value < 1:
            raise DataError(f"{flag} must be a positive integer, got {value}.")
    groups = None
    if args.groups is not None:
        from spiqgan.data.raster import parse_neurons
        from spiqgan.experiments.compare import neuron_groups

        groups = neuron_groups(parse_neurons(neurons, full.n_neurons).tolist(), args.group_size, args.groups)
    data = {"bin_ms": args.bin_ms, "clip": args.clip, "test_fraction": args.test_fraction,
            **({"allow_partial_repeat": True} if args.allow_partial_repeat else {})}
    data.update({k: v for k, v in (("path", str(args.data.resolve()) if args.data else None), ("key", args.key),
                                   ("repeat_length", args.repeat_length), ("layout", args.layout)) if v is not None})
    fixed = {"seed": args.seed, **({"steps": args.steps} if args.steps else {})}
    try:
        models = [_model_name(m.strip()) for m in args.models.split(",") if m.strip()]
    except argparse.ArgumentTypeError as exc:
        raise DataError(f"--models: {exc}.") from None
    sweep = comparison_sweep(data, neurons, timesteps, models, sizes, fixed, groups=groups,
                             seeds=list(range(args.seed, args.seed + args.seeds)), folds=args.folds)
    print(f"data: {raster!r}; models {', '.join(models)}; t = {', '.join(map(str, timesteps))}")
    rows = run_sweep(sweep, args.out, executor=LocalExecutor(args.workers), figures=not args.no_figures)
    written = write_comparison(sweep, args.out, figures=not args.no_figures, baseline=args.baseline)
    print(written["txt"].read_text(), end="")
    failed = [r for r in rows if r["status"] == "failed"]
    for r in failed:
        print(f"failed: {r['run']}: {r['error']} (see {args.out / 'runs' / r['run'] / 'error.json'})")
    print(f"wrote {', '.join(str(p) for p in written.values())}")
    return 1 if failed else 0


def _cmd_report(args: argparse.Namespace) -> int:
    from spiqgan.experiments.sweep_report import write_report

    page = write_report(args.sweep_dir)
    print(f"wrote {page} (open it in a browser) and the figures beside it")
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    from spiqgan.io.atomic import write_npy
    from spiqgan.experiments.runs import load_run

    out = args.out
    if args.windows < 1:
        raise DataError(f"--windows must be a positive integer, got {args.windows}.")
    if out.suffix.lower() not in (".npy", ".nwb"):
        raise DataError(f"--out {out}: the windows are written as a NumPy .npy file or an NWB .nwb file; give a name "
                        "ending in .npy or .nwb.")
    if out.is_dir():
        raise DataError(f"--out {out} is a folder; give a file name ending in .npy or .nwb.")
    if out.suffix.lower() == ".nwb":
        import importlib.util

        if importlib.util.find_spec("pynwb") is None:  # refused before any sampling
            raise DataError(f"--out {out}: writing NWB needs pynwb: pip install 'spiqgan[nwb]', or give a .npy name.")
    if out.exists() and not args.force:
        raise DataError(f"--out {out} exists; give another name, or --force to overwrite it.")
    if args.backend == "exact" and (args.shots is not None or args.noise_model is not None or args.mitigate_readout):
        raise DataError("--shots, --noise-model and --mitigate-readout belong to --backend aer; the exact sampler "
                        "takes none of them.")
    if args.mitigate_readout and args.noise_model is None:
        raise DataError("--mitigate-readout inverts the readout error of a noise model; give --noise-model too "
                        "(e.g. readout:0.02 or fake_sherbrooke).")
    raw = out.with_name(out.stem + ".raw.npy")  # where --mitigate-readout keeps the windows as drawn
    if args.mitigate_readout and raw.exists() and not args.force:
        raise DataError(f"{raw} exists (--mitigate-readout writes the raw windows there); give another --out, or "
                        "--force to overwrite both.")
    if args.backend == "aer":
        from spiqgan.hardware.export import aer_sample, load_export
        from spiqgan.hardware.sampling import NoiseSpec, parse_noise_model

        noise = parse_noise_model(args.noise_model) if args.noise_model is not None else None
        export = load_export(args.run_dir, args.which)
        if args.mitigate_readout:  # refused before any sampling: a readout, a size or a noise it cannot mitigate
            from spiqgan.hardware.mitigation import MAX_BITS, mitigated_windows, readout_confusion

            if export.n_timesteps * export.n_neurons > MAX_BITS:
                raise DataError(f"--mitigate-readout estimates the distribution of all 2^(t n) window patterns; t n = "
                                f"{export.n_timesteps * export.n_neurons} is over {MAX_BITS}.")
            if isinstance(noise, NoiseSpec) and noise.readout == 0:
                raise DataError(f"--noise-model {args.noise_model} has no readout error to mitigate.")
            confusion = readout_confusion(export, noise, seed=args.seed)
        windows = aer_sample(export, args.windows, shots=args.shots, noise=noise, seed=args.seed, progress=True)
        how = f"Qiskit Aer, {'noise ' + args.noise_model if noise else 'no noise'}"
        if args.mitigate_readout:
            write_npy(raw, windows)
            print(f"wrote {raw}: the {windows.shape[0]} windows as drawn")
            import numpy as np

            windows = mitigated_windows(windows, confusion, args.windows, np.random.default_rng([args.seed, 1]))
            how += ", drawn from the readout-mitigated pattern distribution of the raw windows"
    else:
        model = load_run(args.run_dir)
        _set_threads(args, model)
        windows = model.sample(args.windows, seed=args.seed, which=args.which)
        how = "exact"
    if out.suffix.lower() == ".nwb":
        _write_nwb_samples(out, windows, args, how)
    else:
        write_npy(out, windows)
    print(f"wrote {out}: {windows.shape[0]} windows of shape {windows.shape[1:]} ({args.which} generator, {how})")
    return 0


def _write_nwb_samples(out: Path, windows: Any, args: argparse.Namespace, how: str) -> None:
    """The drawn windows as NWB, the run's neurons as units and what drew them in the file's notes."""
    from spiqgan.data.nwb import save_nwb
    from spiqgan.experiments.runs import saved_config

    config = saved_config(args.run_dir)
    data, model = config.get("data", {}), config.get("model", {})
    neurons = data.get("neurons")
    save_nwb(out, windows, bin_ms=float(data.get("bin_ms", 20.0)),
             neuron_ids=neurons if neurons is not None and len(neurons) == windows.shape[2] else None,
             description=f"windows generated by spiqgan {__version__}, model {model.get('model', '?')}, "
                         f"run {args.run_dir}",
             metadata={"generator": "spiqgan", "version": __version__, "model": model.get("model"),
                       "run": str(args.run_dir.resolve()), "which": args.which, "seed": args.seed, "sampler": how,
                       "data": data.get("data")})


def _cmd_export(args: argparse.Namespace) -> int:
    from spiqgan.hardware.export import export_run, load_export

    export = load_export(args.run_dir, args.which)
    written = export_run(export, args.format, args.out, force=args.force)
    print(f"wrote {len(export.circuits)} {args.format} circuit(s) of model {export.model} to {args.out}: "
          + ", ".join(p.name for p in written))
    return 0


def _cmd_resources(args: argparse.Namespace) -> int:
    import json

    from spiqgan.experiments.runs import WINDOWS_FILE
    from spiqgan.hardware.export import load_export, resources
    from spiqgan.io.atomic import write_json

    for name in ("windows", "estimate_shots") + (("shots",) if args.shots is not None else ()):
        if getattr(args, name) < 1:
            raise DataError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}.")
    if args.transpiler_seeds < 1:
        raise DataError(f"--transpiler-seeds must be at least 1, got {args.transpiler_seeds}.")
    export = load_export(args.run_dir, args.which)
    counts = args.run_dir / WINDOWS_FILE  # written by train: how many distinct windows a likelihood step visits
    distinct = json.loads(counts.read_text()).get("distinct_training_windows") if counts.exists() else None
    report = resources(export, args.device, windows=args.windows, shots=args.shots,
                       estimate_shots=args.estimate_shots, transpiler_seeds=args.transpiler_seeds,
                       distinct_training_windows=distinct)
    print(_format_resources(report))
    if args.json is not None:
        write_json(args.json, report)
        print(f"wrote {args.json}")
    return 0


def _format_resources(r: dict) -> str:
    tr = r["transpiler"]
    seeds = tr["seeds"]
    lines = [f"model {r['model']} ({r['neurons']} neurons, {r['timesteps']} steps) on {r['device']} "
             f"(Qiskit transpiler, optimization level {tr['optimization_level']}, basis {' '.join(tr['basis_gates'])}; "
             f"seeds {seeds[0]}-{seeds[-1]}: the seed with the fewest two-qubit gates, and the range over all)",
             f"{'circuit':<10} {'qubits':>6} {'seed':>4} {'depth':>7} {'range':>11} {'2q gates':>9} {'range':>11} "
             f"{'cond. 2q':>9} {'measure':>8} {'if':>6}"]

    def span(c: dict, key: str) -> str:
        lo, hi = c[f"{key}_range"]
        return f"{lo}-{hi}" if lo != hi else f"{lo}"

    for c in r["circuits"]:
        lines.append(f"{c['circuit']:<10} {c['logical_qubits']:>6} {c['seed']:>4} {c['depth']:>7} "
                     f"{span(c, 'depth'):>11} {c['two_qubit_gates']:>9} {span(c, 'two_qubit_gates'):>11} "
                     f"{c['conditional_two_qubit_gates']:>9} {c['measurements']:>8} {c['conditional_blocks']:>6}")
    s = r["sampling"]
    lines.append(f"draw {s['windows']} windows: {s['executions']} executions, {s['shots']} shots")
    for route, t in r["training_per_step"].items():
        lines.append(f"one training step, {route.replace('_', ' ')}: {t['executions']} executions, {t['shots']} shots "
                     f"at {r['estimate_shots']} shots each ({t['note']})")
    return "\n".join(lines)


def _set_threads(args: argparse.Namespace, model: object) -> int:
    """Set torch's thread count: ``--threads``, or :func:`spiqgan.cost.default_threads` for the model's size."""
    import torch

    from spiqgan.cost import default_threads

    if args.threads is not None and args.threads < 1:
        raise DataError(f"--threads must be at least 1, got {args.threads}.")
    threads = args.threads or default_threads(model.problem_size())
    torch.set_num_threads(threads)
    return threads


def _data_label(args: argparse.Namespace) -> str:
    """The data in words for a run's records: the file, or the built-in population (with its size if asked)."""
    if args.data:
        return str(args.data)
    size = getattr(args, "synthetic_neurons", None)
    return "built-in synthetic" if size is None else f"built-in synthetic ({size} neurons)"


def _load(args: argparse.Namespace) -> tuple[SpikeRaster, SpikeRaster]:
    """The full raster and the selected one."""
    from spiqgan.data.loaders import load_dataset

    full = load_dataset(
        args.data, key=args.key, repeat_length=args.repeat_length, bin_ms=args.bin_ms, layout=args.layout,
        clip=args.clip, allow_partial_repeat=args.allow_partial_repeat,
        synthetic_neurons=getattr(args, "synthetic_neurons", None),
    )
    return full, full.select_neurons(args.neurons)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from spiqgan.models.classical.bernoulli import IndependentBernoulli
    from spiqgan.evaluation.scoring import evaluate
    from spiqgan.data.loaders import load_samples
    from spiqgan.evaluation.report import save_evaluation
    from spiqgan.experiments.runs import check_out_folder

    if args.out is not None:  # refused before the evaluation is computed, not after
        check_out_folder(args.out, lock=False)
    full, raster = _load(args)
    log.info("data: %r", raster)
    train, test = raster.split(args.test_fraction)
    splits = {"train": train, "test": test}
    other = "train" if args.reference == "test" else "test"
    reference, reference_repeats = splits[args.reference].windows(args.timesteps, args.stride, return_repeats=True)
    if (args.samples is None) == (args.run is None):
        raise DataError("give what to judge: --samples PATH|independent|train|test, or --run RUN_DIR (one of them).")
    if args.samples == args.reference:
        raise DataError(f"--samples {args.samples} is the reference split itself; compare it with the other split.")
    if args.run is not None:
        from spiqgan.experiments.runs import evaluate_model, likelihood_arguments, load_run

        model = load_run(args.run)
        shape = (model.params_["n_timesteps"], model.params_["n_neurons"])
        if shape != reference.shape[1:]:
            raise DataError(f"the model of {args.run} is for windows (t, n) = {shape}, but --neurons and --timesteps "
                            f"select {reference.shape[1:]}; give the run's neurons and time steps.")
        from spiqgan.experiments.moments import evaluate_moments, judged_by_moments

        if judged_by_moments(model):  # no classical samples: the moment table and the held-out MMD
            if args.bootstrap:
                raise DataError(f"--bootstrap resamples generated windows; {model.name} over "
                                f"{shape[0] * shape[1]} qubits has none (its table comes from expectation values).")
            result = evaluate_moments(model, reference, reference_repeats, train=splits[other].windows(
                args.timesteps, args.stride), max_lag=args.max_lag, seed=args.seed)
            print(f"model:     {args.run} ({model.name}, judged from expectation values)")
            print(f"reference: {args.reference} split of {raster!r} ({reference.shape[0]} windows, "
                  f"{splits[args.reference].n_repeats} repeats)")
            print(result.table())
            if args.out is not None:
                written = save_evaluation(result, None, reference, args.out, figures=False,
                                          metadata={"data": _data_label(args), "run": str(args.run)})
                print(f"wrote {', '.join(str(p) for p in written.values())}")
            return 0
        likelihood = likelihood_arguments(model, reference)
        result, generated, drawn = evaluate_model(
            model, reference, reference_repeats, sample_seed=args.seed, max_lag=args.max_lag, n_draws=args.draws,
            seed=args.seed, **likelihood)
        label = f"the model of {args.run} ({model.name}, {drawn})"
    elif args.samples in SPLITS:
        generated = splits[args.samples].windows(args.timesteps, args.stride)
        label = f"real windows of the {args.samples} split"
    elif args.samples == "independent":
        model = IndependentBernoulli().fit(splits[other].windows(args.timesteps, args.stride))
        generated = model.sample(reference.shape[0], seed=args.seed)
        label = f"independent-Bernoulli model fitted to the {other} split"
    else:
        generated = load_samples(
            args.samples, data_n_neurons=full.n_neurons, selection=args.neurons, timesteps=args.timesteps,
            key=args.samples_key, clip=args.clip, allow_partial_repeat=args.allow_partial_repeat,
            repeat_length=args.samples_repeat_length if args.samples_repeat_length is not None else args.repeat_length,
            split_windows=args.split_windows,
        )
        label = str(args.samples)
    if args.run is None:
        result = evaluate(generated, reference, reference_repeats=reference_repeats, max_lag=args.max_lag,
                          n_draws=args.draws, seed=args.seed)
    if args.bootstrap:
        from spiqgan.evaluation.scoring import bootstrap_ratios

        if args.bootstrap < 2:
            raise DataError(f"--bootstrap must be 0 or at least 2, got {args.bootstrap}.")
        boot = bootstrap_ratios({"model": generated}, reference, reference_repeats, n_boot=args.bootstrap,
                                max_lag=args.max_lag, seed=args.seed)
        result.ratio_intervals = {r.statistic: boot.interval("model", r.statistic) for r in result.rows}
    print(f"samples:   {label} ({generated.shape[0]} windows)")
    print(f"reference: {args.reference} split of {raster!r} ({reference.shape[0]} windows, "
          f"{splits[args.reference].n_repeats} repeats)")
    print(result.table())
    if args.out is not None:
        metadata = {
            "data": _data_label(args),
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


def _os_error_message(exc: OSError) -> str:
    """One line for an operating-system error at a read or write, with what to do about it."""
    import errno

    where = f"{exc.filename}: " if exc.filename else ""
    hint = {
        errno.ENOSPC: "the disk is full; free space or write elsewhere (--out).",
        errno.EDQUOT: "the disk quota is exceeded; free space or write elsewhere (--out).",
        errno.EACCES: "permission denied; choose a folder you can write to (--out).",
        errno.EPERM: "operation not permitted; choose a folder you can write to (--out).",
        errno.EROFS: "the file system is read-only; choose another folder (--out).",
        errno.EEXIST: "a file is in the way of a folder; choose another --out.",
        errno.ENOTDIR: "a file is in the way of a folder; choose another --out.",
        errno.EISDIR: "a folder is in the way of a file; choose another --out.",
    }.get(exc.errno, f"{exc.strerror or exc}.")
    return f"{where}{hint}"


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
    except OSError as exc:  # a full disk, a read-only folder, a file where a folder should be
        print(f"spiqgan: error: {_os_error_message(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("spiqgan: interrupted", file=sys.stderr)
        return 130
    except (MemoryError, RuntimeError) as exc:  # an allocation that fails after all: one line, not a traceback
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if isinstance(exc, RuntimeError) and "allocat" not in text and "out of memory" not in text.lower():
            raise
        print(f"spiqgan: error: out of memory ({text}); lower the run's size (--noise-samples, --batch-size, fewer "
              "neurons or time steps, --backend mps) or free memory", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
