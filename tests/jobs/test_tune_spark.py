"""The tune job on Spark (local master, real pyspark and Java): trials run in parallel on Spark
workers, which log them as nested runs, to a tracking server and to SQLite; kill and resume."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

from mnist_mlops import registry
from mnist_mlops.config import TuneConfig
from mnist_mlops.jobs.tune import run_search

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
METRICS = ["val_accuracy", "val_f1_macro", "val_log_loss", "fit_seconds", "val_predict_seconds"]
SPARK = {"backend": "spark", "parallelism": 2, "quiet": True, "experiment": "test-spark"}


def children_of(parent_id: str):
    return mlflow.search_runs(experiment_names=["test-spark"], filter_string=f"tags.mlflow.parentRunId = '{parent_id}'")


@pytest.fixture(scope="module")
def spark_search(tracking_server):
    """Six random-forest trials on 1,000 images, two at a time on local[2], logged by the Spark workers to a
    tracking server."""
    return run_search(TuneConfig(family="rf", max_evals=6, limit=1000, seed=3, **SPARK))


def test_every_trial_is_a_nested_run_with_all_its_metrics(spark_search):
    children = children_of(spark_search.parent_run_id)
    assert len(children) == 6 and (children["status"] == "FINISHED").all()
    assert sorted(children["tags.trial"].astype(int)) == [1, 2, 3, 4, 5, 6]
    assert sorted(children["tags.mlflow.runName"]) == [f"trial-{n}" for n in range(1, 7)]
    assert children[[f"metrics.{name}" for name in METRICS]].notna().all().all()  # none lost
    assert children["params.clf__n_estimators"].notna().all()
    assert "tags.error" not in children or children["tags.error"].isna().all()


def test_trials_ran_two_at_a_time(spark_search):
    spans = sorted(children_of(spark_search.parent_run_id)[["start_time", "end_time"]].itertuples(index=False))
    overlapping = sum(later.start_time < earlier.end_time for earlier, later in zip(spans, spans[1:], strict=False))
    assert overlapping >= 2


def test_the_best_child_by_validation_is_selected_and_registered(spark_search):
    children = children_of(spark_search.parent_run_id)
    best = children.loc[children["metrics.val_accuracy"].idxmax()]
    assert spark_search.best_value == pytest.approx(best["metrics.val_accuracy"])
    metrics = MlflowClient().get_run(spark_search.parent_run_id).data.metrics
    assert metrics["val_accuracy"] == pytest.approx(best["metrics.val_accuracy"])  # the refit is the same model
    version = MlflowClient().get_model_version_by_alias(registry.MODEL_NAME, registry.CHALLENGER)
    assert version.run_id == spark_search.parent_run_id and version.version == spark_search.promotion.version


def tune_command(*extra: str) -> list[str]:
    arguments = ["--family", "knn", "--limit", "4000", "--max-evals", "8", "--study", "spark-resumable"]
    options = ["--backend", "spark", "--parallelism", "2", "--quiet", "--experiment", "test-spark"]
    return [sys.executable, "-m", "mnist_mlops", "tune", *arguments, *options, *extra]


def test_a_killed_parallel_search_resumes_on_sqlite(tracking_store):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    assert mlflow.search_runs(search_all_experiments=True).empty  # creates the store before the search uses it
    search = subprocess.Popen(
        tune_command(), env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and search.poll() is None:
        runs = mlflow.search_runs(search_all_experiments=True)
        if "tags.trial" in runs and runs["tags.trial"].notna().sum() >= 3:
            break
        time.sleep(0.3)
    assert search.poll() is None, "the search ended before it could be killed: " + search.stderr.read()[-2000:]
    os.killpg(search.pid, signal.SIGKILL)  # the search, its JVM and its workers, as `kill -9 -PGID` does
    killed_output = search.communicate(timeout=30)[1]
    resumed = subprocess.run(tune_command("--resume"), env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "database is locked" not in killed_output + resumed.stderr
    runs = mlflow.search_runs(search_all_experiments=True)
    parent_id = runs.loc[runs["tags.study"] == "spark-resumable", "run_id"].item()
    children = runs[runs["tags.mlflow.parentRunId"] == parent_id]
    lost = children["tags.lost"].eq("true") if "tags.lost" in children else children["status"].isna()
    counted = children[~lost]  # the trials killed mid-way, if any, are tagged lost and KILLED
    assert (counted["status"] == "FINISHED").all() and sorted(counted["tags.trial"].astype(int)) == list(range(1, 9))
    assert counted[[f"metrics.{name}" for name in METRICS]].notna().all().all()
    assert not (runs["status"] == "RUNNING").any()
    assert runs.set_index("run_id").loc[parent_id, "status"] == "FINISHED"
