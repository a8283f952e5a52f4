"""The search engine: Hyperopt trials of one family, each fitted and scored on validation, recorded through
the tracking object passed in, checkpointed so a killed search can resume, and the best trial chosen on
validation. The tune job, the benchmarks and the Spark workers all run this code. Trials run one by one in
this process, or in parallel on Spark (SparkTrials). Either way a trial is a self-contained function that
opens its own nested run; the checkpoint, which runs here, numbers the trials and saves them on the parent run.
"""

import contextlib
import functools
import math
import pickle
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
from hyperopt import JOB_STATE_DONE, JOB_STATE_ERROR, STATUS_FAIL, STATUS_OK, Trials, fmin, rand, tpe
from hyperopt.early_stop import no_progress_loss
from hyperopt.fmin import generate_trial

from mnist_mlops import models
from mnist_mlops.config import TuneConfig, job_defaults
from mnist_mlops.data import Mnist, load_mnist
from mnist_mlops.errors import MnistMlopsError, TrackingOutage
from mnist_mlops.evaluate.metrics import split_metrics
from mnist_mlops.train.fitting import Fitted, fit, ignore_epoch
from mnist_mlops.tuning import spark
from mnist_mlops.tuning.spaces import flatten, hyperopt_space, labels, point

TRIALS_FILE = "hyperopt_trials.pkl"
# Epochs a network trial trains before it may be pruned: half of its epochs, at least 2. Trials are
# compared at the same epoch, and under one-cycle (its rate peaks at a quarter of the epochs) the
# early ranking is not the final one: in the CNN search of bench/tuned_cnn.py the trial that ended
# best (val 99.50%) was at the other trials' median after epochs 2 and 3, where a copy of it with
# other random draws would be pruned half the time, and clearly above it from epoch 5.
GRACE_SHARE, GRACE_EPOCHS = 0.5, 2
MIN_CURVES = 3  # other trials' curves at an epoch before their median may prune there (one is no median)
MAX_STARTUP = 10  # most random start-up trials TPE draws unless --startup-trials says more
# TPE models its "good" trials, the best ceil(gamma * sqrt(n)) of n. Hyperopt's gamma, 0.25, keeps
# one good trial until n = 17, so a 12-trial search only perturbs its best so far; 0.5 keeps two
# from n = 5 and four at n = 40, Optuna's default size (a tenth of the trials) at these budgets.
TPE_GAMMA = 0.5


