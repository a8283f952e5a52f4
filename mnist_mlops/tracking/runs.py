"""Runs and what they record: the store, params, metrics, artifacts, datasets."""

import contextlib
import json
import os
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pandas as pd

from mnist_mlops.data import Mnist
from mnist_mlops.errors import TrackingOutage
from mnist_mlops.evaluate.report import Report
from mnist_mlops.models.arithmetic import Choice
from mnist_mlops.sqlite_store import use_write_ahead_log
from mnist_mlops.stop import exit_if_stopped
from mnist_mlops.tracking import access

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"  # embedded store in the working directory
# What the MLflow 3 UI reads to open an experiment on its training runs rather than its GenAI views.
EXPERIMENT_KIND = ("mlflow.experimentKind", "custom_model_development")
# Keras' names for what an epoch logs, and ours ({split}_{name}).
EPOCH_METRICS = {
    "loss": "train_loss",
    "accuracy": "train_accuracy",
    "val_loss": "val_loss",
    "val_accuracy": "val_accuracy",
    "learning_rate": "learning_rate",
}


def use_tracking_uri() -> None:
    """Honour $MLFLOW_TRACKING_URI; default: SQLite in the working directory."""
    uri = os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI
    use_write_ahead_log(uri)
    mlflow.set_tracking_uri(uri)


def use_tracking(experiment: str) -> None:
    """Use the tracking store and pick the experiment.

    Under `mlflow run` the run already exists ($MLFLOW_RUN_ID) in the experiment mlflow chose, and
    jobs nested in a running one stay in its experiment.
    """
    use_tracking_uri()
    active = mlflow.active_run()
    if active:  # a job inside another (the pipeline's) stays in its parent's experiment
        mlflow.set_experiment(experiment_id=active.info.experiment_id)
    elif not os.environ.get("MLFLOW_RUN_ID"):
        mlflow.set_experiment(experiment)


