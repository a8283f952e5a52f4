"""The tune job on a small subset: nested trials, selection on validation, registry, failures, resume."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from mlflow import MlflowClient

from mnist_mlops import models, registry
from mnist_mlops.cli import cli
from mnist_mlops.config import TuneConfig, job_defaults
from mnist_mlops.data import load_mnist
from mnist_mlops.jobs.tune import run_search
from mnist_mlops.models import arithmetic
from mnist_mlops.train.fitting import fit

REPO = Path(__file__).resolve().parents[2]
SMALL = {"limit": 1000, "seed": 5, "quiet": True, "experiment": "test-tune"}


def children_of(parent_id: str):
    return mlflow.search_runs(experiment_names=["test-tune"], filter_string=f"tags.mlflow.parentRunId = '{parent_id}'")


@pytest.fixture(scope="module")
def knn_search(tmp_path_factory, temporary_store):
    with temporary_store(tmp_path_factory.mktemp("tune")):
        yield run_search(TuneConfig(family="knn", max_evals=4, **SMALL))


def test_one_parent_and_a_nested_child_per_trial(knn_search):
    parent = MlflowClient().get_run(knn_search.parent_run_id)
    children = children_of(knn_search.parent_run_id)
    assert parent.info.status == "FINISHED" and parent.data.tags["study"] == "knn-tpe"
    assert len(children) == 4 and (children["status"] == "FINISHED").all()
    assert sorted(children["tags.trial"].astype(int)) == [1, 2, 3, 4]
    assert children["metrics.val_accuracy"].notna().all() and "metrics.test_accuracy" not in children


def test_trial_1_is_the_default_configuration_and_tpe_starts_up_on_a_quarter(knn_search):
    trials = children_of(knn_search.parent_run_id).set_index("tags.trial")
    first = trials.loc["1"]
    assert (first["params.clf__n_neighbors"], first["params.clf__weights"]) == ("4", "distance")
    assert (first["params.clf__metric"], first["params.pca__n_components"]) == ("euclidean", "50")
    run = MlflowClient().get_run(knn_search.parent_run_id).data
    assert run.params["tpe_startup_trials"] == "3"  # max(3, 4 // 4)
    assert run.params["tpe_gamma"] == "0.5"
    assert run.metrics["default_val_accuracy"] == pytest.approx(first["metrics.val_accuracy"])


def test_the_search_is_never_worse_than_the_default_fitted_on_its_own(knn_search):
    """The default as `baseline --model knn` fits it, outside the search: the search's best on
    validation is at least as good (it fails if trial 1 is not the default and the search misses it)."""
    data = load_mnist(limit=SMALL["limit"], seed=SMALL["seed"])
    family = models.family("knn")
    default = fit(family, family.hyperparameters(job_defaults()), data, seed=SMALL["seed"])
    default_accuracy = float((default.predict_proba(data.val)[0].argmax(axis=1) == data.val.y).mean())
    run = MlflowClient().get_run(knn_search.parent_run_id).data
    assert run.metrics["default_val_accuracy"] == pytest.approx(default_accuracy)
    assert run.metrics["best_val_accuracy"] >= default_accuracy


def test_the_best_child_by_validation_is_reported(knn_search):
    children = children_of(knn_search.parent_run_id)
    best = children.loc[children["metrics.val_accuracy"].idxmax()]
    assert knn_search.best_value == pytest.approx(best["metrics.val_accuracy"])
    assert str(knn_search.best_params["clf__n_neighbors"]) == best["params.clf__n_neighbors"]
    metrics = MlflowClient().get_run(knn_search.parent_run_id).data.metrics
    assert metrics["best_val_accuracy"] == pytest.approx(best["metrics.val_accuracy"])
    assert metrics["val_accuracy"] == pytest.approx(best["metrics.val_accuracy"])  # the refit is the same model
    assert 0.5 < metrics["test_accuracy"] <= 1 and metrics["trials_finished"] == 4


def test_parent_artifacts(knn_search):
    names = {a.path for a in MlflowClient().list_artifacts(knn_search.parent_run_id)}
    expected = {
        "search_space.json",
        "trials.csv",
        "convergence.png",
        "hyperparameters.png",
        "best_params.json",
        "hyperopt_trials.pkl",
        "test_confusion_matrix.png",
    }
    assert expected <= names


def test_first_search_registers_the_champion(knn_search):
    client = MlflowClient()
    champion = client.get_model_version_by_alias(registry.MODEL_NAME, registry.CHAMPION)
    challenger = client.get_model_version_by_alias(registry.MODEL_NAME, registry.CHALLENGER)
    assert str(champion.version) == str(challenger.version) == knn_search.promotion.version == "1"
    assert champion.run_id == knn_search.parent_run_id
    assert float(champion.tags["test_accuracy"]) == pytest.approx(knn_search.metrics["test_accuracy"], abs=1e-6)
    assert champion.tags["promotion_decision"] == "promoted: there was no champion"


def test_the_promotion_rule_decides_on_paired_test_predictions(knn_search, small_mnist):
    client, test = MlflowClient(), small_mnist.test
    model_uri, source = f"models:/{registry.MODEL_NAME}/1", knn_search.parent_run_id
    metrics = {"test_accuracy": 0.5, "val_accuracy": 0.5}  # tags only: the rule reads the predictions
    champion = registry.predicted_digits("1", test.x)
    every_tenth_wrong = np.where(np.arange(len(test.y)) % 10 == 0, (test.y + 1) % 10, champion)
    worse = registry.register(model_uri, "knn", "knn-tuned", metrics, source, test, every_tenth_wrong)
    same = registry.register(model_uri, "knn", "knn-tuned", metrics, source, test, champion)
    better = registry.register(model_uri, "knn", "knn-tuned", metrics, source, test, test.y)
    assert (worse.promoted, same.promoted, better.promoted) == (False, False, True)
    tags = client.get_model_version(registry.MODEL_NAME, worse.version).tags
    assert tags["promotion_decision"].startswith("not promoted: accuracy") and tags["compared_with_version"] == "1"
    assert int(tags["only_champion_right"]) > 0 and float(tags["mcnemar_p_value"]) < 0.05
    assert float(tags["champion_test_accuracy"]) == pytest.approx(knn_search.metrics["test_accuracy"], abs=1e-6)
    assert client.get_model_version(registry.MODEL_NAME, same.version).tags["mcnemar_p_value"] == "1"
    assert str(client.get_model_version_by_alias(registry.MODEL_NAME, registry.CHAMPION).version) == better.version


def test_a_failing_trial_is_recorded_and_the_search_goes_on(tracking_store, monkeypatch):
    # More neighbours than the 900 training images: kNN raises for those trials (4 is the default).
    monkeypatch.setattr(models.family("knn"), "space", {"clf__n_neighbors": ("choice", [4, 5000])})
    result = run_search(TuneConfig(family="knn", algo="random", max_evals=6, study="failing", **SMALL))
    children = children_of(result.parent_run_id)
    failed = children[children["status"] == "FAILED"]
    assert len(children) == 6 and 0 < len(failed) < 6
    assert failed["tags.error"].str.contains("n_neighbors").all()
    assert (result.history["status"] == "fail").sum() == len(failed)
    assert result.best_params["clf__n_neighbors"] == 4


def test_pruning_stops_trials_that_cannot_learn(tracking_store, monkeypatch):
    # Log-uniform down to 1e-8: the default's 0.01 learns, almost every other rate cannot in 3 epochs.
    monkeypatch.setattr(models.family("fast"), "space", {"learning_rate": ("loguniform", 1e-8, 1e-2)})
    settings = {**SMALL, "limit": 3000}
    # Six trials: the pruner waits for three other curves at an epoch before it compares with their median.
    result = run_search(TuneConfig(family="fast", algo="random", max_evals=6, epochs=4, study="pruning", **settings))
    children = children_of(result.parent_run_id).set_index("tags.trial")
    pruned = children[children["tags.pruned"] == "true"]
    assert (children["status"] == "FINISHED").all() and len(pruned) >= 1 and "1" not in pruned.index
    for run_id, after in zip(pruned["run_id"], pruned["tags.pruned_after_epoch"], strict=True):
        steps = [m.step for m in MlflowClient().get_metric_history(run_id, "val_accuracy") if m.step >= 1]
        assert steps == list(range(1, int(after) + 1)) and 2 <= int(after) < 4  # stopped early, its curve kept
    assert MlflowClient().get_run(result.parent_run_id).data.metrics["trials_pruned"] == len(pruned)
    assert result.history.set_index("trial").loc[1, "pruned"] == False  # noqa: E712


@pytest.mark.parametrize(("family", "epochs"), [("knn", 3), ("fast", 1)])
def test_an_ensemble_of_the_best_trials_serves_the_mean_of_its_members(tracking_store, small_mnist, family, epochs):
    result = run_search(TuneConfig(family=family, max_evals=3, epochs=epochs, ensemble=2, study="ensemble", **SMALL))
    runs = mlflow.search_runs(experiment_names=["test-tune"])
    ensemble = runs[runs["tags.model_kind"] == "ensemble"].iloc[0]
    assert ensemble["tags.mlflow.parentRunId"] == result.parent_run_id and ensemble["status"] == "FINISHED"
    assert ensemble["tags.registered_version"] == result.ensemble.version == "2"
    ranked = result.history.sort_values("val_accuracy", ascending=False, kind="stable")["trial"].head(2)
    assert ensemble["params.trials"] == ",".join(map(str, ranked))  # the two best on validation
    assert ensemble["params.seeds"] == "5,6"  # each member its own seed
    search_run = mlflow.get_run(result.parent_run_id).data  # a network's: how its trials' arithmetic was chosen
    chosen = arithmetic.choose() if family == "fast" else None
    assert search_run.params.get("precision_chosen_by") == (chosen and chosen.chosen_by)
    rows = small_mnist.test.x[:200]
    logged = mlflow.pyfunc.load_model(f"runs:/{ensemble['run_id']}/{family}-ensemble-2").get_raw_model()  # named so
    if family == "knn":
        members = [estimator.predict_proba(rows) for estimator in logged.estimators]
    else:
        members = [logged.get_layer(f"member_{n}").predict(rows, verbose=0) for n in (1, 2)]
    served = registry.load(result.ensemble.version).predict(pd.DataFrame(rows))
    np.testing.assert_allclose(np.array(served["probabilities"].tolist()), np.mean(members, axis=0), atol=1e-6)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--family", "svm"], "Invalid value for '--family'"),
        (["--algo", "anneal"], "Invalid value for '--algo'"),
        (["--max-evals", "0"], "0 is not in the range x>=1"),
        (["--metric", "test_accuracy"], "selects by validation metrics, never by test"),
        (["--metric", "val_auc"], "--metric val_auc: fast trials log val_accuracy"),
        (["--resume", "--study", "nothing-here"], "no search named 'nothing-here'"),
        (["--backend", "hadoop"], "Invalid value for '--backend'"),
        (["--parallelism", "0"], "0 is not in the range x>=1"),
        (["--parallelism", "2"], "--parallelism above 1 and --spark-master need --backend spark"),
        (["--backend", "spark", "--spark-master", "spark://127.0.0.1:9"], "cannot reach the Spark master"),
    ],
)
def test_bad_input_fails_before_any_trial(tracking_store, args, message):
    result = CliRunner().invoke(cli, ["tune", "--limit", "1000", *args])
    assert result.exit_code != 0 and message in result.output
    runs = mlflow.search_runs(search_all_experiments=True)
    assert runs.empty or not (runs["status"] == "RUNNING").any()


def test_missing_java_fails_before_any_run(tracking_store, monkeypatch, tmp_path):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))  # a JDK folder without bin/java
    result = CliRunner().invoke(cli, ["tune", "--limit", "1000", "--backend", "spark", "--parallelism", "2"])
    assert result.exit_code == 1 and "needs Java 17 or newer and found none" in result.output
    assert mlflow.search_runs(search_all_experiments=True).empty


@pytest.mark.slow
def test_resume_after_killing_the_search(tracking_store):
    arguments = [
        "tune",
        "--family",
        "knn",
        "--limit",
        "3000",
        "--max-evals",
        "6",
        "--study",
        "resumable",
        "--quiet",
        "--experiment",
        "test-tune",
    ]
    command = [sys.executable, "-m", "mnist_mlops", *arguments]
    assert mlflow.search_runs(search_all_experiments=True).empty  # creates the store before the child uses it
    process = subprocess.Popen(
        command,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        runs = mlflow.search_runs(search_all_experiments=True)
        if "tags.trial" in runs and ((runs["status"] == "FINISHED") & runs["tags.trial"].notna()).sum() >= 2:
            break
        time.sleep(0.3)
    assert process.poll() is None, "the search ended before it could be killed: " + process.stderr.read()[-2000:]
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    parent_id = mlflow.search_runs(search_all_experiments=True, filter_string="tags.study = 'resumable'")[
        "run_id"
    ].item()
    result = CliRunner().invoke(cli, [*arguments, "--resume"])
    assert result.exit_code == 0, result.output
    runs = mlflow.search_runs(search_all_experiments=True)
    children = runs[runs["tags.mlflow.parentRunId"] == parent_id]
    lost = children["tags.lost"].eq("true") if "tags.lost" in children else children["status"].isna()
    counted = children[~lost]  # the trial killed mid-way, if it had started its run, is tagged lost and KILLED
    assert (counted["status"] == "FINISHED").all() and sorted(counted["tags.trial"].astype(int)) == [1, 2, 3, 4, 5, 6]
    default = (counted["params.clf__n_neighbors"] == "4") & (counted["params.clf__weights"] == "distance")
    default &= (counted["params.clf__metric"] == "euclidean") & (counted["params.pca__n_components"] == "50")
    assert counted[default]["tags.trial"].tolist() == ["1"]  # the resumed search did not run the default again
    assert not (runs["status"] == "RUNNING").any()
    assert runs.set_index("run_id").loc[parent_id, "status"] == "FINISHED"