class Untracked:
    """A tracking object that records nothing, for benchmarks that measure the search alone."""

    def trial_run(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def log_params(self, params: dict) -> None: ...
    def log_metrics(self, metrics: dict) -> None: ...
    def log_epoch(self, epoch: int, logs: dict) -> None: ...
    def name_trial(self, run_id: str, number: int) -> None: ...
    def tag_trial(self, run_id: str, tags: dict) -> None: ...
    def curves(self, metric: str, exclude: str | None) -> list[list[float]]:
        return []

    def save(self, path: Path) -> None: ...
    def load(self, file_name: str, folder: Path) -> None: ...
    def retire_others(self, kept: set[str]) -> None: ...


def maximises(metric: str) -> bool:
    """Losses are minimised, every other metric maximised."""
    return not metric.endswith("loss")


@functools.lru_cache(maxsize=1)
def search_data(config: TuneConfig) -> Mnist:
    """The search's splits, loaded once per process: the job's own, and each Spark worker's."""
    return load_mnist(config.data_dir, config.val_fraction, config.limit, config.seed)


def defaults(config: TuneConfig) -> dict:
    """The family's default hyperparameters: what `baseline`/`train` fit with no options, trained
    for the search's --epochs."""
    return models.family(config.family).hyperparameters(job_defaults(epochs=config.epochs, quiet=True))


def trained_with(config: TuneConfig, params: dict) -> dict:
    """Every hyperparameter a trial trains with: its params over the family's defaults."""
    return {**defaults(config), **params}


def fit_params(config: TuneConfig, params: dict, data: Mnist, on_epoch_end=ignore_epoch) -> Fitted:
    """Fit the family with a trial's params over its defaults."""
    return fit(models.family(config.family), trained_with(config, params), data, config.seed, on_epoch_end)


def startup_trials(config: TuneConfig) -> int:
    """TPE's random start-up trials: --startup-trials, else a quarter of --max-evals, at least 3 and
    at most MAX_STARTUP. TPE splits the trials so far into the best quarter and the rest and models
    each; a quarter of the budget gives it a few points to model while most of the budget still
    follows the model (Hyperopt's own default, 20, would make a 12-trial search pure random search).
    The cap keeps a large --max-evals that a --timeout cuts short from staying random throughout."""
    return config.startup_trials or min(MAX_STARTUP, max(3, config.max_evals // 4))


def default_point(config: TuneConfig) -> dict:
    """The family's default configuration as a point of its search space."""
    family, default = models.family(config.family), defaults(config)
    try:
        return point(family.space, {**family.build(default, config.seed).params(), **default})
    except ValueError as error:
        raise MnistMlopsError(f"the {config.family} defaults cannot start the search: {error}") from error


def one_per_id(follow):
    """An algo that asks follow once per new trial id. fmin hands over as many ids as its queue has
    room for, and TPE proposes one trial per call whatever it is given: an id left without a trial
    would be a gap in the trial numbers."""

    def algo(new_ids: list, domain, trials, seed):
        return [doc for k, tid in enumerate(new_ids) for doc in follow([tid], domain, trials, seed + k)]

    return algo


def queue_length(config: TuneConfig) -> int:
    """Proposals fmin keeps waiting: one per slot on Spark, whose dispatcher starts every waiting
    trial on its once-a-second poll (a queue of one starts one trial a second at most); one here."""
    return config.parallelism if config.backend == "spark" else 1


def suggest(config: TuneConfig):
    """Hyperopt's algo: the family's default configuration as trial 1 of a new search, so that the
    search's best is never worse on validation than the default; then TPE or random search."""
    follow = one_per_id(
        functools.partial(tpe.suggest, n_startup_jobs=startup_trials(config), gamma=TPE_GAMMA)
        if config.algo == "tpe"
        else rand.suggest
    )
    first = default_point(config)
    every_label = labels(models.family(config.family).space)

    def algo(new_ids: list, domain, trials, seed):
        if len(trials.trials) or not new_ids:  # a resumed search has run its default already
            return follow(new_ids, domain, trials, seed)
        tid = new_ids[0]
        doc = generate_trial(tid, first)
        doc["misc"]["idxs"] = {label: [tid] if label in first else [] for label in every_label}
        doc["misc"]["vals"] = {label: [first[label]] if label in first else [] for label in every_label}
        return [doc, *(follow(new_ids[1:], domain, trials, seed) if len(new_ids) > 1 else [])]

    return algo


def pruner(config: TuneConfig, tracking, run_id: str | None, pruned: list[int]):
    """A trial's on_epoch_end: log the epoch; with --prune, after its grace epochs and before its
    last, stop the trial when its validation accuracy is below the median of at least MIN_CURVES
    other trials' at the same epoch (and note the epoch in pruned)."""
    planned = defaults(config).get("epochs") or 0
    grace = max(GRACE_EPOCHS, math.ceil(GRACE_SHARE * planned))

    def on_epoch_end(epoch: int, logs: dict) -> bool:
        tracking.log_epoch(epoch, logs)
        if not config.prune or not grace <= epoch + 1 < planned:  # stopping at the last epoch saves nothing
            return False
        others = [curve[epoch] for curve in tracking.curves("val_accuracy", run_id) if len(curve) > epoch]
        if len(others) >= MIN_CURVES and logs["val_accuracy"] < statistics.median(others):
            pruned.append(epoch + 1)
        return bool(pruned)

    return on_epoch_end


def make_objective(config: TuneConfig, tracking):
    """Return the function Hyperopt minimises: one trial, recorded through tracking (a
    tracking.SearchTracking, or Untracked). It pickles, so it runs here or on a Spark worker."""
    sign = -1 if maximises(config.metric) else 1

    def objective(sample: dict) -> dict:
        data = search_data(config)
        params = flatten(sample)
        run_id, pruned = None, list[int]()  # pruned: the epoch a pruned trial stopped after
        try:
            with tracking.trial_run() as run_id:
                tracking.log_params(trained_with(config, params))
                fitted = fit_params(config, params, data, pruner(config, tracking, run_id, pruned))
                proba, seconds = fitted.predict_proba(data.val)
                scores = {**split_metrics("val", data.val.y, proba), "fit_seconds": fitted.fit_seconds}
                tracking.log_metrics({**scores, "val_predict_seconds": seconds})
                if pruned:
                    tracking.tag_trial(run_id, {"pruned": "true", "pruned_after_epoch": str(pruned[0])})
        except TrackingOutage:  # not the trial's failure: the search stops, and --resume runs it again
            raise
        except Exception as error:  # a failing trial is recorded as failed and the search goes on
            error_text = f"{type(error).__name__}: {error}"
            return {"status": STATUS_FAIL, "error": error_text, "params": params, "run_id": run_id}
        loss = sign * scores[config.metric]
        result = {"status": STATUS_OK, "loss": loss, "run_id": run_id, "params": params, "metrics": scores}
        return {**result, "pruned": bool(pruned)}

    return objective


class Checkpoint:
    """Hyperopt's early_stop_fn, called here after trials finish (by fmin, or by SparkTrials'
    dispatcher thread): it saves the trials, then applies the stopping rule, if any."""

    def __init__(self, tracking, folder: Path, rule=None):
        self.tracking, self.path, self.rule = tracking, folder / TRIALS_FILE, rule
        self.named: set[int] = set()

    def __call__(self, trials: Trials, *rule_state):
        self.save(trials)
        return self.rule(trials, *rule_state) if self.rule else (False, rule_state)

    def save(self, trials: Trials) -> None:
        """Name each finished trial's run trial-N and save the finished trials on the parent run."""
        finished = [trial for trial in trials.trials if trial["state"] in (JOB_STATE_DONE, JOB_STATE_ERROR)]
        for trial in finished:
            run_id, number = trial["result"].get("run_id"), trial["tid"] + 1
            if run_id and number not in self.named:
                self.tracking.name_trial(run_id, number)
                self.named.add(number)
        with self.path.open("wb") as stream:
            pickle.dump(finished, stream)
        self.tracking.save(self.path)


def restore_trials(tracking, folder: Path, trials: Trials) -> Trials:
    """Put the finished trials a search saved on its parent run into trials, numbered 0..n-1
    again: trials that a killed parallel search left running were not saved and leave gaps."""
    saved = tracking.load(TRIALS_FILE, folder)
    if saved is None:
        return trials
    with saved.open("rb") as stream:
        docs = pickle.load(stream)
    for tid, doc in enumerate(docs):
        doc["tid"] = doc["misc"]["tid"] = tid
        doc["misc"]["idxs"] = {name: [tid] * len(ids) for name, ids in doc["misc"]["idxs"].items()}
    trials.insert_trial_docs(docs)
    trials.refresh()
    return trials


def backend_trials(config: TuneConfig, tracking) -> contextlib.AbstractContextManager[Trials]:
    """Trials for the backend: in this process, or SparkTrials on a session open for the search,
    whose workers start with the tracking object's module imported."""
    if config.backend == "spark":
        master = spark.master_url(config.parallelism, config.spark_master)
        return spark.spark_trials(config.parallelism, master, preload=(type(tracking).__module__,))
    return contextlib.nullcontext(Trials())


def run_trials(config: TuneConfig, trials: Trials, folder: Path, tracking) -> None:
    """Run trials until --max-evals in all (or the timeout, or the stopping rule), saving them as
    they finish; then retire the runs no trial counts (killed earlier, or cancelled on Spark)."""
    objective = make_objective(config, tracking)
    rule = no_progress_loss(config.early_stop_rounds) if config.early_stop_rounds else None
    checkpoint = Checkpoint(tracking, folder, rule)
    fmin(
        spark.on_task_cores(objective) if config.backend == "spark" else objective,
        hyperopt_space(models.family(config.family).space),
        algo=suggest(config),
        max_evals=config.max_evals,
        max_queue_len=queue_length(config),
        trials=trials,
        timeout=config.timeout,
        rstate=np.random.default_rng(config.seed + len(trials.trials)),
        early_stop_fn=checkpoint,
        show_progressbar=not config.quiet,
    )
    checkpoint.save(trials)  # the last trials, failed ones included
    tracking.retire_others({trial["result"].get("run_id") for trial in trials.trials})


def trial_table(trials: Trials, metric: str) -> pd.DataFrame:
    """One row per trial: number, status, child run, params and validation metrics."""
    rows = []
    for trial in trials.trials:
        result = trial["result"]
        crashed = trial["state"] == JOB_STATE_ERROR  # the Spark task itself failed
        rows.append(
            {
                "trial": trial["tid"] + 1,
                "status": STATUS_FAIL if crashed else result.get("status"),
                "run_id": result.get("run_id"),
                "error": str(trial["misc"].get("error")) if crashed else result.get("error"),
                "pruned": bool(result.get("pruned")),
                **result.get("params", {}),
                **result.get("metrics", {}),
            }
        )
    table = pd.DataFrame(rows)
    if metric not in table:
        table[metric] = np.nan
    return table


def best_trials(trials: Trials, metric: str, count: int = 1) -> list[tuple[pd.Series, dict]]:
    """The `count` trials with the best validation metric, best first: each its row of the trial
    table and its params."""
    history = trial_table(trials, metric)
    done = history[history["status"] == STATUS_OK]
    if done.empty:
        raise MnistMlopsError("every trial failed; see the error tag of each trial run")
    ranked = done.sort_values(metric, ascending=not maximises(metric), kind="stable").head(count)
    params = {trial["tid"] + 1: trial["result"].get("params") for trial in trials.trials}
    return [(row, params[row["trial"]]) for _, row in ranked.iterrows()]
