"""The memory study: how many training sequences each cell and initialisation needs to solve the
adding problem and the copy task, against the delay T, beside Hochreiter & Schmidhuber's (1997) table.

Arms: the LSTM and the GRU with three initialisations of the gate that keeps the state (forget bias 1,
the LSTM's default; forget bias 5, a larger constant; chrono, Tallec & Ollivier 2018, core/gate_init.py;
for the GRU the update gate), and the simple RNN with its own initialisation (it has no such gate): 7
arms. One 1-layer model of 25 units, Adam, batch 32, trained on a stream of fresh sequences (`--stream`),
every batch a pure function of (seed, step).

Criteria, declared here and checked on data the update has not seen:
- adding: the paper's stopping rule (`--stop paper`, core/criterion.py: the last 2,000 training sequences
  all within 0.04, scored by the forward pass before their update); then the final weights are tested on
  2,560 fresh sequences and the failures (|error| >= 0.04) counted (the paper: never more than 3).
- copy: at an evaluation (every `EVERY` steps) at least COPY_SOLVED (99%) of the validation sequences
  have all 10 symbols right; then 2,560 fresh sequences are tested, and a failure is a sequence with any
  symbol wrong. Sequences to criterion: those seen at that evaluation (an upper bound, at most
  EVERY x 32 above the point where it was first met).
A run that does not meet its criterion within its budget (BUDGET_EPOCHS x EPOCH sequences) has no
sequences to criterion (None): "more than the budget".

Parts (one command each, `lstmlab study memory --part NAME`; `runner.plan_parts`):
- search: at T = 100 on both tasks, every arm at each learning rate x clipping of SEARCH (3 x 2), on
  SEARCH_SEEDS seeds of their own (1000, 1001, 1002: not the main grid's, so the choice is made on data
  and weights the comparisons never see). The setting chosen per task, cell and initialisation
  (`memory_stats.choose`): most seeds reaching the criterion, then the lowest median sequences to it,
  then the lowest mean final validation loss; every arm is searched alike, never one cell alone.
- a part per task and T up to 500 (adding-100, adding-200, adding-500, copy-100, ...): every arm at its
  chosen setting, seeds 0 .. --seeds-1 (at least 10 for the study's claims); its stage is "short".
- a part per task and longer T (adding-1000, adding-5000, copy-1000): each gated cell's best
  initialisation at T = 500 of that task (ranked as the search ranks settings), at its chosen setting,
  long_seeds (3) seeds; its stage is "long".
A part's T is the full study's; --quick runs the same parts at tiny T.

This study supersedes the adding study (`studies/adding.py`, a fixed split reused for epochs, no
initialisation options) once its runs are committed; the adding study stays until then.
Summary and report: `memory_stats.py`, `memory_report.py`.
"""

import time

import numpy as np

from lstmlab import tasks
from lstmlab.config import RunConfig, TaskConfig, TrainConfig
from lstmlab.studies.base import Part, RunContext, Study

CELLS = ("lstm", "gru", "rnn")
GATED = ("lstm", "gru")
INITS = ("forget-1", "forget-5", "chrono")  # the gated cells'; the simple RNN has only "default"
INIT_OPTIONS = {"forget-1": {"forget_bias": 1.0}, "forget-5": {"forget_bias": 5.0}, "chrono": {"init": "chrono"},
                "default": {}}
TASKS = ("adding", "copy")
SYMBOLS = 10  # the copy task's: its seq_len is T + 2 x SYMBOLS
UNITS, BATCH = 25, 32
EVERY = 50  # steps per compiled call: the cadence of the validation curve and of the copy criterion
EPOCH = 64_000  # training sequences per epoch of the stream (2,000 batches of 32)
N_VAL = 512
COPY_SOLVED = 0.99  # the copy criterion: this share of the validation sequences with every symbol right
TEST_SEQUENCES = 2_560  # the fresh test set, as the paper's
TEST_KEY = 0x7E57  # joined to the data seed: the fresh test set's draws (as core/criterion.py's)
PAPER = {100: 74_000, 500: 209_000, 1_000: 853_000}  # the paper's LSTM, Table 7: means of 10 trials

