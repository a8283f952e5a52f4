"""Promotions racing against one real tracking server (SQLite store): several `registry promote`
processes started together, a few rounds. The most accurate version always ends as champion, and every
version's decision agrees with where @champion went."""

import os
import subprocess
import sys

import mlflow
import pytest

from mnist_mlops import registry
from mnist_mlops.config import TuneConfig
from mnist_mlops.jobs.tune import run_search
from tests.conftest import REPO

ROUNDS = 3
LIMITS = (100, 300, 1000, 4000)  # version 1 (the champion each round starts from) to 4, ever more accurate


@pytest.fixture(scope="module")
def four_versions(tracking_server):
    """Versions 1-4 of mnist-digits: one-trial logistic regressions on ever more images."""
    for limit in LIMITS:
        run_search(TuneConfig(family="logreg", max_evals=1, limit=limit, quiet=True, experiment="race"))
    return {str(number): accuracy(str(number)) for number in range(1, len(LIMITS) + 1)}


def accuracy(version: str) -> float:
    return float(mlflow.MlflowClient().get_model_version(registry.MODEL_NAME, version).tags["test_accuracy"])


def race(versions: list[str], tracking_server: str, folder) -> list[subprocess.CompletedProcess]:
    """`mnist-mlops registry promote N` for every N at once; their finished processes."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_server, "PYTHONPATH": str(REPO)}
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "mnist_mlops", "registry", "promote", version],
            env=env,
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for version in versions
    ]
    return [subprocess.CompletedProcess(p.args, p.wait(timeout=600), *p.communicate()) for p in started]


def check_decisions_agree_with_aliases(contenders: list[str]) -> None:
    """@champion is reached from version 1 by promotions only, each over the champion it was compared
    with (so every version promoted this round is on that chain); every version not promoted was
    compared with a version of the chain and was not significantly better than it."""
    client = mlflow.MlflowClient()
    tags = {v: client.get_model_version(registry.MODEL_NAME, v).tags for v in contenders}
    chain, version = [], registry.champion_version()
    while version != "1":
        assert tags[version]["promotion_decision"].startswith("promoted: accuracy "), tags[version]
        chain.append(version)
        version = tags[version]["compared_with_version"]
    for version in set(contenders) - set(chain):
        said = tags[version]
        assert said["promotion_decision"].startswith("not promoted: accuracy "), said
        assert said["compared_with_version"] in {"1", *chain}
        assert float(said["test_accuracy_difference"]) <= 0 or float(said["mcnemar_p_value"]) >= 0.05, said


@pytest.mark.slow
def test_racing_promotions_end_with_the_most_accurate_as_champion(four_versions, tracking_server, tmp_path):
    best = max(four_versions, key=four_versions.get)
    contenders = [version for version in four_versions if version != "1"]
    client, redecided = mlflow.MlflowClient(), 0
    for _ in range(ROUNDS):
        client.set_registered_model_alias(registry.MODEL_NAME, registry.CHAMPION, "1")
        done = race(contenders, tracking_server, tmp_path)
        assert [result.returncode for result in done] == [0] * len(contenders), [r.stderr[-2000:] for r in done]
        redecided += sum(result.stderr.count("meanwhile: deciding again") for result in done)
        assert registry.champion_version() == best
        check_decisions_agree_with_aliases(contenders)
        assert [m.name for m in client.search_registered_models()] == [registry.MODEL_NAME]  # no lock left
    print(f"{ROUNDS} rounds of {len(contenders)} promotions at once: {redecided} decisions taken again")
