"""The command line: parse flags into configs, call one function, turn user mistakes into one line.

Keras and JAX are imported only by the commands that need them, so `--help` and argument errors
answer at once.
"""

import argparse
import math
import os
import signal
import sys
from pathlib import Path

import lstmlab
from lstmlab import cells, tasks
from lstmlab.api import DEFAULT_CACHE
from lstmlab.config import (FIELDS, INITS, LR_SCHEDULES, STOPS, TBPTT_SCHEMES, RunConfig, TaskConfig, TrainConfig,
                            with_values)
from lstmlab.errors import ConfigError, NonFiniteLossError, RunsFailedError, UserError, WrongBackendError, one_line

DEFAULT_OUT = Path("runs/reference")
TARGETS = sorted({t for task in tasks.TASKS.values() for t in task.targets})
OBJECTIVES = sorted({o for task in tasks.TASKS.values() for o in task.objectives})


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # One line, exit status 2, no usage dump: the message names the flag and the value.
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see --help)\n")


def _int_at_least(minimum: int, kind: str):
    """An argparse type: an integer >= minimum, else an error that quotes the text."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected a {kind} integer, got {text!r}")
        return value

    return parse


_positive_int = _int_at_least(1, "positive")
_non_negative_int = _int_at_least(0, "non-negative")


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    value = _finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _non_negative_float(text: str) -> float:
    value = _finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def _add_executor_flags(parser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_non_negative_int, metavar="N",
                       help="train in N worker processes, each on its share of the cores (default: one per core; "
                            "0: in this process, one run after another, for debugging)")
    where.add_argument("--ray", metavar="ADDRESS",
                       help="run each run as a task on the Ray cluster at ADDRESS ('auto': this machine's cluster); "
                            "--out must be a path every node sees. Needs the ray extra")


def _learning_rate(text: str) -> float:
    value = _finite_float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a learning rate in (0, 1], got {text!r}")
    return value


def _samples(text: str) -> tuple[int, int, int]:
    parts = text.split(",")
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"expected TRAIN,VAL,TEST (three positive integers), got {text!r}")
    try:
        return tuple(_positive_int(p) for p in parts)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected TRAIN,VAL,TEST (three positive integers), got {text!r}") from None


def _layer_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(_positive_int(p) for p in text.split(","))
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected comma-separated layer counts like 1,2, got {text!r}") from None


def _cell_list(text: str) -> tuple[str, ...]:
    """Cells are checked by the config (names, or specs of your own classes, e.g. ./my_cell.py:MyCell)."""
    return tuple(text.split(","))


def _impl_list(text: str) -> list[str]:
    from lstmlab.bench.driver import BACKENDS  # light: the bench imports no framework itself

    known = tuple(BACKENDS)
    names = text.split(",")
    unknown = [n for n in names if n not in known]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown implementation(s) {','.join(unknown)}; choose from {','.join(known)}")
    return names


def _add_task_flags(parser, seed_help: str, task_classes):
    # Every default is None, "not given": a value comes from the flag, else from --config, else from
    # the dataclasses (which hold the defaults, so they are not repeated here).
    d = TaskConfig()
    group = parser.add_argument_group("task and data")
    group.add_argument("--task", metavar="TASK",
                       help="; ".join(f"{name}: {task.summary}" for name, task in tasks.TASKS.items()) +
                            f"; or your own task class as FILE.py:CLASS or MODULE:CLASS ({d.name})")
    group.add_argument("--seq-len", type=_positive_int,
                       help="steps per sequence (the task's default: " +
                            ", ".join(f"{t.default_seq_len} for {n}" for n, t in tasks.TASKS.items()) + ")")
    group.add_argument("--samples", type=_samples, metavar="TRAIN,VAL,TEST",
                       help=f"split sizes ({d.n_train},{d.n_val},{d.n_test})")
    group.add_argument("--target", choices=TARGETS,
                       help="final: one answer per sequence, on its last step; per-step: an answer at every step "
                            "(integration; the copy task has only per-step; default final)")
    group.add_argument("--objective", choices=OBJECTIVES,
                       help="classification: a probability under cross-entropy; regression: a value under squared "
                            "error; label-regression: squared error on the 0/1 label; categorical: a softmax over the "
                            "task's classes under cross-entropy (the task's default: classification for integration, "
                            "regression for adding, categorical for copy)")
    group.add_argument("--seed", type=_non_negative_int, help=f"{seed_help} ({d.seed})")
    group.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, help="dataset cache directory (%(default)s)")
    group.add_argument("--no-rebuild", action="store_true", help="refuse a damaged cache entry instead of rebuilding it")
    _add_setting_flags(parser, task_classes)


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def _boolean(text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


# A task setting's flag parses its text as the setting's type; the task's Setting checks the value.
SETTING_TYPES = {bool: _boolean, int: _integer, float: _finite_float, str: str}


def _add_setting_flags(parser, task_classes) -> None:
    """A flag --NAME for every own setting of `task_classes` (Task.settings), its type the setting's."""
    flags = {}
    for task in task_classes:
        for name, setting in task.settings.items():
            flags.setdefault(name, []).append((task.name, setting))
    if not flags:
        return
    group = parser.add_argument_group("the task's own settings")
    for name, owners in flags.items():
        help_text = "; ".join(f"{task}: {setting.help} ({setting.default})" for task, setting in owners)
        group.add_argument(f"--{name.replace('_', '-')}", dest=f"setting:{name}", metavar=name.upper(),
                           type=SETTING_TYPES[owners[0][1].kind], help=help_text)


