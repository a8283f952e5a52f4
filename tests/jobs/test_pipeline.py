"""The main job, the suite's one full pipeline, as `mlflow run . -e main` runs it: every stage nested
under the project's run, a console that says what it does and found and nothing else, and the
logged models ranked in MLflow's views."""

import re

import mlflow
import pytest
from mlflow import MlflowClient

pytestmark = pytest.mark.slow
NOISE = re.compile(r"warning|traceback|error|^[IWEF]\d{4} ", re.IGNORECASE | re.MULTILINE)


@pytest.fixture(scope="module")
def main_job(tmp_path_factory, temporary_store, project):
    """The main job on 1,000 images: one epoch of the fast network, a 2-trial search; the finished
    `mlflow run` and its experiment's runs, read in its store."""
    folder = tmp_path_factory.mktemp("main")
    with temporary_store(folder):
        yield project.run("main", folder, "limit=1000", "epochs=1", "max_evals=2", "arch=fast")


def test_the_console_says_each_stage_and_no_warning(main_job):
    done, _ = main_job
    assert NOISE.search(done.stderr) is None, done.stderr
    for stage in ("baseline logreg: val_accuracy", "fast: registered as version 1", "tuned knn (trial",
                  "robustness of models:/mnist-digits@champion: robust_mean_accuracy"):  # fmt: skip
        assert stage in done.stderr
    assert "the champion under corruption: robust_mean_accuracy=" in done.stdout
    assert "on photographed paper: robust_paper_mean_accuracy=" in done.stdout


def test_every_stage_runs_under_the_project_run(main_job):
    _, runs = main_job
    project = runs[runs["tags.mlflow.project.entryPoint"] == "main"]
    assert len(project) == 1 and (runs["status"] == "FINISHED").all()
    under_project = runs[runs["tags.mlflow.parentRunId"] == project["run_id"].item()]
    assert sorted(under_project["tags.mlflow.runName"]) == ["baselines", "fast", "robustness", "search-knn-tpe"]
    robustness = under_project[under_project["tags.mlflow.runName"] == "robustness"].iloc[0]
    assert robustness["params.limit"] == "1000" and 0.3 < robustness["metrics.robust_mean_accuracy"] < 1
    assert 0.3 < robustness["metrics.robust_paper_mean_accuracy"] < 1
    baselines = under_project[under_project["tags.mlflow.runName"] == "baselines"]["run_id"].item()
    names = sorted(runs[runs["tags.mlflow.parentRunId"] == baselines]["tags.mlflow.runName"])
    assert names == ["dummy", "knn", "logreg", "rf"]
    versions = MlflowClient().search_model_versions("name = 'mnist-digits'")
    assert sorted(version.tags["model_family"] for version in versions) == ["fast", "knn"]


def test_the_logged_models_rank_by_their_linked_validation_accuracy(main_job):
    models = mlflow.search_logged_models(
        experiment_ids=[mlflow.get_experiment_by_name("project-main").experiment_id],
        order_by=[{"field_name": "metrics.val_accuracy", "ascending": False}],
        output_format="list",
    )
    # the four baselines, the network, the tuned kNN, and the serving models of the two registered
    assert sorted(model.name for model in models) == ["model"] * 6 + ["serving_model"] * 2
    ranked = []
    for model in models:
        metrics = {metric.key: metric for metric in model.metrics}
        assert {"val_accuracy", "test_accuracy"} <= set(metrics), model.name
        assert metrics["val_accuracy"].dataset_name == "mnist-val"
        ranked.append(metrics["val_accuracy"].value)
    assert ranked == sorted(ranked, reverse=True)
