"""`mnist-mlops robustness` on a registered model of a temporary store."""

import mlflow
import numpy as np
import pytest
from click.testing import CliRunner
from mlflow import MlflowClient

from mnist_mlops.cli import cli
from mnist_mlops.config import RobustnessConfig
from mnist_mlops.evaluate.corruptions import CORRUPTIONS
from mnist_mlops.evaluate.paper import PAPERS
from mnist_mlops.jobs.robustness import run_robustness
from mnist_mlops.registry import MODEL_NAME


@pytest.fixture(scope="module")
def store(registered_store, temporary_store):
    """The shared store, whose version 1, the champion, is a kNN on 3,000 images."""
    with temporary_store(registered_store):
        yield


@pytest.fixture(scope="module")
def whole_test_set(store):
    """The champion measured on all 10,000 test images as pixel rows (the fast way), and on 100 of them
    photographed on each kind of paper."""
    return run_robustness(RobustnessConfig(input_format="rows", paper_images=100, experiment="robustness"))


def test_the_run_logs_every_corruption_and_links_the_model(whole_test_set):
    client = MlflowClient()
    run = client.get_run(whole_test_set.run_id)
    assert run.info.status == "FINISHED"
    metrics = run.data.metrics
    assert {f"robust_{name}_accuracy" for name in CORRUPTIONS} <= set(metrics)
    assert metrics["robust_clean_accuracy"] > 0.9 and metrics["robust_invert_accuracy"] < 0.5  # pixels as they are
    assert metrics["robust_mean_accuracy"] < metrics["robust_clean_accuracy"]
    artifacts = {artifact.path for artifact in client.list_artifacts(run.info.run_id)}
    assert {"robustness.csv", "robustness_accuracy.png", "robustness_examples.png"} <= artifacts
    assert {f"robust_paper_{kind}_accuracy" for kind in PAPERS} <= set(metrics)
    assert {"robustness_paper.csv", "robustness_paper.png"} <= artifacts
    off_plain = [metrics[f"robust_paper_{kind}_accuracy"] for kind in PAPERS if kind != "plain"]
    assert metrics["robust_paper_mean_accuracy"] == pytest.approx(np.mean(off_plain))
    assert metrics["robust_paper_plain_accuracy"] > 0.8  # a kNN on 3,000 images, photos through the image path
    version = client.get_model_version(MODEL_NAME, "1")
    assert run.data.tags["registered_version"] == "1"
    assert run.data.tags["source_run_id"] == version.tags["source_run_id"]
    assert float(version.tags["robust_mean_accuracy"]) == pytest.approx(metrics["robust_mean_accuracy"], abs=1e-6)
    assert version.tags["robustness_run_id"] == run.info.run_id and version.tags["robust_severity"] == "3"
    source = client.get_run(version.tags["source_run_id"])
    assert source.data.metrics["robust_mean_accuracy"] == metrics["robust_mean_accuracy"]
    assert float(version.tags["robust_paper_mean_accuracy"]) == pytest.approx(metrics["robust_paper_mean_accuracy"])


def test_images_go_through_the_serving_preprocessing(whole_test_set):
    """Sent as PNGs, inverted digits are read as well as clean ones; a partial report links nothing (the
    corruptions only: the paper suite is tested alone below)."""
    arguments = ["robustness", "--limit", "200", "--suite", "corruptions", "--experiment", "robustness"]
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 0, result.output
    assert "robust_mean_accuracy=" in result.output and "invert" in result.output
    run = mlflow.search_runs(experiment_names=["robustness"], filter_string="params.limit = '200'").iloc[0]
    assert run["metrics.robust_invert_accuracy"] >= run["metrics.robust_clean_accuracy"] - 0.02
    version = MlflowClient().get_model_version(MODEL_NAME, "1")
    assert version.tags["robustness_run_id"] == whole_test_set.run_id


def test_registry_compare_shows_the_robust_mean(whole_test_set):
    result = CliRunner().invoke(cli, ["registry", "compare", "1", "champion"])
    assert result.exit_code == 0, result.output
    mean = whole_test_set.metrics["robust_mean_accuracy"]
    paper = whole_test_set.metrics["robust_paper_mean_accuracy"]
    assert f"1: robust_mean_accuracy {mean:.4f} (severity 3), on paper {paper:.4f}" in result.output


def test_the_paper_suite_alone(whole_test_set):
    """--suite paper logs the paper kinds only, on --paper-images digits, and records nothing on a partial report."""
    arguments = ["robustness", "--suite", "paper", "--limit", "100", "--paper-images", "30", "--experiment", "paper"]
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 0, result.output
    assert "robust_paper_mean_accuracy=" in result.output and "robust_mean_accuracy=" not in result.output
    run = mlflow.search_runs(experiment_names=["paper"]).iloc[0]
    assert "metrics.robust_invert_accuracy" not in run and run["metrics.robust_paper_form_box_accuracy"] >= 0
    assert run["params.paper_images"] == "30"


def test_an_unknown_model_is_a_clear_error_and_records_nothing(store):
    before = len(mlflow.search_runs(search_all_experiments=True))
    result = CliRunner().invoke(cli, ["robustness", "--model-uri", "models:/mnist-digits/99"])
    assert result.exit_code == 1 and "mnist-digits has no version or alias '99'" in result.output
    assert len(mlflow.search_runs(search_all_experiments=True)) == before


@pytest.mark.parametrize("option", [["--severity", "6"], ["--input-format", "tensor"]])
def test_bad_options_are_refused(option):
    result = CliRunner().invoke(cli, ["robustness", *option])
    assert result.exit_code == 2 and option[0] in result.output


def test_the_feedback_suite_without_feedback_is_a_clear_error_and_records_nothing(store):
    before = len(mlflow.search_runs(search_all_experiments=True))
    result = CliRunner().invoke(cli, ["robustness", "--suite", "feedback"])
    assert result.exit_code == 1 and "no feedback yet: correct a wrong answer on the page" in result.output
    assert len(mlflow.search_runs(search_all_experiments=True)) == before