def git_commit() -> str:
    """Return the commit of the source tree this package runs from, or 'unknown'."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5
        )
    except OSError:
        return "unknown"
    return result.stdout.strip() if result.returncode == 0 else "unknown"


@contextlib.contextmanager
def run(
    name: str, tags: dict[str, str], nested: bool = False, run_id: str | None = None, system_metrics: bool = False
) -> Iterator[str]:
    """Open a run, or reopen run_id, and yield its id; a failure marks it FAILED with an error tag.

    A run opened while another is active (the pipeline's) is nested under it. With system_metrics,
    MLflow samples the machine's CPU, memory and disk use into system/* metrics while it is open.
    """
    tags = {"git_commit": git_commit(), **tags}
    nested = nested or (mlflow.active_run() is not None and run_id is None)
    run_name = None if run_id else name
    with ended_through_outages(
        run_id=run_id, run_name=run_name, nested=nested, tags=tags, log_system_metrics=system_metrics
    ) as active:
        if not nested:  # under `mlflow run` the run exists already and takes our name now
            mlflow.set_tag("mlflow.runName", name)
            mark_experiment(active.info.experiment_id)
        yield active.info.run_id
        exit_if_stopped()


@contextlib.contextmanager
def ended_through_outages(**start_run) -> Iterator[mlflow.ActiveRun]:
    """mlflow.start_run(**start_run) whose failure tags the run with its error and ends it FAILED. If
    the tracking server stops answering, the run is still ended (access.end_after_outage waits for
    the server) and the job fails in one line that says how its run ended."""
    run_id, failed = None, None
    try:
        with mlflow.start_run(**start_run) as active:
            run_id = active.info.run_id
            try:
                yield active
            except BaseException as error:  # a stop signal's exit too: its run ends FAILED
                failed = error
                if isinstance(error, Exception):
                    tag_error(error)
                raise
    except Exception as error:
        own = outage_of(failed) if failed is not None else None  # the job's error was the outage
        if run_id is None and (said := access.outage(error)):
            raise TrackingOutage(f"{said}; no run was started") from error
        if run_id is None or not (own or access.outage(error)):
            raise
        said = own or (f"{error_text(failed)}; then " if failed is not None else "") + str(access.outage(error))
        line = access.end_after_outage(run_id, None if failed is None else error_text(failed), said)
        if failed is not None and not isinstance(failed, Exception):
            raise failed from error  # a stop signal's exit keeps its code
        if line:
            raise TrackingOutage(line) from error


def mark_experiment(experiment_id: str) -> None:
    """Tag an experiment as model development, once, so the UI opens it on its runs."""
    client = mlflow.MlflowClient()
    key, kind = EXPERIMENT_KIND
    if client.get_experiment(experiment_id).tags.get(key) != kind:
        client.set_experiment_tag(experiment_id, key, kind)


def active_run() -> mlflow.ActiveRun:
    """The active run; the callers run inside one, so none is a bug."""
    active = mlflow.active_run()
    assert active is not None, "no active MLflow run"
    return active


def active_run_id() -> str:
    """The id of the active run."""
    return active_run().info.run_id


def outage_of(error: BaseException) -> str | None:
    """The one-line message of an error that was the tracking server's outage: a nested run's
    TrackingOutage says it already; None for any other error."""
    return str(error) if isinstance(error, TrackingOutage) else access.outage(error)


def error_text(error: BaseException) -> str:
    """The error tag of a run that error ended."""
    return f"{type(error).__name__}: {error}"[:4000]


def tag_error(error: BaseException) -> None:
    """Tag the active run with the error that ends it (the run itself then ends FAILED); a tracking
    server that does not answer is left to ended_through_outages."""
    try:
        mlflow.set_tag("error", error_text(error))
    except Exception as failed:
        if access.outage(failed) is None:
            raise


def log_params(params: dict) -> None:
    """Log every parameter, None included, except those the run has already.

    `mlflow run` logs the entry point's parameters as the user spelled them (C=1, data_dir='')
    before our code starts; MLflow refuses to change a param, and both spellings say the same.
    """
    logged = mlflow.get_run(active_run_id()).data.params
    mlflow.log_params({key: param_text(value) for key, value in params.items() if key not in logged})


def log_precision(choice: Choice | None) -> None:
    """Log how the run's arithmetic was chosen (params) and the step times auto chose it by (metrics)."""
    if choice:
        log_params(choice.params())
        mlflow.log_metrics(choice.metrics())


def param_text(value) -> str:
    """Write a param as the command line takes it: tuples as 512,256."""
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


def split_datasets(data: Mnist) -> dict:
    """Each split as an MLflow dataset whose digest covers its pixels and labels, by split name."""
    datasets = {}
    for split in data.splits():
        with warnings.catch_warnings():  # MLflow registers its local source class twice, then warns of it
            warnings.filterwarnings("ignore", message="The specified dataset source can be interpreted")
            datasets[split.name] = mlflow.data.from_numpy(  # type: ignore[attr-defined]  # set on import
                split.x,
                targets=split.y,
                source=data.source,
                name=f"mnist-{split.name}",
                digest=split.digest,
            )
    return datasets


def log_datasets(data: Mnist) -> None:
    """Record each split as a dataset input of the active run."""
    for name, dataset in split_datasets(data).items():
        mlflow.log_input(dataset, context=name)
    mlflow.set_tag("data_digest", data.digest)


def log_model_metrics(model_uri: str, metrics: dict[str, float], data: Mnist, step: int = 0) -> None:
    """Log metrics on the active run, linked to a logged model (models:/<id>) and each {split}_
    metric to its split's dataset, so MLflow's logged-model views can rank and compare models."""
    model_id, datasets = model_uri.removeprefix("models:/"), split_datasets(data)
    for name, dataset in datasets.items():
        mine = {key: value for key, value in metrics.items() if key.startswith(f"{name}_")}
        mlflow.log_metrics(mine, step=step, model_id=model_id, dataset=dataset)
    rest = {key: value for key, value in metrics.items() if not key.startswith(tuple(f"{n}_" for n in datasets))}
    mlflow.log_metrics(rest, step=step, model_id=model_id)


def log_csv(table: pd.DataFrame, file_name: str) -> None:
    """Log a table as a CSV artifact of the active run."""
    mlflow.log_text(table.to_csv(), file_name)


def log_table(table: pd.DataFrame, file_name: str = "leaderboard.json") -> None:
    """Log a table with mlflow.log_table, which the UI's artifact view shows and compares across runs."""
    mlflow.log_table(data=table, artifact_file=file_name)


def log_epoch(epoch: int, logs: dict) -> None:
    """Log one epoch's Keras metrics as step metrics (step = 1-based epoch), so the UI draws curves.
    A stop signal whose exit was swallowed (it landed in a finaliser, as it often does in Keras'
    loop) ends the job here, after this epoch, not after the whole training."""
    metrics = {EPOCH_METRICS[key]: float(value) for key, value in logs.items() if key in EPOCH_METRICS}
    mlflow.log_metrics(metrics, step=epoch + 1)
    exit_if_stopped()


def log_report(report: Report, step: int = 0, model_uri: str | None = None, data: Mnist | None = None) -> None:
    """Log a report's metrics at step (linked to the logged model it evaluated and the data's splits,
    if given), its tables as CSV and its figures as PNG."""
    if model_uri and data is not None:
        log_model_metrics(model_uri, report.metrics, data, step)
    else:
        mlflow.log_metrics(report.metrics, step=step)
    for file_name, table in report.tables.items():
        log_csv(table, file_name)
    for file_name, figure in report.figures.items():
        log_figure(figure, file_name)


def log_json(content, file_name: str) -> None:
    """Log a JSON-serialisable object as an artifact of the active run."""
    mlflow.log_dict(content, file_name)


def log_file(path: Path, run_id: str) -> None:
    """Log a local file as an artifact of a run, from any thread."""
    mlflow.MlflowClient().log_artifact(run_id, str(path))


def download(run_id: str, file_name: str, folder: Path) -> Path | None:
    """Download a run's artifact into folder; None when the run has no such artifact."""
    names = {artifact.path for artifact in mlflow.MlflowClient().list_artifacts(run_id)}
    if file_name not in names:
        return None
    return Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=file_name, dst_path=str(folder)))


