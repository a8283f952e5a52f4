"""Reading what the dashboard shows out of MLflow: runs, searches, the champion, the registry."""

import io
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import mlflow
import pandas as pd
from mlflow import MlflowClient

from mnist_mlops import models, registry, registry_text, tracking
from mnist_mlops.errors import MnistMlopsError

SEARCH_PARAMS = ("algo", "max_evals", "metric")
CHAMPION_FIGURES = ("test_confusion_matrix.png", "test_misclassified.png", "training_curves.png")
ROBUSTNESS_FIGURES = ("robustness_accuracy.png", "robustness_paper.png")  # the corruption and paper charts
MONITORING = "mnist-monitoring"  # the experiment `mnist-mlops monitor` logs into by default
MONITORING_FIGURES = ("drift.png", "digit_mix.png")
MONITOR_RUNS = "tags.model_kind = 'monitor'"  # its runs, whatever their name


@dataclass
class Search:
    """One tuning search: its trials' metric by trial number, and its hyperparameter figure."""

    name: str
    family: str
    algo: str
    metric: str
    trials: pd.DataFrame  # trial, metric
    hyperparameters_png: bytes | None


@dataclass
class Champion:
    """The registered champion and its evaluation artifacts."""

    version: str
    family: str
    test_accuracy: float
    robustness: str | None = None  # robust_mean_accuracy and severity, when a robustness report measured it
    figures: dict[str, bytes] = field(default_factory=dict)  # artifact name -> PNG
    per_class: pd.DataFrame | None = None


@dataclass
class Monitoring:
    """The latest `mnist-mlops monitor` run: its window, profile, alerts, drift tests and charts."""

    window: str
    metrics: dict[str, float]  # the run's metrics (window_records, window_refused_rate, ...)
    alerts: str  # the rules that fired, or none
    drift: pd.DataFrame | None  # drift.json: every test
    accuracy: pd.DataFrame | None  # live_accuracy.json, when records were labelled
    figures: dict[str, bytes] = field(default_factory=dict)  # artifact name -> PNG


@dataclass
class DashboardData:
    """Everything the page shows."""

    experiments: list[str]
    ui_url: str | None  # the tracking server's address, for links; None for a local store
    leaderboard: pd.DataFrame
    searches: list[Search]
    champion: Champion | None
    versions: pd.DataFrame
    monitoring: Monitoring | None = None


def experiment_ids(names: list[str]) -> dict[str, str]:
    """Map experiment names to ids; every experiment with runs when names is empty."""
    client = MlflowClient()
    if not names:
        return {e.name: e.experiment_id for e in client.search_experiments() if e.name != "Default"}
    found = {}
    for name in names:
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            known = ", ".join(sorted(e.name for e in client.search_experiments())) or "none"
            raise MnistMlopsError(f"experiment {name!r} does not exist (known: {known})")
        found[name] = experiment.experiment_id
    return found


def key_params(run: pd.Series) -> tuple[str, ...]:
    """The params the leaderboard shows for a run."""
    if run.get("tags.model_kind") == "search":
        return SEARCH_PARAMS
    name = run.get("tags.model_family")
    return models.FAMILIES[name].key_params if name in models.FAMILIES else ()


def leaderboard(runs: pd.DataFrame) -> pd.DataFrame:
    """Finished runs with a test accuracy (trained models, not trials), best validation first."""
    columns = ["run_id", "experiment_id", "tags.mlflow.runName", "tags.model_family", "tags.model_kind",
               "metrics.val_accuracy", "metrics.test_accuracy", "metrics.fit_seconds"]  # fmt: skip
    if runs.empty or "metrics.test_accuracy" not in runs:
        return pd.DataFrame(columns=["run", "family", "kind", "val_accuracy", "test_accuracy", "fit_seconds",
                                     "params", "run_id", "experiment_id"])  # fmt: skip
    models = runs[runs["metrics.test_accuracy"].notna() & (runs["status"] == "FINISHED")].copy()
    params = [
        ", ".join(f"{key}={row[f'params.{key}']}" for key in key_params(row) if pd.notna(row.get(f"params.{key}")))
        for _, row in models.iterrows()
    ]
    table = models.reindex(columns=columns).rename(columns=lambda c: c.split(".")[-1])
    table = table.rename(columns={"runName": "run", "model_family": "family", "model_kind": "kind"})
    table["params"] = params
    return table.sort_values("val_accuracy", ascending=False, ignore_index=True)


