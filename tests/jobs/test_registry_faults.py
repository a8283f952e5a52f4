"""The registry under faults: a real tracking server behind a fault proxy that answers 503 to the one
request that reads mnist-digits' aliases. Only "does not exist" means "no champion"; any other failure
fails the command in one line, moves no alias, and leaves the version undecided and no run RUNNING."""

import os
import subprocess
import sys

import mlflow
import pytest
from click.testing import CliRunner

from mnist_mlops import registry, registry_text
from mnist_mlops.cli import cli
from mnist_mlops.config import TuneConfig
from mnist_mlops.dashboard.collect import champion
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.jobs.registry import promote_version
from mnist_mlops.jobs.tune import run_search
from mnist_mlops.playground.models import sources
from tests.conftest import REPO
from tests.fault_proxy import FaultProxy, through

ALIASES = "/api/2.0/mlflow/registered-models/get"  # how every reader of @champion and @challenger asks
FEW_RETRIES = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "0"}  # fail in seconds


@pytest.fixture(scope="module")
def champion_v1(tracking_server):
    """Version 1, the champion: a one-trial logistic regression on 2,000 images."""
    search = run_search(TuneConfig(family="logreg", max_evals=1, limit=2000, quiet=True, experiment="faults"))
    assert registry.champion_version() == "1"
    return search


@pytest.fixture
def aliases_fail(tracking_server, monkeypatch):
    """A proxy in front of the server whose reads of the aliases answer 503; MLflow retries once."""
    for name, value in FEW_RETRIES.items():
        monkeypatch.setenv(name, value)
    with FaultProxy(tracking_server) as proxy:
        proxy.faults[ALIASES] = 503
        yield proxy


def test_a_failed_champion_read_is_an_error_not_a_promotion(champion_v1, tracking_server, aliases_fail, tmp_path):
    env = {**os.environ, "MLFLOW_TRACKING_URI": aliases_fail.url, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "mnist_mlops", "train", "--arch", "fast", "--epochs", "1", "--limit", "300",
               "--register", "--experiment", "faults"]  # fmt: skip
    done = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stderr[-3000:]
    assert "Traceback" not in done.stderr and aliases_fail.hits[ALIASES] >= 1
    said = done.stderr.strip().splitlines()[-1]  # MLflow's client reads the model before moving an alias too
    assert said.startswith(f"Error: version 2 of mnist-digits is undecided: the model registry at {aliases_fail.url} ")
    assert f"{ALIASES}?name=mnist-digits" in said and "too many 503 error responses" in said
    assert said.endswith("decide it later with `mnist-mlops registry promote 2`")

    client = mlflow.MlflowClient()  # the server itself, past the proxy
    assert registry.champion_version() == "1"
    assert client.get_model_version(registry.MODEL_NAME, "2").tags["promotion_decision"].startswith("undecided: ")
    runs = mlflow.search_runs(experiment_names=["faults"])
    assert "RUNNING" not in set(runs["status"])
    trained = runs[runs["tags.mlflow.runName"].str.startswith("fast")]
    assert trained["status"].tolist() == ["FAILED"] and "undecided" in trained["tags.error"].iloc[0]

    promotion = promote_version("2")  # decided later, once the registry answers
    assert not promotion.promoted and promotion.decision.startswith("not promoted: accuracy ")
    assert client.get_model_version(registry.MODEL_NAME, "2").tags["compared_with_version"] == "1"
    assert registry.champion_version() == "1"


def test_a_failed_promote_moves_nothing_and_says_so(champion_v1, tracking_server, aliases_fail):
    with through(aliases_fail, tracking_server):
        result = CliRunner().invoke(cli, ["registry", "promote", "1"])
    assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
    assert result.output.startswith(f"Error: the model registry at {aliases_fail.url} failed while ")
    assert f"{ALIASES}?name=mnist-digits" in result.output
    assert registry.champion_version() == "1"  # and its decision, the last one taken, stands
    tags = mlflow.MlflowClient().get_model_version(registry.MODEL_NAME, "1").tags
    assert tags["promotion_decision"] == "promoted: there was no champion"


def test_a_failed_alias_move_leaves_the_version_undecided(champion_v1, tracking_server, aliases_fail):
    aliases_fail.faults = {"/api/2.0/mlflow/registered-models/alias": 503}  # moving an alias; reads pass
    with through(aliases_fail, tracking_server):
        result = CliRunner().invoke(cli, ["registry", "promote", "2", "--force"])
    assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
    assert (
        result.output.startswith("Error: version 2 of mnist-digits is undecided: the model registry at ")
        and "failed while moving @champion to version 2: " in result.output
    )
    assert result.output.endswith("decide it later with `mnist-mlops registry promote 2`\n")
    assert registry.champion_version() == "1"
    version = mlflow.MlflowClient().get_model_version(registry.MODEL_NAME, "2")
    assert version.tags["promotion_decision"].startswith("undecided: the model registry at ")
    assert "undecided: the model registry at " in version.description
    assert promote_version("2").decision.startswith("not promoted: ")  # decided once the registry answers


def test_readers_fail_loudly_instead_of_showing_no_registry(champion_v1, tracking_server, aliases_fail):
    with through(aliases_fail, tracking_server):
        for read in (registry.aliases, registry.champion_version, registry_text.version_table, champion):
            with pytest.raises(MnistMlopsError, match="failed while reading the aliases of mnist-digits"):
                read()
        with pytest.raises(MnistMlopsError, match="failed while reading the aliases"):
            sources((), ())
        listed = CliRunner().invoke(cli, ["registry", "list"])
        assert listed.exit_code == 1 and "failed while reading the aliases" in listed.output
        assert "no versions of mnist-digits yet" not in listed.output


def test_only_a_missing_model_means_no_champion(tracking_store):
    assert registry.champion_version() is None and registry.aliases() == {}
    with pytest.raises(MnistMlopsError, match="mnist-digits has no version or alias '@champion'"):
        registry.resolve("@champion")