def _task_classes(argv) -> list:
    """The tasks whose own settings get flags: lstmlab's, and the one --task names (a plug-in's too)."""
    found = list(tasks.TASKS.values())
    for i, arg in enumerate(argv):
        name = arg.split("=", 1)[1] if arg.startswith("--task=") else argv[i + 1] if arg == "--task" and \
            i + 1 < len(argv) else None
        if name and name not in tasks.TASKS:
            try:
                found.append(tasks.get(name))
            except UserError:
                pass  # the config reports an unknown task, in its one line, once every flag is parsed
    return found


def _given(args) -> dict:
    """The run flags given on the command line, as {(path in the config dict): value}."""
    # The flags' destinations are named like RunConfig's flat FIELDS; --samples and --seed fan out.
    given = {FIELDS[name]: value for name, value in vars(args).items() if name in FIELDS and value is not None}
    given.update({("task", name.split(":", 1)[1]): value for name, value in vars(args).items()
                  if name.startswith("setting:") and value is not None})
    if args.samples is not None:
        for key, value in zip(("n_train", "n_val", "n_test"), args.samples):
            given[("task", key)] = value
    if getattr(args, "seed", None) is not None:  # --seed sets both, unless one of them is given apart
        given.setdefault(("task", "seed"), args.seed)
        given.setdefault(("train", "init_seed"), args.seed)
    return given


def _read_config_file(path: Path) -> dict:
    """A RunConfig as JSON (what --dry-run prints) or TOML -> its dict; a UserError for a bad file."""
    from lstmlab.core.files import read_table

    return read_table(path, "--config")


def _run_config(args) -> RunConfig:
    """The run's configuration: --config (or the defaults), then the flags given, which override it."""
    base = _read_config_file(args.config) if args.config is not None else {}
    return RunConfig.from_dict(with_values(base, _given(args)))


def _task_config(args) -> TaskConfig:
    """`data`'s task: the defaults, then the flags given."""
    return TaskConfig.from_dict({path[1]: value for path, value in _given(args).items() if path[0] == "task"})


