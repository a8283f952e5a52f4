"""The tune job: a Hyperopt search with one nested MLflow run per trial, selection on validation
only, one test evaluation of the best configuration, and its registration as the challenger."""

import pickle
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from hyperopt import STATUS_FAIL, STATUS_OK, Trials, fmin, rand, tpe
from hyperopt.early_stop import no_progress_loss

from mnist_mlops import registry, tracking
from mnist_mlops.config import ARCHITECTURES, TUNE_METRICS, TrainConfig, TuneConfig
from mnist_mlops.data import Mnist, load_mnist
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.evaluate.metrics import split_metrics
from mnist_mlops.evaluate.plots import convergence_figure, hyperparameters_figure
from mnist_mlops.evaluate.report import Report, classification_report, network_report
from mnist_mlops.train.candidates import Fitted, fit_network, fit_sklearn, network_config, score_splits
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


def make_objective(config: TuneConfig, data: Mnist, trials: Trials, trials_file: Path):
    """Return the function Hyperopt minimises: each call is one trial, tracked as a nested run."""
    sign = -1 if maximises(config.metric) else 1

    def objective(sample: dict) -> dict:
        if trials_file.exists():  # save progress on the parent run before each trial: resumable
            tracking.log_file(trials_file)
        number = trials.trials[-1]["tid"] + 1
        params = flatten(sample)
        try:
            with tracking.run(f"trial-{number}", {"trial": str(number)}, nested=True) as run_id:
                tracking.log_params(params)
                fitted = fit_params(config, params, data, tracking.log_epoch)
                proba, seconds = fitted.predict_proba(data.val)
                scores = {**split_metrics("val", data.val.y, proba), "fit_seconds": fitted.fit_seconds}
                tracking.log_metrics({**scores, "val_predict_seconds": seconds})
        except Exception as error:  # a failing trial is recorded as failed and the search goes on
            return {"status": STATUS_FAIL, "error": f"{type(error).__name__}: {error}", "params": params}
        return {
            "status": STATUS_OK,
            "loss": sign * scores[config.metric],
            "run_id": run_id,
            "params": params,
            "metrics": scores,
        }

    return objective


def trial_table(trials: Trials, metric: str) -> pd.DataFrame:
    """One row per trial: number, status, child run, params and validation metrics."""
    rows = []
    for trial in trials.trials:
        result = trial["result"]
        rows.append(
            {
                "trial": trial["tid"] + 1,
                "status": result.get("status"),
                "run_id": result.get("run_id"),
                "error": result.get("error"),
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


def load_trials(parent_run_id: str | None, folder: Path) -> Trials:
    """Return the trials a search saved on its parent run, or new ones."""
    saved = tracking.download(parent_run_id, TRIALS_FILE, folder) if parent_run_id else None
    if saved is None:
        return Trials()
    with saved.open("rb") as stream:
        return pickle.load(stream)


def run_search(config: TuneConfig) -> SearchResult:
    """Search, select on validation, evaluate the best once on test, register it as the challenger."""
    check_metric(config)
    data = load_mnist(config.data_dir, config.val_fraction, config.limit, config.seed)
    tracking.use_tracking(config.experiment)
    study = config.study or f"{config.family}-{config.algo}"
    previous = tracking.latest_run_tagged("study", study) if config.resume or config.study else None
    if config.resume and previous is None:
        raise MnistMlopsError(f"no search named {study!r} in experiment {config.experiment!r} to resume")
    tags = {"study": study, "model_family": config.family, "model_kind": "search", "algo": config.algo}
    with tempfile.TemporaryDirectory() as folder, tracking.run(f"search-{study}", tags, run_id=previous) as parent:
        trials = load_trials(previous, Path(folder))
        if previous:
            tracking.end_stale_children(previous)
        trials_file = Path(folder) / TRIALS_FILE
        tracking.log_params({**asdict(config), "study": study})
        tracking.log_json(SPACES[config.family], "search_space.json")
        fmin(
            make_objective(config, data, trials, trials_file),
            hyperopt_space(config.family),
            algo=ALGORITHMS[config.algo],
            max_evals=config.max_evals,
            trials=trials,
            timeout=config.timeout,
            rstate=np.random.default_rng(config.seed + len(trials.trials)),
            early_stop_fn=no_progress_loss(config.early_stop_rounds) if config.early_stop_rounds else None,
            show_progressbar=not config.quiet,
            trials_save_file=str(trials_file),
        )
        tracking.log_file(trials_file)
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
