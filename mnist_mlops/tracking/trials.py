"""Runs of a search: trials nested under their parent from any process, and the checkpoint.

A search engine (tuning/search.py) records through a SearchTracking object and imports no MLflow.
"""

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import mlflow

from mnist_mlops.sqlite_store import absolute_uri
from mnist_mlops.tracking.runs import (
    active_run,
    download,
    ended_through_outages,
    git_commit,
    log_epoch,
    log_file,
    log_metrics,
    log_params,
)


@dataclass(frozen=True)
class Parent:
    """Where a nested run goes when it is opened in another process (a Spark worker) or thread."""

    tracking_uri: str  # the store, as every process can open it
    experiment_id: str
    run_id: str
    # A server's login ($MLFLOW_TRACKING_USERNAME, $MLFLOW_TRACKING_PASSWORD), for workers on other
    # machines; it travels inside the pickled trial function only, never into a run or a log.
    login: dict[str, str] = field(default_factory=dict, repr=False)


LOGIN = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")


def active_parent() -> Parent:
    """The active run, as the parent of runs that other processes open."""
    active = active_run()
    login = {name: os.environ[name] for name in LOGIN if name in os.environ}
    return Parent(absolute_uri(mlflow.get_tracking_uri()), active.info.experiment_id, active.info.run_id, login)


@contextlib.contextmanager
def child_run(parent: Parent, name: str) -> Iterator[str]:
    """Open a run nested under parent, from this process or another one, and yield its id."""
    for variable, value in parent.login.items():
        os.environ.setdefault(variable, value)
    mlflow.set_tracking_uri(parent.tracking_uri)
    tags = {"git_commit": git_commit()}
    with ended_through_outages(
        experiment_id=parent.experiment_id, parent_run_id=parent.run_id, nested=True, run_name=name, tags=tags
    ) as active:
        yield active.info.run_id


def name_run(run_id: str, name: str, tags: dict[str, str]) -> None:
    """Rename a run and tag it, from any thread."""
    client = mlflow.MlflowClient()
    client.update_run(run_id, name=name)
    for key, value in tags.items():
        client.set_tag(run_id, key, value)


def retire_lost_children(parent_id: str, kept: set[str]) -> None:
    """Tag lost=true the children of a run that are not in kept (a trial killed with an earlier
    process, or one that finished after its last save) and end the RUNNING ones as KILLED."""
    children = mlflow.search_runs(filter_string=f"tags.mlflow.parentRunId = '{parent_id}'")
    lost = children[~children["run_id"].isin(kept)]
    client = mlflow.MlflowClient()
    for child_id, status in zip(lost["run_id"], lost["status"], strict=True):
        client.set_tag(child_id, "lost", "true")
        if status == "RUNNING":
            client.set_terminated(child_id, status="KILLED")


@dataclass(frozen=True)
class SearchTracking:
    """What a search records in MLflow, under its parent run; it pickles, for Spark workers."""

    parent: Parent

    def trial_run(self) -> contextlib.AbstractContextManager[str]:
        """Open a trial's run nested under the parent, here or on a worker; yield its id."""
        return child_run(self.parent, "trial")

    log_params = staticmethod(log_params)
    log_metrics = staticmethod(log_metrics)
    log_epoch = staticmethod(log_epoch)

    def name_trial(self, run_id: str, number: int) -> None:
        """Name a finished trial's run trial-N and tag it with its number."""
        name_run(run_id, f"trial-{number}", {"trial": str(number)})

    def tag_trial(self, run_id: str, tags: dict[str, str]) -> None:
        """Tag a trial's run."""
        client = mlflow.MlflowClient()
        for key, value in tags.items():
            client.set_tag(run_id, key, value)

    def curves(self, metric: str, exclude: str | None) -> list[list[float]]:
        """The per-epoch values of a metric of every other trial of the search, epoch 1 first."""
        client = mlflow.MlflowClient()
        children = client.search_runs(
            [self.parent.experiment_id], f"tags.mlflow.parentRunId = '{self.parent.run_id}'", max_results=1000
        )
        return [
            [point.value for point in sorted(client.get_metric_history(run.info.run_id, metric), key=lambda p: p.step)
             if point.step >= 1]
            for run in children
            if run.info.run_id != exclude
        ]  # fmt: skip

    def save(self, path: Path) -> None:
        """Save a checkpoint file on the parent run."""
        log_file(path, self.parent.run_id)

    def load(self, file_name: str, folder: Path) -> Path | None:
        """Download a checkpoint file the parent run saved; None when it has none."""
        return download(self.parent.run_id, file_name, folder)

    def retire_others(self, kept: set[str]) -> None:
        """Tag lost, and end as KILLED if running, the parent's children no trial counts."""
        retire_lost_children(self.parent.run_id, kept)


def search_tracking() -> SearchTracking:
    """The SearchTracking of the active run."""
    return SearchTracking(active_parent())