def build_parser(argv=()) -> argparse.ArgumentParser:
    """The parser of every command; `argv` only decides which plug-in task's settings get flags."""
    parser = _Parser(prog="lstmlab", description="Recurrent networks written from scratch, on small sequence tasks.")
    parser.add_argument("--version", action="version", version=f"lstmlab {lstmlab.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    task_classes = _task_classes(list(argv))
    _add_run_command(commands, task_classes)
    _add_data_command(commands, task_classes)
    _add_evaluate_command(commands)
    _add_analyze_command(commands)
    _add_study_command(commands)
    _add_sweep_command(commands)
    _add_bench_command(commands)
    return parser


def _add_run_command(commands, task_classes) -> None:
    """`lstmlab run`: the reference experiment, or any configuration of it."""
    run = commands.add_parser("run", help="run the reference experiment (data, 1- and 2-layer LSTM, test, report)",
                              description="Generate or load the data, train one model per --cell and --layers entry, "
                                          "test them, and write results.json, curves.png and report.md to --out. "
                                          "Values come from the flags given, else from --config, else the defaults.")
    run.add_argument("--config", type=Path, metavar="FILE",
                     help="start from this configuration: JSON (what --dry-run prints) or TOML; flags override it")
    _add_task_flags(run, "sets both --data-seed and --init-seed", task_classes)
    t, r = TrainConfig(), RunConfig()
    group = run.add_argument_group("model and training")
    group.add_argument("--data-seed", type=_non_negative_int, help=f"seed of the data (its splits) ({r.task.seed})")
    group.add_argument("--init-seed", type=_non_negative_int,
                       help=f"seed of the initial weights and of each epoch's shuffle ({t.init_seed})")
    group.add_argument("--cell", type=_cell_list, metavar="CELLS", dest="cells",
                       help=f"recurrent cells, e.g. lstm,gru,rnn, or your own cell class as FILE.py:CLASS or "
                            f"MODULE:CLASS; one model per cell and depth ({','.join(r.cells)})")
    group.add_argument("--layers", type=_layer_list, help=f"depths, e.g. 1,2 ({','.join(map(str, r.layers))})")
    group.add_argument("--units", type=_positive_int, help=f"hidden size of every layer ({r.units})")
    group.add_argument("--epochs", type=_positive_int, help=f"({t.epochs})")
    group.add_argument("--batch-size", type=_positive_int, help=f"({t.batch_size})")
    group.add_argument("--lr", type=_learning_rate, help=f"Adam learning rate ({t.learning_rate:g})")
    group.add_argument("--lr-schedule", choices=LR_SCHEDULES,
                       help=f"constant, or cosine: decay from --lr to 0 over the run's updates ({t.lr_schedule})")
    group.add_argument("--tbptt", type=_non_negative_int, metavar="K2",
                       help="truncated BPTT depth: per-loss, each loss truncated to its own last K2 steps; "
                            f"williams-peng, h = K2; 0: full ({t.tbptt})")
    group.add_argument("--tbptt-every", type=_non_negative_int, metavar="K1",
                       help="per-step targets: one update per K1 steps of losses (williams-peng: h' <= h); 0: every "
                            f"K2 steps ({t.tbptt_every})")
    group.add_argument("--tbptt-scheme", choices=TBPTT_SCHEMES,
                       help="per-loss: as above; chunked: chunks of K2 steps from the sequence start, the gradient "
                            "stopped between them, an update per chunk with a loss; williams-peng: BPTT(h; h'), every "
                            "K1 steps the losses of those steps backpropagated together to one cut K2 steps before "
                            f"({t.tbptt_scheme})")
    group.add_argument("--devices", type=_positive_int,
                       help="split every batch over this many CPU devices, gradients summed across them; faster "
                            f"for large batches or long sequences when cores are free ({t.devices})")
    group.add_argument("--workers", type=_positive_int, metavar="N",
                       help="train the models side by side in N worker processes, with the same numbers as one after "
                            "another (default: one per model, up to the cores, when no model holds more than half the "
                            "work; else 1: one after another in this process)")
    group.add_argument("--checkpoint-every", type=_non_negative_int, metavar="STEPS",
                       help=f"checkpoint every STEPS train steps and at every epoch end; 0: epoch ends only "
                            f"({t.checkpoint_every})")
    group = run.add_argument_group("long memory (docs/usage/run.md)")
    group.add_argument("--forget-bias", type=_finite_float, metavar="B",
                       help="initial bias of the gate that keeps the state: the LSTM's forget gate, the GRU's update "
                            "gate (default: the cell's own, LSTM 1, GRU 0)")
    group.add_argument("--init", choices=INITS,
                       help="chrono: keep-gate biases log(u), u ~ U(1, T_MAX - 1) per unit, the LSTM's input-gate "
                            f"biases their negatives (Tallec & Ollivier 2018) ({t.init})")
    group.add_argument("--chrono-max", type=_integer, metavar="T_MAX",
                       help="the longest time scale of --init chrono (default: the task's --seq-len)")
    group.add_argument("--clip-norm", type=_non_negative_float, metavar="C",
                       help="scale each gradient down to global L2 norm C before Adam's update; 0: off "
                            f"({t.clip_norm:g})")
    group.add_argument("--stream", action="store_const", const=True,
                       help="train on fresh sequences, every batch drawn from (data seed, step); an epoch is "
                            "--samples' TRAIN count of them; validation and test stay cached")
    group.add_argument("--stop", choices=STOPS,
                       help="paper: stop once the last 2,000 training sequences were all within 0.04 and their mean "
                            "squared error below 0.01 (Hochreiter & Schmidhuber 1997; the adding task), then test "
                            f"on 2,560 fresh sequences ({t.stop})")
    group = run.add_argument_group("run directory")
    group.add_argument("--out", type=Path, default=DEFAULT_OUT, help="run directory to write (%(default)s)")
    group.add_argument("--resume", action="store_true",
                       help="continue the unfinished run in --out with its saved configuration; a flag or --config "
                            "that disagrees with it is refused. Rerunning the same command continues it too")
    group.add_argument("--force", action="store_true", help="discard what --out holds, finished or not, and start over")
    group.add_argument("--tensorboard", type=Path, metavar="DIR",
                       help="also write TensorBoard event files (per-step loss, validation metrics, per-layer "
                            "gradient norms) into DIR/MODEL; needs the tensorboard extra")
    group.add_argument("--dry-run", action="store_true", help="validate everything, print the configuration, train nothing")
    group.add_argument("--quiet", action="store_true", help="print only the final summary")


def _add_data_command(commands, task_classes) -> None:
    """`lstmlab data`: create or verify a cached dataset."""
    data = commands.add_parser("data", help="create or verify the cached dataset and print where it is")
    _add_task_flags(data, "seed of the data", task_classes)


def _add_evaluate_command(commands) -> None:
    """`lstmlab evaluate`: score a finished run on the user's own sequences."""
    evaluate = commands.add_parser("evaluate", help="score a finished run's models on your own sequences")
    evaluate.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="the --out of a finished `lstmlab run`")
    evaluate.add_argument("--data", type=Path, required=True, metavar="FILE",
                          help=".npy of shape (n, T, F) ((n, T) for one input channel), or .csv with one sequence "
                               "per row, the F channels of each step side by side")
    evaluate.add_argument("--labels", type=Path, metavar="FILE",
                          help="the answers (.npy or one-column .csv): 0/1 labels, or target values for the adding "
                               "task; default: computed by the task from the sequences")
    evaluate.add_argument("--predictions", type=Path, metavar="OUT.csv",
                          help="write each row's last-step prediction, one column per model, here")