# The full study. Budgets in epochs of EPOCH sequences, per T. Adding: at least the paper's count where it
# has one (T = 100: 2.6x, 500: 2.4x, 1,000: 1.2x) and at least ten times the goal (a tenth of the paper's
# count); copy: 256,000 sequences at T <= 200, 1,024,000 beyond; both capped at 1,024,000 for what a run
# costs at long T (an arm that never leaves the plateau spends all of it), and 512,000 at T = 5,000, where
# a step costs five times T = 1,000's and a run (a study's smallest unit: it keeps no checkpoint) must fit
# a session.
FULL = {
    "search": {"adding": 100, "copy": 100},
    "search_epochs": 3,  # the search's budget: 192,000 sequences (2.6x the paper's count at T = 100)
    "short": {"adding": (100, 200, 500), "copy": (100, 200, 500)},
    "long": {"adding": (1_000, 5_000), "copy": (1_000,)},
    "budget_epochs": {"adding": {100: 3, 200: 5, 500: 8, 1_000: 16, 5_000: 8},
                      "copy": {100: 4, 200: 4, 500: 16, 1_000: 16}},
    "epoch": EPOCH, "every": EVERY, "n_val": N_VAL,
    "search_grid": ((1e-3, 3e-3, 1e-2), (0.0, 1.0)),  # learning rates x clip norms (0: off)
    "search_seeds": (1000, 1001, 1002), "long_seeds": 3,
}
# The tests': tiny delays and budgets, the same structure (each part's T in the same place of its list).
QUICK = {
    "search": {"adding": 22, "copy": 4},  # the adding task's shortest sequences are 22 steps
    "search_epochs": 1,
    "short": {"adding": (22, 24, 26), "copy": (4, 6, 8)},
    "long": {"adding": (28, 30), "copy": (10,)},
    "budget_epochs": {"adding": {22: 1, 24: 1, 26: 1, 28: 1, 30: 1}, "copy": {4: 1, 6: 1, 8: 1, 10: 1}},
    "epoch": 256, "every": 4, "n_val": 64,
    "search_grid": ((1e-2,), (0.0, 1.0)),
    "search_seeds": (1000,), "long_seeds": 2,
}


def _parts() -> tuple[Part, ...]:
    """The search, then a part per task and T (named by the full study's T; --quick runs the same parts at
    its own tiny T): every arm up to T = 500 on --seeds seeds, then each gated cell's best at longer T."""
    parts = [Part("search", "the learning rate and clipping search at T = 100, both tasks, every arm")]
    for task in TASKS:
        longest = f"{task}-{max(FULL['short'][task])}"
        parts += [Part(f"{task}-{t}", f"the {task} task at T = {t:,}, every arm, --seeds seeds", after=("search",))
                  for t in FULL["short"][task]]
        parts += [Part(f"{task}-{t}", f"the {task} task at T = {t:,}, each gated cell's best init at {longest}, "
                                      f"{FULL['long_seeds']} seeds", after=("search", longest))
                  for t in FULL["long"][task]]
    return tuple(parts)


PARTS = _parts()


def locate(part: str, quick: bool) -> tuple[str, str, int]:
    """(task, "short" or "long", T) of a part other than the search, T as the full or --quick grid has it."""
    task, full_t = part.split("-")
    kind = "short" if int(full_t) in FULL["short"][task] else "long"
    return task, kind, grid(quick)[kind][task][FULL[kind][task].index(int(full_t))]


def grid(quick: bool) -> dict:
    return QUICK if quick else FULL


def arms() -> list[tuple[str, str]]:
    """(cell, init) of every arm: the gated cells with each init, the simple RNN with its own."""
    return [(cell, init) for cell in GATED for init in INITS] + [("rnn", "default")]


def config_of(task: str, delay: int, cell: str, init: str, lr: float, clip: float, seed: int, quick: bool,
              epochs: int | None = None) -> RunConfig:
    """One run: `task` at delay T = `delay` (the copy task's seq_len is T + 20), `cell` with `init`, Adam at
    `lr`, clipping at `clip` (0: off), data and weights of `seed`, on a stream, for `epochs` of the stream
    (default: the budget of T)."""
    g = grid(quick)
    seq_len = delay + 2 * SYMBOLS if task == "copy" else delay
    # The cache keeps the validation split and one batch each of training and test data (the fresh test
    # set is drawn in `measure`).
    data = TaskConfig(name=task, seq_len=seq_len, n_train=g["epoch"], n_val=g["n_val"], n_test=BATCH, seed=seed)
    train = TrainConfig(epochs=epochs or g["budget_epochs"][task][delay], batch_size=BATCH, learning_rate=lr,
                        init_seed=seed, steps_per_call=g["every"], eval_batch_size=g["n_val"], checkpoint_every=0,
                        clip_norm=clip, stream=True, stop="paper" if task == "adding" else "epochs", **INIT_OPTIONS[init])
    return RunConfig(task=data, cells=(cell,), layers=(1,), units=UNITS, train=train)


