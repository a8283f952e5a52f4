"""Registry jobs against real registered models in a temporary store."""

import mlflow
import pytest
from click.testing import CliRunner

from mnist_mlops import registry
from mnist_mlops.cli import cli
from mnist_mlops.config import TuneConfig
from mnist_mlops.jobs.registry import compare_versions, promote_version, version_table
from mnist_mlops.jobs.tune import run_search


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory, temporary_store):
    """v1: a tuned kNN (champion); v2: a one-trial logistic regression on 300 images (worse)."""
    with temporary_store(tmp_path_factory.mktemp("registry")):
        knn = run_search(TuneConfig(family="knn", max_evals=2, limit=3000, quiet=True, experiment="registry"))
        logreg = run_search(TuneConfig(family="logreg", max_evals=1, limit=300, quiet=True, experiment="registry"))
        yield knn, logreg


def test_list_shows_aliases_family_and_accuracy(two_versions):
    table = version_table()
    assert table["version"].tolist() == [2, 1]
    assert table.set_index("version").loc[1, "aliases"] == "champion"
    assert table.set_index("version").loc[2, "aliases"] == "challenger"
    assert table["family"].tolist() == ["logreg", "knn"]
    assert table.set_index("version").loc[1, "test_accuracy"] == pytest.approx(two_versions[0].metrics["test_accuracy"])


def test_compare_by_alias_and_number(two_versions):
    result = compare_versions("champion", "2")
    assert result.n == 10000
    assert result.accuracy_a == pytest.approx(two_versions[0].metrics["test_accuracy"], abs=1e-4)
    assert result.accuracy_b == pytest.approx(two_versions[1].metrics["test_accuracy"], abs=1e-4)
    assert result.difference > 0 and result.ci_low < result.difference < result.ci_high and result.significant()


def test_a_worse_version_is_not_promoted_unless_forced(two_versions):
    promotion = promote_version("2")
    assert not promotion.promoted and "not promoted" in promotion.decision and "McNemar p=" in promotion.decision
    client = mlflow.MlflowClient()
    assert str(client.get_model_version_by_alias(registry.MODEL_NAME, "champion").version) == "1"
    tags = client.get_model_version(registry.MODEL_NAME, "2").tags
    assert tags["compared_with_version"] == "1" and float(tags["test_accuracy_difference"]) < 0
    promotion = promote_version("2", force=True)
    assert promotion.promoted and promotion.decision.endswith("; forced")
    assert str(client.get_model_version_by_alias(registry.MODEL_NAME, "champion").version) == "2"


def test_unknown_version_is_a_clear_error(two_versions):
    result = CliRunner().invoke(cli, ["registry", "compare", "champion", "@nobody"])
    assert result.exit_code == 1 and "mnist-digits has no version or alias '@nobody'" in result.output