def _add_analyze_command(commands) -> None:
    """`lstmlab analyze`: fixed points, linearisation and line attractors of a finished run's models."""
    analyze = commands.add_parser("analyze", help="find a finished run's fixed and slow points and linearise there")
    analyze.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="the --out of a finished `lstmlab run`")
    analyze.add_argument("--model", metavar="NAME", help="one model of the run, e.g. lstm-1layer (default: every model)")
    analyze.add_argument("--input", metavar="U", dest="held_input",
                         help="the constant input the state map is held at: a number, or one per input channel "
                              "(comma-separated); default 0")
    analyze.add_argument("--starts", type=_int_at_least(1, "starting states"), default=1024, metavar="N",
                         help="starting states, sampled along the model's test trajectories (default 1024)")
    analyze.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, help="dataset cache (the run's test data)")


def _add_study_command(commands) -> None:
    """`lstmlab study NAME`: a question answered by a grid of runs over seeds."""
    from lstmlab.studies import STUDIES

    study = commands.add_parser("study", help=f"answer a question with a grid of runs over seeds: {' or '.join(STUDIES)}",
                                description="; ".join(f"{name}: {s.question}" for name, s in STUDIES.items()) +
                                            ". Writes study.json, figures and report.md to --out; a rerun reuses the "
                                            "finished runs.")
    study.add_argument("name", choices=list(STUDIES), metavar="NAME",
                       help="; ".join(f"{name}: {s.question}" for name, s in STUDIES.items()))
    study.add_argument("--seeds", type=_positive_int, default=5, help="seeds 0..N-1 per setting (%(default)s)")
    study.add_argument("--quick", action="store_true", help="a small version (short sequences, few samples) for tests")
    study.add_argument("--out", type=Path, default=None, help="study directory (runs/study-NAME)")
    _add_executor_flags(study)
    study.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, help="dataset cache directory (%(default)s)")
    study.add_argument("--force", action="store_true", help="discard the runs --out holds and start over")
    study.add_argument("--quiet", action="store_true", help="print only the final summary")
    study.add_argument("--recompute", action="store_true",
                       help="train nothing: rebuild the summary, figures and report.md of the complete study in --out "
                            "from the runs its study.json holds")
    study.add_argument("--part", default=None, metavar="PART",
                       help="a study run in parts (memory): make only this part's runs, keeping the others' in --out "
                            "(default: every part, in order)")
    study.add_argument("--dry-run", action="store_true",
                       help="train nothing: per part, the runs planned, those --out holds, and the most training "
                            "sequences the rest may take")


