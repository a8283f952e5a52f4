"""The tune job: a Hyperopt search with one nested MLflow run per trial, selection on validation
only, one test evaluation of the best configuration, and its registration as the challenger.

Trials run one by one in this process, or in parallel on Spark (SparkTrials). Either way a trial
is a self-contained function that opens its own nested run, and the search's checkpoint, which runs
here, numbers the trials and saves them on the parent run so that a killed search can resume.
"""

import contextlib
import functools
import pickle
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from hyperopt import JOB_STATE_DONE, JOB_STATE_ERROR, STATUS_FAIL, STATUS_OK, Trials, fmin, rand, tpe
from hyperopt.early_stop import no_progress_loss

from mnist_mlops import registry, tracking
from mnist_mlops.config import ARCHITECTURES, TUNE_METRICS, TrainConfig, TuneConfig
from mnist_mlops.data import Mnist, load_mnist
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.evaluate.metrics import split_metrics
from mnist_mlops.evaluate.plots import convergence_figure, hyperparameters_figure
from mnist_mlops.evaluate.report import Report, classification_report, network_report
from mnist_mlops.train.candidates import Fitted, fit_network, fit_sklearn, network_config, score_splits
from mnist_mlops.tuning import spark
from mnist_mlops.tuning.spaces import SPACES, flatten, hyperopt_space

ALGORITHMS = {"tpe": tpe.suggest, "random": rand.suggest}
TRIALS_FILE = "hyperopt_trials.pkl"


@dataclass
class SearchResult:
    """What a search found and decided."""

    parent_run_id: str
    best_params: dict
    best_value: float  # the best trial's validation metric
    history: pd.DataFrame  # one row per trial
    metrics: dict[str, float]  # the best configuration refitted: train, val and test
    promotion: registry.Promotion


def check_metric(config: TuneConfig) -> None:
    """Refuse, before anything starts, a metric the trials do not log or one that is not validation."""
    if config.metric.startswith("test_"):
        raise MnistMlopsError(f"--metric {config.metric}: a search selects by validation metrics, never by test")
    if config.metric not in TUNE_METRICS:
        raise MnistMlopsError(
            f"--metric {config.metric}: {config.family} trials log {', '.join(TUNE_METRICS)}; choose one of them"
        )


def maximises(metric: str) -> bool:
    """Losses are minimised, every other metric maximised."""
    return not metric.endswith("loss")


def network_base(config: TuneConfig) -> TrainConfig:
    """The TrainConfig every network trial starts from: the job's data settings and epoch budget."""
    return TrainConfig(arch=config.family, epochs=config.epochs, seed=config.seed, quiet=True)


def fit_params(config: TuneConfig, params: dict, data: Mnist, on_epoch_end) -> Fitted:
    """Fit the family with a trial's params."""
    if config.family in ARCHITECTURES:
        return fit_network(network_config(network_base(config), params), data, on_epoch_end)
    return fit_sklearn(config.family, params, data, config.seed)


def check_backend(config: TuneConfig) -> None:
    """Refuse, before anything starts, parallel trials without Spark, and Spark that cannot start."""
    if config.backend == "sequential" and (config.parallelism > 1 or config.spark_master):
        raise MnistMlopsError("--parallelism above 1 and --spark-master need --backend spark")
    if config.backend == "spark":
        spark.check_spark(spark.master_url(config.parallelism, config.spark_master))


@functools.lru_cache(maxsize=1)
def search_data(config: TuneConfig) -> Mnist:
    """The search's splits, loaded once per process: the job's own, and each Spark worker's."""
    return load_mnist(config.data_dir, config.val_fraction, config.limit, config.seed)


def make_objective(config: TuneConfig, parent: tracking.Parent):
    """Return the function Hyperopt minimises: one trial as a run nested under parent. It carries
    only the config and where to log, so it runs here or, pickled, on a Spark worker."""
    sign = -1 if maximises(config.metric) else 1

    def objective(sample: dict) -> dict:
        data = search_data(config)
        params = flatten(sample)
        run_id = None
        try:
            with tracking.child_run(parent, "trial") as run_id:
                tracking.log_params(params)
                fitted = fit_params(config, params, data, tracking.log_epoch)
                proba, seconds = fitted.predict_proba(data.val)
                scores = {**split_metrics("val", data.val.y, proba), "fit_seconds": fitted.fit_seconds}
                tracking.log_metrics({**scores, "val_predict_seconds": seconds})
        except Exception as error:  # a failing trial is recorded as failed and the search goes on
            error_text = f"{type(error).__name__}: {error}"
            return {"status": STATUS_FAIL, "error": error_text, "params": params, "run_id": run_id}
        return {
            "status": STATUS_OK,
            "loss": sign * scores[config.metric],
            "run_id": run_id,
            "params": params,
            "metrics": scores,
        }

    return objective


class Checkpoint:
    """Hyperopt's early_stop_fn, called here after trials finish (by fmin, or by SparkTrials'
    dispatcher thread): it saves the trials, then applies the stopping rule, if any."""

    def __init__(self, parent_run_id: str, folder: Path, rule=None):
        self.parent_run_id, self.path, self.rule = parent_run_id, folder / TRIALS_FILE, rule
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
                tracking.name_run(run_id, f"trial-{number}", {"trial": str(number)})
                self.named.add(number)
        with self.path.open("wb") as stream:
            pickle.dump(finished, stream)
        tracking.log_file(self.path, self.parent_run_id)


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
                **result.get("params", {}),
                **result.get("metrics", {}),
            }
        )
    table = pd.DataFrame(rows)
    if metric not in table:
        table[metric] = np.nan
    return table


