"""Adding a model family is one registration: a Gaussian naive Bayes pipeline, declared here and
nowhere else, runs through `baseline`, `tune` and the dashboard's leaderboard like the built-ins."""

import mlflow
import pytest
from click.testing import CliRunner
from sklearn.naive_bayes import GaussianNB

from mnist_mlops import models
from mnist_mlops.cli import cli
from mnist_mlops.dashboard.collect import leaderboard
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.models.baselines import sklearn_family

SMALL = ["--limit", "1000", "--seed", "2", "--experiment", "toy"]


@pytest.fixture
def gaussian_nb():
    """The family registered for one test, then removed again."""
    family = models.register(
        sklearn_family(
            "gnb",
            lambda seed: [("clf", GaussianNB())],
            space={"clf__var_smoothing": ("loguniform", 1e-9, 1.0)},
            key_params=("clf__var_smoothing",),
        )
    )
    yield family
    del models.FAMILIES[family.name]


def test_a_registered_family_runs_through_baseline_and_tune(tracking_store, gaussian_nb):
    baseline = CliRunner().invoke(cli, ["baseline", "--model", "gnb", *SMALL])
    assert baseline.exit_code == 0, baseline.output
    tuned = CliRunner().invoke(cli, ["tune", "--family", "gnb", "--max-evals", "3", "--quiet", *SMALL])
    assert tuned.exit_code == 0, tuned.output
    runs = mlflow.search_runs(experiment_names=["toy"])
    fitted = runs[runs["tags.mlflow.runName"] == "gnb"].iloc[0]
    assert fitted["tags.model_family"] == "gnb" and 0.4 < fitted["metrics.test_accuracy"] < 0.9
    search = runs[runs["tags.model_kind"] == "search"].iloc[0]
    trials = runs[runs["tags.mlflow.parentRunId"] == search["run_id"]]
    assert len(trials) == 3 and trials["params.clf__var_smoothing"].notna().all()
    assert search["tags.registered_version"] == "1" and search["metrics.best_val_accuracy"] > 0.4
    shown = leaderboard(runs).set_index("run")["params"]
    assert shown["search-gnb-tpe"].startswith("algo=tpe")


def test_an_unknown_family_is_refused_with_the_known_ones(tracking_store):
    result = CliRunner().invoke(cli, ["baseline", "--model", "gnb", *SMALL])
    assert result.exit_code == 2 and "'gnb' is not one of 'dummy', 'logreg', 'knn', 'rf', 'all'" in result.output
    with pytest.raises(MnistMlopsError, match="unknown model family 'gnb'; choose one of dummy, logreg, knn, rf"):
        models.family("gnb")