def _add_sweep_command(commands) -> None:
    """`lstmlab sweep SPEC`: a grid of configurations x seeds."""
    sweep = commands.add_parser("sweep", help="run a grid of configurations x seeds from a spec file, on every core "
                                              "or a Ray cluster",
                                description="Run every grid point of SPEC (TOML or JSON: [base], [grid], seeds) with "
                                            "every seed, each as its own run directory under --out/runs, and write "
                                            "runs.csv, summary.csv (mean, std, 95% bootstrap interval per grid "
                                            "point) and, with --plot, a figure. A rerun reuses the finished runs.")
    sweep.add_argument("spec", type=Path, metavar="SPEC", help="the sweep spec (see examples/sweep-quick.toml)")
    sweep.add_argument("--out", type=Path, default=None, help="sweep directory (runs/sweep-SPEC_NAME)")
    _add_executor_flags(sweep)
    sweep.add_argument("--metric", default="test_accuracy",
                       help="the metric progress lines show and --ci-width watches (%(default)s)")
    sweep.add_argument("--ci-width", type=_positive_float, metavar="W",
                       help="add seeds to each grid point until the 95%% interval of --metric is narrower than W")
    sweep.add_argument("--max-seeds", type=_positive_int, default=20, metavar="N",
                       help="with --ci-width: at most N seeds per grid point (%(default)s)")
    sweep.add_argument("--plot", metavar="y=METRIC,x=FIELD[,hue=FIELD]",
                       help="draw METRIC (mean and 95%% interval) against a grid field, one line per group")
    sweep.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, help="dataset cache directory (%(default)s)")
    sweep.add_argument("--force", action="store_true", help="discard what --out holds and start over")
    sweep.add_argument("--dry-run", action="store_true", help="validate the spec and list its runs; train nothing")
    sweep.add_argument("--quiet", action="store_true", help="print only the final summary")