def best_row(history: pd.DataFrame, metric: str) -> pd.Series:
    """Return the trial with the best validation metric."""
    done = history[history["status"] == STATUS_OK]
    if done.empty:
        raise MnistMlopsError("every trial failed; see the error tag of each trial run")
    return done.loc[done[metric].idxmax() if maximises(metric) else done[metric].idxmin()]


def evaluate_best(config: TuneConfig, params: dict, data: Mnist) -> tuple[Fitted, Report]:
    """Refit the best configuration and evaluate it on every split, test included, once."""
    fitted = fit_params(config, params, data, on_epoch_end=lambda epoch, logs: None)
    probabilities, timings = score_splits(fitted, data.splits())
    title = f"tuned {config.family}"
    if fitted.history is None:
        report = classification_report(probabilities, title)
    else:
        report = network_report(probabilities, data.test.x, fitted.history, fitted.best_epoch, title, config.seed)
    report.metrics.update(timings)
    return fitted, report


def restore_trials(parent_run_id: str | None, folder: Path, trials: Trials) -> Trials:
    """Put the finished trials a search saved on its parent run into trials, numbered 0..n-1
    again: trials that a killed parallel search left running were not saved and leave gaps."""
    saved = tracking.download(parent_run_id, TRIALS_FILE, folder) if parent_run_id else None
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


def backend_trials(config: TuneConfig) -> contextlib.AbstractContextManager[Trials]:
    """Trials for the backend: in this process, or SparkTrials on a session open for the search."""
    if config.backend == "spark":
        return spark.spark_trials(config.parallelism, spark.master_url(config.parallelism, config.spark_master))
    return contextlib.nullcontext(Trials())


def run_trials(config: TuneConfig, trials: Trials, folder: Path) -> None:
    """Run trials, nested under the active run, until --max-evals in all (or the timeout, or the
    stopping rule), saving them as they finish; then retire the runs no trial counts (killed
    earlier, or cancelled on Spark by --timeout)."""
    parent = tracking.active_parent()
    objective = make_objective(config, parent)
    rule = no_progress_loss(config.early_stop_rounds) if config.early_stop_rounds else None
    checkpoint = Checkpoint(parent.run_id, folder, rule)
    fmin(
        spark.on_task_cores(objective) if config.backend == "spark" else objective,
        hyperopt_space(config.family),
        algo=ALGORITHMS[config.algo],
        max_evals=config.max_evals,
        trials=trials,
        timeout=config.timeout,
        rstate=np.random.default_rng(config.seed + len(trials.trials)),
        early_stop_fn=checkpoint,
        show_progressbar=not config.quiet,
    )
    checkpoint.save(trials)  # the last trials, failed ones included
    tracking.retire_lost_children(parent.run_id, {trial["result"].get("run_id") for trial in trials.trials})


def run_search(config: TuneConfig) -> SearchResult:
    """Search, select on validation, evaluate the best once on test, register it as the challenger."""
    check_metric(config)
    check_backend(config)
    data = search_data(config)
    tracking.use_tracking(config.experiment)
    study = config.study or f"{config.family}-{config.algo}"
    previous = tracking.latest_run_tagged("study", study) if config.resume or config.study else None
    if config.resume and previous is None:
        raise MnistMlopsError(f"no search named {study!r} in experiment {config.experiment!r} to resume")
    tags = {"study": study, "model_family": config.family, "model_kind": "search", "algo": config.algo}
    with (
        tempfile.TemporaryDirectory() as folder,
        tracking.run(f"search-{study}", tags, run_id=previous) as parent,
        backend_trials(config) as new_trials,
    ):
        trials = restore_trials(previous, Path(folder), new_trials)
        tracking.log_params({**asdict(config), "study": study})
        tracking.log_json(SPACES[config.family], "search_space.json")
        run_trials(config, trials, Path(folder))
        history = trial_table(trials, config.metric)
        best = best_row(history, config.metric)
        best_params = next(t["result"]["params"] for t in trials.trials if t["tid"] + 1 == best["trial"])
        log_search_summary(config, history, best, best_params)
        fitted, report = evaluate_best(config, best_params, data)
        tracking.log_report(report)
        serving_uri = tracking.log_serving_model(log_model(fitted, data))
        promotion = registry.register_challenger(
            serving_uri, config.family, report.metrics["test_accuracy"], report.metrics["val_accuracy"], parent
        )
        tracking.log_metrics({"registered_version": float(promotion.version)})
        tracking.set_tags({"registered_version": promotion.version, "promotion_decision": promotion.decision})
    return SearchResult(parent, best_params, float(best[config.metric]), history, report.metrics, promotion)


def log_search_summary(config: TuneConfig, history: pd.DataFrame, best: pd.Series, best_params: dict) -> None:
    """Log the trial history, its figures, the best params and the search's counts on the parent run."""
    tracking.log_csv(history.set_index("trial"), "trials.csv")
    tracking.log_figure(convergence_figure(history, config.metric, maximises(config.metric)), "convergence.png")
    tracking.log_figure(hyperparameters_figure(history, list(best_params), config.metric), "hyperparameters.png")
    tracking.log_json({key: np.asarray(value).tolist() for key, value in best_params.items()}, "best_params.json")
    tracking.log_metrics(
        {
            f"best_{config.metric}": float(best[config.metric]),
            "best_trial": float(best["trial"]),
            "trials_finished": float((history["status"] == STATUS_OK).sum()),
            "trials_failed": float((history["status"] == STATUS_FAIL).sum()),
        }
    )


def log_model(fitted: Fitted, data: Mnist) -> str:
    """Log the refitted best model on the parent run; return its URI."""
    if fitted.history is None:
        return tracking.log_sklearn_model(fitted.model, data.val.x[:5])
    return tracking.log_keras_model(fitted.model, data.val.x[:5])
