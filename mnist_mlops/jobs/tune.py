"""The tune job: a Hyperopt search with one nested MLflow run per trial, selection on validation
only, one test evaluation of the best configuration, and its registration as the challenger.
The search itself is tuning/search.py; this job wires it to the data, MLflow and the registry."""

import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from hyperopt import STATUS_FAIL, STATUS_OK

from mnist_mlops import models, tracking
from mnist_mlops.config import TuneConfig, job_defaults
from mnist_mlops.data import Mnist
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.evaluate.plots import convergence_figure, hyperparameters_figure
from mnist_mlops.jobs.record import record
from mnist_mlops.models import arithmetic
from mnist_mlops.registry import Promotion
from mnist_mlops.train.fitting import Fitted, averaged
from mnist_mlops.tuning import search, spark


@dataclass
class SearchResult:
    """What a search found and decided."""

    parent_run_id: str
    best_params: dict
    best_value: float  # the best trial's validation metric
    history: pd.DataFrame  # one row per trial
    metrics: dict[str, float]  # the best configuration refitted: train, val and test
    promotion: Promotion
    ensemble: Promotion | None = None  # what the registry decided for the --ensemble model


def previous_search(config: TuneConfig, study: str) -> str | None:
    """The parent run of the study's newest search, when the search continues one."""
    previous = tracking.latest_run_tagged("study", study) if config.resume or config.study else None
    if config.resume and previous is None:
        raise MnistMlopsError(f"no search named {study!r} in experiment {config.experiment!r} to resume")
    return previous


def run_search(config: TuneConfig) -> SearchResult:
    """Search, select on validation, evaluate the best once on test, register it as the challenger."""
    if config.backend == "spark":
        spark.check_spark(spark.master_url(config.parallelism, config.spark_master))
    family = models.family(config.family)
    data = search.search_data(config)
    tracking.use_tracking(config.experiment)
    study = config.study or f"{config.family}-{config.algo}"
    previous = previous_search(config, study)
    tags = {"study": study, "model_family": config.family, "model_kind": "search", "algo": config.algo}
    search_run = tracking.run(f"search-{study}", tags, run_id=previous, system_metrics=config.system_metrics)
    with tempfile.TemporaryDirectory() as folder, search_run as parent:
        recorder = tracking.search_tracking()
        with search.backend_trials(config, recorder) as new_trials:
            trials = search.restore_trials(recorder, Path(folder), new_trials) if previous else new_trials
            tpe = {"tpe_startup_trials": search.startup_trials(config), "tpe_gamma": search.TPE_GAMMA}
            tracking.log_params({**asdict(config), "study": study, **(tpe if config.algo == "tpe" else {})})
            tracking.log_precision(arithmetic.chosen(family.asked(job_defaults())))  # a network's trials' arithmetic
            tracking.log_json(family.space, "search_space.json")
            search.run_trials(config, trials, Path(folder), recorder)
        history = search.trial_table(trials, config.metric)
        (best, best_params), *_ = search.best_trials(trials, config.metric)
        log_search_summary(config, history, best, best_params)
        fitted = search.fit_params(config, best_params, data)
        said = f"tuned {config.family} (trial {int(best['trial'])} of {len(history)})"
        name, title = models.model_name(config.family, tuned=True), f"tuned {config.family}"
        tuned = record(fitted, data, config.family, name, title, config.seed, register=True, said=said)
        ensemble = run_ensemble(config, config.ensemble, trials, fitted, data) if config.ensemble else None
    best_value = float(best[config.metric])
    return SearchResult(parent, best_params, best_value, history, tuned.metrics, tuned.registered(), ensemble)


def run_ensemble(config: TuneConfig, count: int, trials, best: Fitted, data: Mnist) -> Promotion:
    """Refit the count (--ensemble) best trials (chosen on validation; the best is refitted already), average
    their probabilities as one model, evaluate it and register it, on a run nested under the search.
    Member i trains with seed + i: one seed would give every member the same initialisation, batch
    order and augmentation draws, and so much the same mistakes, which averaging cannot correct."""
    chosen = search.best_trials(trials, config.metric, count)
    numbers = ",".join(str(int(row["trial"])) for row, _ in chosen)
    seeds = [config.seed + i for i in range(len(chosen))]
    tags = {"model_family": config.family, "model_kind": "ensemble"}
    with tracking.run(f"ensemble-{len(chosen)}", tags, nested=True):
        tracking.log_params({"members": len(chosen), "trials": numbers, "seeds": ",".join(map(str, seeds))})
        refits = zip(chosen[1:], seeds[1:], strict=True)
        members = [best, *(search.fit_params(replace(config, seed=seed), params, data) for (_, params), seed in refits)]
        title, said = f"ensemble of {len(chosen)} {config.family}", f"ensemble of trials {numbers}"
        name = models.model_name(config.family, members=len(chosen), tuned=True)
        recorded = record(averaged(members), data, config.family, name, title, config.seed, register=True, said=said)
        return recorded.registered()


def log_search_summary(config: TuneConfig, history: pd.DataFrame, best: pd.Series, best_params: dict) -> None:
    """Log the trial history, its figures, the best params and the search's counts on the parent run."""
    maximise = search.maximises(config.metric)
    tracking.log_csv(history.set_index("trial"), "trials.csv")
    tracking.log_table(history.sort_values(config.metric, ascending=not maximise, kind="stable"))
    tracking.log_figure(convergence_figure(history, config.metric, maximise), "convergence.png")
    tracking.log_figure(hyperparameters_figure(history, list(best_params), config.metric), "hyperparameters.png")
    tracking.log_json({key: np.asarray(value).tolist() for key, value in best_params.items()}, "best_params.json")
    tracking.log_metrics(
        {
            f"best_{config.metric}": float(best[config.metric]),
            "best_trial": float(best["trial"]),
            "trials_finished": float((history["status"] == STATUS_OK).sum()),
            "trials_failed": float((history["status"] == STATUS_FAIL).sum()),
            "trials_pruned": float(history["pruned"].sum()),
            **default_metric(config, history),
        }
    )


def default_metric(config: TuneConfig, history: pd.DataFrame) -> dict[str, float]:
    """The default configuration's validation metric (trial 1), beside the best's, when it finished."""
    first = history[(history["trial"] == 1) & (history["status"] == STATUS_OK)]
    return {f"default_{config.metric}": float(first[config.metric].iloc[0])} if len(first) else {}