def _add_bench_command(commands) -> None:
    """`lstmlab bench`: training speed against other implementations."""
    from lstmlab.bench.driver import BACKENDS  # light: the bench imports no framework itself

    bench = commands.add_parser("bench", help="time lstmlab's training against Keras, TensorFlow and PyTorch",
                                description="Interleaved, side-by-side training throughput; writes DIR/bench.json.")
    bench.add_argument("--quick", action="store_true", help="batch 32 and seq_len 25 only, the GRU rows only if --impls names them "
                       "(about a minute)")
    bench.add_argument("--reps", type=_positive_int, default=5, help="timed repetitions per implementation (%(default)s)")
    bench.add_argument("--out", type=Path, default=Path("runs/bench"), help="directory for bench.json (%(default)s)")
    bench.add_argument("--impls", type=_impl_list, default=None, metavar="A,B",
                       help=f"only these of {', '.join(BACKENDS)} (default: all)")


def cmd_bench(args) -> None:
    from lstmlab.bench.driver import format_table, run_bench

    from lstmlab.core import workdir

    workdir.check(args.out, "bench", "--out")
    report = run_bench(args.out, quick=args.quick, reps=args.reps, impls=args.impls)
    print(format_table(report))
    print(one_line(f"wrote {args.out / 'bench.json'}"))


def cmd_run(args) -> None:
    import json

    from lstmlab.core import budget, workdir
    from lstmlab.executors.local import check_workers
    from lstmlab.experiment import saved_config

    workdir.check(args.out, "run", "--out")
    workdir.check(args.cache_dir, "cache", "--cache-dir")
    check_workers(args.workers)
    if args.resume:
        config = saved_config(args.out)
        if config is None:
            raise UserError(f"--resume: {args.out} holds no run to continue; start one without --resume")
        asked = _run_config(args) if args.config is not None else RunConfig.from_dict(
            with_values(config.to_dict(), _given(args)))
        if asked != config:
            saved, wanted = config.to_dict(), asked.to_dict()
            differ = [f"{'.'.join(path)} {_at(wanted, path)!r} (saved: {_at(saved, path)!r})"
                      for path in _leaf_paths(saved) if _at(saved, path) != _at(wanted, path)]
            raise UserError(f"--resume: {', '.join(differ)} disagrees with the run saved in {args.out}: drop the flag "
                            "to continue it, or start a new run in another --out")
    else:
        config = _run_config(args)
    if args.tensorboard is not None:
        from lstmlab.core.tensorboard import require_tensorboard

        require_tensorboard()
        workdir.check(args.tensorboard, "tensorboard", "--tensorboard")
    if args.dry_run:  # a real run checks the budget itself, before any work (experiment.run_experiment)
        estimate = budget.check(config, args.cache_dir)
        print(json.dumps(config.to_dict(), indent=2))
        print(f"lstmlab run: dry run: this run {estimate.describe()}", file=sys.stderr)
        return
    from lstmlab.experiment import run_experiment

    results = run_experiment(config, args.out, args.cache_dir, force=args.force, verbose=not args.quiet,
                             rebuild_cache=not args.no_rebuild, tensorboard=args.tensorboard, workers=args.workers)
    for model in results["models"]:
        print(f"{model['name']}: test accuracy {model['test_accuracy']:.4f}")
    print(one_line(f"wall time {results['wall_seconds']:.1f} s; report: {args.out / 'report.md'}"))


