"""The baseline job on a small subset, tracked into a temporary SQLite store."""

import io

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from mnist_mlops import models
from mnist_mlops.config import BaselineConfig
from mnist_mlops.jobs.baseline import run_baselines

SMALL = {"limit": 1000, "seed": 7, "experiment": "test-baselines"}


def runs_of(experiment: str) -> pd.DataFrame:
    return mlflow.search_runs(experiment_names=[experiment])


@pytest.fixture(scope="module")
def all_baselines(tmp_path_factory, temporary_store):
    """Run `--model all` once for the module, into its own store."""
    with temporary_store(tmp_path_factory.mktemp("store")):
        table = run_baselines(BaselineConfig(model="all", **SMALL))
        yield table, runs_of("test-baselines")


def test_all_is_a_parent_with_one_child_per_model(all_baselines):
    table, runs = all_baselines
    parent = runs[runs["tags.mlflow.parentRunId"].isna()]
    children = runs[runs["tags.mlflow.parentRunId"].notna()]
    assert len(parent) == 1 and parent["tags.mlflow.runName"].item() == "baselines"
    assert sorted(children["tags.mlflow.runName"]) == ["dummy", "knn", "logreg", "rf"]
    assert (children["tags.mlflow.parentRunId"] == parent["run_id"].item()).all()
    assert (runs["status"] == "FINISHED").all()


def test_comparison_is_sorted_by_validation_accuracy(all_baselines):
    table, runs = all_baselines
    assert table["val_accuracy"].is_monotonic_decreasing
    assert table["model"].iloc[-1] == "dummy"
    logged = runs.set_index("run_id")["metrics.val_accuracy"]
    assert np.allclose(table.set_index("run_id")["val_accuracy"], logged[table["run_id"]])


def test_metrics_are_real_and_named_by_split(all_baselines):
    _, runs = all_baselines
    children = runs[runs["tags.mlflow.parentRunId"].notna()].set_index("tags.mlflow.runName")
    for split in ("train", "val", "test"):
        for name in ("accuracy", "f1_macro", "log_loss", "predict_seconds"):
            assert children[f"metrics.{split}_{name}"].notna().all(), f"{split}_{name}"
    assert (children["metrics.fit_seconds"] > 0).all()
    assert 0.05 < children.loc["dummy", "metrics.test_accuracy"] < 0.15
    assert children.loc["knn", "metrics.test_accuracy"] > 0.85
    assert children.loc["logreg", "metrics.test_accuracy"] > 0.8


def test_params_tags_and_datasets(all_baselines):
    _, runs = all_baselines
    knn = runs[runs["tags.mlflow.runName"] == "knn"].iloc[0]
    assert knn["params.clf__n_neighbors"] == "4" and knn["params.pca__n_components"] == "50"
    assert knn["params.limit"] == "1000" and knn["params.model"] == "knn"
    assert knn["tags.model_family"] == "knn" and len(knn["tags.data_digest"]) == 16
    assert knn["tags.git_commit"]
    inputs = MlflowClient().get_run(knn["run_id"]).inputs.dataset_inputs
    contexts = sorted(tag.value for i in inputs for tag in i.tags if tag.key == "mlflow.data.context")
    assert contexts == ["test", "train", "val"]


def test_artifacts_match_the_logged_model(all_baselines, small_mnist):
    _, runs = all_baselines
    rf = runs[runs["tags.mlflow.runName"] == "rf"].iloc[0]
    client = MlflowClient()
    names = {a.path for a in client.list_artifacts(rf["run_id"])}
    assert {"test_confusion_matrix.png", "test_confusion_matrix.csv", "test_per_class_metrics.csv"} <= names
    counts = pd.read_csv(
        io.StringIO(mlflow.artifacts.load_text(f"runs:/{rf['run_id']}/test_confusion_matrix.csv")), index_col=0
    )
    assert counts.to_numpy().sum() == 10000
    assert counts.to_numpy().trace() / 10000 == pytest.approx(rf["metrics.test_accuracy"])
    models = {m.source_run_id: m for m in client.search_logged_models([rf["experiment_id"]])}
    model = mlflow.sklearn.load_model(models[rf["run_id"]].model_uri)
    accuracy = (model.predict(small_mnist.test.x) == small_mnist.test.y).mean()
    assert accuracy == pytest.approx(rf["metrics.test_accuracy"])


def test_single_model_run_logs_its_own_params(tracking_store):
    config = BaselineConfig(model="logreg", C=0.5, max_iter=50, **SMALL)
    table = run_baselines(config)
    runs = runs_of("test-baselines")
    assert len(runs) == 1 and table["model"].tolist() == ["logreg"]
    assert runs["params.clf__C"].item() == "0.5" and runs["params.clf__max_iter"].item() == "50"
    assert "params.clf__n_neighbors" not in runs


def test_hyperparameters_use_sklearn_names():
    config = BaselineConfig(n_estimators=10, max_depth=5)
    assert models.family("rf").hyperparameters(config) == {"clf__n_estimators": 10, "clf__max_depth": 5}