def group_of(part: str, task: str, delay: int, cell: str, init: str, lr: float, clip: float) -> dict:
    stage = "search" if part == "search" else locate(part, False)[1]
    return {"part": part, "stage": stage, "task": task, "T": delay, "cell": cell, "init": init, "lr": lr,
            "clip": clip}


def plan(seeds: int, quick: bool) -> list[tuple[dict, RunConfig]]:
    """The runs that need no earlier part: the search."""
    return plan_part("search", seeds, quick, [])


def plan_part(part: str, seeds: int, quick: bool, earlier: list[dict]) -> list[tuple[dict, RunConfig]]:
    """The runs of `part`; `earlier`: the finished runs of the parts it comes after (their groups and metrics)."""
    from lstmlab.studies.memory_stats import best_init, choose

    g = grid(quick)
    if part == "search":
        lrs, clips = g["search_grid"]
        return [(group_of(part, task, g["search"][task], cell, init, lr, clip),
                 config_of(task, g["search"][task], cell, init, lr, clip, seed, quick, g["search_epochs"]))
                for task in TASKS for cell, init in arms() for lr in lrs for clip in clips
                for seed in g["search_seeds"]]
    task, kind, delay = locate(part, quick)
    chosen = choose([run for run in earlier if run["group"]["part"] == "search"])
    if kind == "short":
        return [(group_of(part, task, delay, cell, init, *chosen[task, cell, init]),
                 config_of(task, delay, cell, init, *chosen[task, cell, init], seed, quick))
                for cell, init in arms() for seed in range(seeds)]
    longest = max(g["short"][task])
    short = [run for run in earlier if run["group"]["part"] != "search"]
    runs = []
    for cell in GATED:
        init = best_init(short, task, longest, cell)
        lr, clip = chosen[task, cell, init]
        runs += [(group_of(part, task, delay, cell, init, lr, clip),
                  config_of(task, delay, cell, init, lr, clip, seed, quick)) for seed in range(g["long_seeds"])]
    return runs


def part_sizes(seeds: int, quick: bool = False) -> dict[str, dict[tuple[str, int], tuple[int, int]]]:
    """{part: {(task, T): (runs, the most train steps they may take)}}: what each part costs at most (every
    run to its budget), known before the search has chosen anything, as neither count depends on the
    choice. Planned with every earlier run unsolved (the choices then fall on the first setting and init)."""
    sizes, earlier = {}, []
    for part in PARTS:
        runs = plan_part(part.name, seeds, quick, earlier)
        for group, config in runs:
            key = (group["task"], group["T"])
            count, steps = sizes.setdefault(part.name, {}).get(key, (0, 0))
            sizes[part.name][key] = (count + 1, steps + config.train.epochs * config.steps_per_epoch)
        earlier += [{"group": group, "seed": config.train.init_seed,
                     "metrics": {"sequences_to_criterion": None, "final_val_loss": 0.0}} for group, config in runs]
    return sizes


def step_seconds(task: str, delay: int, cache_dir, steps: tuple[int, int] = (50, 150)) -> float:
    """Seconds per train step of this study's LSTM (chrono, Adam 1e-3) at delay T = `delay` of `task`,
    validation every EVERY steps included: the difference between runs of steps[1] and steps[0] steps over
    the difference in steps, after a first run that compiles what they reuse (give multiples of EVERY, so
    every run makes the same calls). For estimating what a part costs."""
    import dataclasses
    from pathlib import Path

    seconds = []
    for n in (steps[0], *steps):  # the first run warms up: it compiles what the others then reuse
        config = config_of(task, delay, "lstm", "chrono", 1e-3, 0.0, 0, False, epochs=1)
        config = dataclasses.replace(config, task=dataclasses.replace(config.task, n_train=n * BATCH))
        seconds.append(measure(config, RunContext(Path(cache_dir).resolve(), False))["train_seconds"])
    return (seconds[2] - seconds[1]) / (steps[1] - steps[0])