def cmd_data(args) -> None:
    from lstmlab.core.data import load_or_create

    from lstmlab.core import workdir

    from lstmlab.core import budget

    config = _task_config(args)
    workdir.check(args.cache_dir, "cache", "--cache-dir")
    budget.check_data(config, args.cache_dir)  # refused here, before any work, if it cannot fit
    splits, path = load_or_create(config, args.cache_dir, rebuild=not args.no_rebuild)
    sizes = ", ".join(f"{name} {len(x):,}" for name, (x, _) in splits.items())
    print(one_line(f"{path} (verified; {sizes}; seq_len {config.seq_len})"))


def cmd_evaluate(args) -> None:
    from lstmlab.evaluate import evaluate_run

    summary = evaluate_run(args.run_dir, args.data, labels=args.labels, predictions=args.predictions)
    for name, accuracy in summary["accuracy"].items():
        print(f"{name}: accuracy {accuracy:.4f} on {summary['n']:,} sequences of length {summary['seq_len']}")
    if args.predictions is not None:
        print(one_line(f"wrote {args.predictions}"))


def cmd_analyze(args) -> None:
    from lstmlab.analysis.analyze import analyze_run

    analyze_run(args.run_dir, model=args.model, u=args.held_input, cache_dir=args.cache_dir, starts=args.starts)
    print(f"wrote analysis.json, fixed_points.npz, dynamics.png, spectra.png under {args.run_dir / 'models'}; "
          f"report: {args.run_dir / 'report.md'}")


def cmd_study(args) -> None:
    out = args.out or Path(f"runs/study-{args.name}")
    if args.recompute:
        if args.force:
            raise UserError("--recompute keeps every run and --force drops them: pass one of the two")
        if args.part or args.dry_run:
            raise UserError(f"--recompute trains nothing and covers every part made: drop "
                            f"{'--part' if args.part else '--dry-run'}")
        from lstmlab.studies.runner import recompute_study

        study = recompute_study(args.name, out, verbose=not args.quiet)
        print(f"{len(study['runs'])} runs recomputed, none trained; report: {out / 'report.md'}")
        return
    if args.dry_run:
        from lstmlab.studies.runner import describe_plan

        for line in describe_plan(args.name, out, args.seeds, args.quick, args.part):
            print(one_line(line))
        return
    _check_outputs(args, out, "study")
    from lstmlab.studies import STUDIES
    from lstmlab.studies.runner import run_study

    study = run_study(STUDIES[args.name], out, args.cache_dir, seeds=args.seeds, quick=args.quick, force=args.force,
                      verbose=not args.quiet, workers=args.workers, ray=args.ray, part=args.part)
    print(one_line(f"{len(study['runs'])} runs, {study['seconds'] / 60:.1f} min; report: {out / 'report.md'}"))


def _check_outputs(args, out: Path, kind: str) -> None:
    """Before any work: --out and --cache-dir may be written, --workers fit the cores, and --ray has Ray."""
    from lstmlab.core import workdir
    from lstmlab.executors.local import check_workers

    workdir.check(out, kind, "--out")
    workdir.check(args.cache_dir, "cache", "--cache-dir")
    check_workers(args.workers)
    if args.ray is not None:
        from lstmlab.executors.ray_cluster import require_ray

        require_ray()


def cmd_sweep(args) -> None:
    from lstmlab.sweeps.spec import load_spec
    from lstmlab.sweeps.sweep import parse_plot, run_sweep

    spec = load_spec(args.spec)
    points = spec.points()  # every run validated before anything is written
    out = args.out or Path(f"runs/sweep-{args.spec.stem}")
    plot = parse_plot(args.plot) if args.plot is not None else None
    if args.dry_run:
        for point in points:
            print(f"{point.name}  " + ", ".join(f"{k} {v}" for k, v in point.group.items()) + f", seed {point.seed}")
        print(one_line(f"{len(points)} runs would be written under {out / 'runs'}"), file=sys.stderr)
        return
    _check_outputs(args, out, "sweep")
    result = run_sweep(spec, out, args.cache_dir, workers=args.workers, ray=args.ray, force=args.force,
                       ci_width=args.ci_width, max_seeds=args.max_seeds, metric=args.metric, plot=plot,
                       verbose=not args.quiet)
    print(one_line(f"{len(result['runs'])} runs; tables: {out / 'runs.csv'}, {out / 'summary.csv'}"
                   + (f"; figure: {result['figure']}" if result["figure"] else "")))