def artifact_bytes(run_id: str, name: str) -> bytes | None:
    """The content of a run's artifact, or None when it has none of that name."""
    with tempfile.TemporaryDirectory() as folder:
        path = tracking.download(run_id, name, Path(folder))
        return None if path is None else path.read_bytes()


def searches(runs: pd.DataFrame) -> list[Search]:
    """Every finished search with its trials."""
    if runs.empty or "tags.model_kind" not in runs:
        return []
    found = []
    for _, run in runs[(runs["tags.model_kind"] == "search") & (runs["status"] == "FINISHED")].iterrows():
        metric = run.get("params.metric", "val_accuracy")
        content = artifact_bytes(run["run_id"], "trials.csv")
        if content is None:
            continue
        trials = pd.read_csv(io.BytesIO(content))
        trials = trials[trials["status"] == "ok"][["trial", metric]]
        found.append(
            Search(
                run["tags.mlflow.runName"],
                run["tags.model_family"],
                run["tags.algo"],
                metric,
                trials,
                artifact_bytes(run["run_id"], "hyperparameters.png"),
            )
        )
    return found


def champion() -> Champion | None:
    """The champion version and its figures, or None when there is none."""
    number = registry.champion_version()  # None only when there is none; a failure to read it is an error
    if number is None:
        return None
    version = registry.resolve(number)
    source = registry.source_run(version)
    found = Champion(
        str(version.version), version.tags.get("model_family", ""), float(version.tags.get("test_accuracy", "nan"))
    )
    for name in CHAMPION_FIGURES:
        content = artifact_bytes(source, name)
        if content is not None:
            found.figures[name] = content
    if "robustness_run_id" in version.tags:
        found.robustness = registry_text.robustness_text(version)
        for name in ROBUSTNESS_FIGURES:
            chart = artifact_bytes(version.tags["robustness_run_id"], name)
            if chart is not None:
                found.figures[name] = chart
    per_class = artifact_bytes(source, "test_per_class_metrics.csv")
    found.per_class = None if per_class is None else pd.read_csv(io.BytesIO(per_class))
    return found


def monitoring() -> Monitoring | None:
    """The latest run of `mnist-mlops monitor` in its experiment, or None when there is none."""
    client = MlflowClient()
    experiment = client.get_experiment_by_name(MONITORING)
    newest = ["attributes.start_time DESC"]
    found = [] if experiment is None else client.search_runs([experiment.experiment_id], MONITOR_RUNS, order_by=newest,
                                                             max_results=1)  # fmt: skip
    if not found:
        return None
    run = found[0]
    params = run.data.params
    window = f"{params.get('window_start', '?')[:16]} to {params.get('window_end', '?')[:16]} UTC"
    latest = Monitoring(window, run.data.metrics, run.data.tags.get("alerts", "none"),
                        tracking.load_table(run.info.run_id, "drift.json"),
                        tracking.load_table(run.info.run_id, "live_accuracy.json"))  # fmt: skip
    for name in MONITORING_FIGURES:
        content = artifact_bytes(run.info.run_id, name)
        if content is not None:
            latest.figures[name] = content
    return latest


def ui_url() -> str | None:
    """The tracking server's address when runs live on one."""
    uri = mlflow.get_tracking_uri()
    return uri.rstrip("/") if uri.startswith(("http://", "https://")) else None


def collect(experiment_names: list[str]) -> DashboardData:
    """Read everything the dashboard shows from the current tracking store."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # many small downloads

    ids = experiment_ids(experiment_names)
    runs = mlflow.search_runs(experiment_ids=list(ids.values())) if ids else pd.DataFrame()
    versions = registry_text.version_table()
    return DashboardData(sorted(ids), ui_url(), leaderboard(runs), searches(runs), champion(), versions, monitoring())