def load_table(run_id: str, file_name: str) -> pd.DataFrame | None:
    """A table log_table wrote on a run; None when the run has no such artifact."""
    with tempfile.TemporaryDirectory() as folder:
        path = download(run_id, file_name, Path(folder))
        table = None if path is None else json.loads(path.read_text())
    return None if table is None else pd.DataFrame(table["data"], columns=table["columns"])


def latest_run_tagged(key: str, value: str) -> str | None:
    """Return the id of the newest top-level run in the current experiment with tag key=value."""
    runs = mlflow.search_runs(
        filter_string=f"tags.{key} = '{value}'", order_by=["attributes.start_time DESC"], max_results=1
    )
    return None if runs.empty else runs["run_id"].iloc[0]


def log_metrics(metrics: dict[str, float]) -> None:
    """Log metrics to the active run."""
    mlflow.log_metrics(metrics)


def annotate(run_id: str, metrics: dict[str, float], tags: dict[str, str]) -> None:
    """Add metrics and tags to another run, such as the source run of a model measured later."""
    client = mlflow.MlflowClient()
    for key, value in metrics.items():
        client.log_metric(run_id, key, value)
    for key, text in tags.items():
        client.set_tag(run_id, key, text)


def log_figure(figure, file_name: str) -> None:
    """Log a matplotlib figure as a PNG artifact of the active run."""
    mlflow.log_figure(figure, file_name)


def set_tags(tags: dict[str, str]) -> None:
    """Set tags on the active run."""
    mlflow.set_tags(tags)