def fresh_test(trainer, task) -> dict:
    """The trained model on TEST_SEQUENCES fresh sequences of `task`, seeded by its data seed: how many fail
    (adding: |error| >= 0.04; copy: any symbol wrong)."""
    rng = np.random.default_rng(np.random.SeedSequence([task.config.seed, TEST_KEY]))
    x = task.sample_inputs(TEST_SEQUENCES, rng)
    y = task.targets_of(x)
    correct = task.correct(trainer.predict(x.reshape(len(x), x.shape[1], -1)), task.truth(y))
    return {"test_sequences": TEST_SEQUENCES, "test_failures": int(np.sum(~correct.reshape(len(x), -1).all(axis=1)))}


def thin(curve: dict, points: int = 60) -> dict:
    """At most `points` of a curve, spaced evenly in log of their index (the early points and the last kept)."""
    n = len(curve["sequences"])
    keep = np.unique(np.concatenate([[0, n - 1], np.geomspace(1, n, points).astype(int) - 1])) if n > points \
        else np.arange(n)
    return {key: [values[i] for i in keep] for key, values in curve.items()}


def measure(config: RunConfig, context: RunContext) -> dict:
    from lstmlab.core.data import cached_task, load_or_create, training_data
    from lstmlab.core.gate_init import initialize_gates
    from lstmlab.core.model import build_model
    from lstmlab.core.train import Trainer, fit
    from lstmlab.errors import NonFiniteLossError

    started = time.perf_counter()
    task = tasks.of(config.task)
    data, _ = load_or_create(cached_task(config), context.cache_dir)
    model = build_model(config.models[0], seed=config.train.init_seed, task=task)
    initialize_gates(model, config.train, config.task.seq_len)
    trainer = Trainer(model, config.train, task)
    x_val, y_val = data["val"]
    truth = task.truth(y_val)
    steps = config.steps_per_epoch
    curve = {"sequences": [], "val_loss": [], "val_solved": []}
    met = {"at": None}  # the copy criterion's

    def observe(epoch: int, step: int) -> None:
        """The validation split after every compiled call: loss and share of sequences solved."""
        predictions = trainer.predict(x_val)
        solved = float(task.correct(predictions, truth).reshape(len(x_val), -1).all(axis=1).mean())
        seen = ((epoch - 1) * steps + step) * config.train.batch_size
        curve["sequences"].append(seen)
        curve["val_loss"].append(task.objective.numpy_loss(y_val, predictions))
        curve["val_solved"].append(solved)
        if config.task.name == "copy" and met["at"] is None and solved >= COPY_SOLVED:
            met["at"] = seen

    observe(1, 0)
    diverged, fitted = False, None
    t0 = time.perf_counter()
    try:
        fitted = fit(trainer, training_data(config, data), data["val"], verbose=False, observe=observe,
                     should_stop=lambda epoch, step: met["at"] is not None, measure_untrained=False)
    except NonFiniteLossError:
        diverged = True  # the criterion not reached; the curve ends at the last finite point
    train_seconds = time.perf_counter() - t0
    reached = met["at"] if config.task.name == "copy" else (fitted.sequences_to_criterion if fitted else None)
    return {
        "sequences_to_criterion": reached,
        "budget": config.train.epochs * steps * config.train.batch_size,
        "sequences_seen": curve["sequences"][-1],
        "diverged": diverged,
        **fresh_test(trainer, task),
        "final_val_loss": curve["val_loss"][-1],
        "final_val_solved": curve["val_solved"][-1],
        "parameters": int(model.count_params()),
        "curve": thin(curve),
        "train_seconds": train_seconds,
        "seconds": time.perf_counter() - started,
    }


def headline(metrics: dict) -> str:
    reached = metrics["sequences_to_criterion"]
    outcome = (f"criterion after {reached:,} sequences" if reached is not None
               else f"criterion not reached in {metrics['sequences_seen']:,} sequences"
               + (" (diverged)" if metrics["diverged"] else ""))
    return f"{outcome}; {metrics['test_failures']} of {metrics['test_sequences']:,} fresh test sequences failed"


def _summarise(runs):
    from lstmlab.studies.memory_stats import summarise

    return summarise(runs)


def _draw(study, out):
    from lstmlab.studies.memory_report import draw

    return draw(study, out)


def _render(study, figures):
    from lstmlab.studies.memory_report import render

    return render(study, figures)


STUDY = Study(name="memory",
              question="training sequences to criterion against the delay T, per cell and initialisation, on the "
                       "adding problem and the copy task (run in parts: --part)",
              plan=plan, measure=measure, headline=headline, summarise=_summarise, draw=_draw, render=_render,
              parts=PARTS, plan_part=plan_part)
