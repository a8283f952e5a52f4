"""The explore job: every figure and the class distribution, deterministic for a seed."""

import io
from pathlib import Path

import mlflow
import pandas as pd
from mlflow import MlflowClient

from mnist_mlops.config import ExploreConfig
from mnist_mlops.jobs.explore import run_exploration

FIGURES = {"class_distribution.png", "samples_per_digit.png", "pixel_histograms.png", "mean_digits.png",
           "embedding_pca.png"}  # fmt: skip


def test_explore_logs_every_figure_and_the_counts(tracking_store):
    run_id = run_exploration(ExploreConfig(limit=2000, experiment="explore"))
    names = {a.path for a in MlflowClient().list_artifacts(run_id)}
    assert FIGURES | {"class_distribution.csv"} <= names
    counts = pd.read_csv(io.StringIO(mlflow.artifacts.load_text(f"runs:/{run_id}/class_distribution.csv")),
                         index_col="digit")  # fmt: skip
    assert counts.columns.tolist() == ["train", "val", "test"]
    assert counts["train"].sum() == 1800 and counts["val"].sum() == 200 and counts["test"].sum() == 10000


def test_figures_are_deterministic_for_a_seed(tracking_store):
    first = run_exploration(ExploreConfig(limit=2000, seed=3, experiment="explore"))
    second = run_exploration(ExploreConfig(limit=2000, seed=3, experiment="explore"))
    for name in ("samples_per_digit.png", "embedding_pca.png"):
        a = mlflow.artifacts.download_artifacts(run_id=first, artifact_path=name)
        b = mlflow.artifacts.download_artifacts(run_id=second, artifact_path=name)
        assert Path(a).read_bytes() == Path(b).read_bytes(), name