def _leaf_paths(d: dict, prefix=()) -> list[tuple]:
    return [p for k, v in d.items() for p in (_leaf_paths(v, (*prefix, k)) if isinstance(v, dict) else [(*prefix, k)])]


def _at(d: dict, path: tuple):
    for key in path:
        d = d[key]
    return d


COMMANDS = {"run": cmd_run, "data": cmd_data, "evaluate": cmd_evaluate, "analyze": cmd_analyze, "study": cmd_study,
            "sweep": cmd_sweep, "bench": cmd_bench}
NEEDS_JAX = ("run", "evaluate", "analyze", "study", "sweep")


def _check_backend() -> None:
    """Training and scoring run on JAX: refuse another KERAS_BACKEND before Keras is imported."""
    backend = os.environ.get("KERAS_BACKEND", "jax")
    if backend != "jax":
        raise WrongBackendError(backend)


# Config fields whose flag is not --FIELD (a field is a flat name of config.FIELDS, or a task's own setting).
FLAG_OF = {"cells": "--cell", "n_train": "--samples", "n_val": "--samples", "n_test": "--samples",
           "data_seed": "--data-seed or --seed", "init_seed": "--init-seed or --seed"}


def _message(err: UserError, command: str, flags: set) -> str:
    """A config error names the flag that sets its field (the config classes know fields, not flags), or,
    for a field no flag sets (steps_per_call), the field in the --config file."""
    if isinstance(err, ConfigError) and err.field and command in ("run", "data"):
        flag = FLAG_OF.get(err.field, "--" + err.field.replace("_", "-"))
        return err.fix(flag if flag.split()[0] in flags else f"{err.field} in the --config file")
    return str(err)


class Terminated(KeyboardInterrupt):
    """SIGTERM (`kill`, a scheduler's stop), raised where the program is so that it stops as on Ctrl-C:
    the executor stops its workers and nothing half-written is kept."""


def _terminate(signum, frame):
    raise Terminated()


def _stop_on_sigterm():
    """Make SIGTERM raise Terminated; the handler it replaces (None where signals cannot be set: not the
    main thread), for main to restore, so a program that calls main keeps its own."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _terminate)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    previous = _stop_on_sigterm()
    try:
        if args.command in NEEDS_JAX:
            _check_backend()
        COMMANDS[args.command](args)
    except UserError as err:
        flags = {option for action in parser._subparsers._group_actions[0].choices[args.command]._actions
                 for option in action.option_strings}
        print(f"lstmlab {args.command}: error: {one_line(_message(err, args.command, flags))}", file=sys.stderr)
        return 2
    except RunsFailedError as err:
        print(f"lstmlab {args.command}: {one_line(err)}", file=sys.stderr)
        return 1
    except NonFiniteLossError as err:
        print(f"lstmlab {args.command}: training diverged: {one_line(err)}", file=sys.stderr)
        return 1
    except OSError as err:  # the machine's, not the code's: a full disk, a vanished directory
        where = f" ({err.filename})" if err.filename else ""
        print(f"lstmlab {args.command}: error: {one_line(err.strerror or err)}{where}; nothing half-written was kept",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt as stop:
        terminated = isinstance(stop, Terminated)
        print(f"lstmlab {args.command}: {'terminated' if terminated else 'interrupted'}", file=sys.stderr)
        return 143 if terminated else 130  # 128 + the signal's number, as a shell reports it
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0
