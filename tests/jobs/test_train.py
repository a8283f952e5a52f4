"""The train job on a small subset: per-epoch metrics, artifacts, the logged model, repeatability."""

import json

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from sklearn.metrics import log_loss

from mnist_mlops.config import TrainConfig
from mnist_mlops.jobs.train import run_training
from mnist_mlops.models import arithmetic

# The job's contract (curves, artifacts, params, the logged model) on a sequential and a convolutional
# network; every architecture's own (input, output, size, saved and converted alike) is tested at
# model level in tests/models/test_architectures.py.
JOB_LEVEL = ("mlp", "cnn")
QUICK = {
    "limit": 1000,
    "epochs": 2,
    "seed": 3,
    "quiet": True,
    "experiment": "test-train",
    "batch_size": 64,
    "augment": False,
}
ARTIFACTS = {
    "training_curves.png",
    "test_confusion_matrix.png",
    "test_confusion_matrix.csv",
    "test_per_class_metrics.csv",
    "test_misclassified.png",
    "test_predictions.png",
}


@pytest.fixture(scope="module", params=JOB_LEVEL)
def trained(request, tmp_path_factory, temporary_store):
    """Train each of JOB_LEVEL once for the module, into its own store."""
    with temporary_store(tmp_path_factory.mktemp(request.param)):
        yield run_training(TrainConfig(arch=request.param, filters=(8, 16), hidden=(64,), **QUICK))


def test_metrics_at_every_epoch_step(trained):
    client = MlflowClient()
    for name in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "learning_rate"):
        steps = [m.step for m in client.get_metric_history(trained.run_id, name) if m.step <= 2]
        assert steps == [1, 2], name
    final = client.get_run(trained.run_id).data.metrics
    assert final["epochs_run"] == 2 and final["best_epoch"] in (1, 2)
    assert final["parameters"] == trained.model.count_params() and final["mflops"] > 0
    # 2 epochs on 900 images, far from converged, but well above chance (10%) and its log loss (2.30)
    assert 0.5 < final["test_accuracy"] <= 1 and 0 < final["test_log_loss"] < 2.0
    assert final["val_accuracy"] == pytest.approx(trained.metrics["val_accuracy"])


def test_kept_model_metrics_are_the_step_after_the_last_epoch(trained):
    history = MlflowClient().get_metric_history(trained.run_id, "val_accuracy")
    assert [m.step for m in history] == [1, 2, 3]
    assert history[-1].value == pytest.approx(trained.metrics["val_accuracy"])


def test_every_artifact_and_the_whole_config(trained):
    client = MlflowClient()
    assert {a.path for a in client.list_artifacts(trained.run_id)} >= ARTIFACTS
    params = client.get_run(trained.run_id).data.params
    chosen = arithmetic.choose()  # precision auto (the recipe's): how it was chosen is logged too
    assert set(params) == set(TrainConfig.__dataclass_fields__) | set(chosen.params())
    assert params["filters"] == "8,16" and params["hidden"] == "64" and params["epochs"] == "2"
    assert params["precision"] in ("float32", "mixed_bfloat16") and params["optimizer"] == "adam"  # as trained


def test_reloaded_pyfunc_predicts_like_the_trained_model(trained, small_mnist):
    rows = small_mnist.test.x[:300]
    in_process = trained.model.predict(rows, verbose=0)
    reloaded = mlflow.pyfunc.load_model(trained.model_uri)
    from_frame = np.asarray(reloaded.predict(pd.DataFrame(rows)))
    assert from_frame.shape == (300, 10)
    np.testing.assert_allclose(from_frame, in_process, atol=1e-6)
    np.testing.assert_allclose(np.asarray(reloaded.predict(rows)), in_process, atol=1e-6)


def test_same_seed_same_result(tracking_store):
    """Two runs with one seed agree to 1e-6 in validation loss on this CPU (TensorFlow ops are
    deterministic here for a fixed thread count); a different seed does not."""
    config = TrainConfig(arch="mlp", hidden=(32,), limit=500, epochs=1, seed=11, quiet=True, experiment="repeat")
    first, second = run_training(config).metrics, run_training(config).metrics
    assert first["val_log_loss"] == pytest.approx(second["val_log_loss"], abs=1e-6)
    other = run_training(TrainConfig(**{**config.__dict__, "seed": 12})).metrics
    assert other["val_log_loss"] != pytest.approx(first["val_log_loss"], abs=1e-6)


def test_calibrate_logs_and_serves_the_calibrated_model(tracking_store, small_mnist):
    """Label smoothing leaves a network under-confident; the fitted temperature sharpens it, and the
    run's logged model and the registered version are the calibrated network, not the raw one."""
    config = TrainConfig(arch="mlp", hidden=(64,), label_smoothing=0.3, calibrate=True, register=True, **QUICK)
    result = run_training(config)
    run = mlflow.get_run(result.run_id).data.metrics
    assert run["temperature"] < 1
    assert run["val_log_loss"] < run["val_uncalibrated_log_loss"] and run["val_ece"] < run["val_uncalibrated_ece"]
    test = small_mnist.test
    logged = np.asarray(mlflow.pyfunc.load_model(result.model_uri).predict(test.x), dtype=np.float64)
    assert log_loss(test.y, logged / logged.sum(axis=1, keepdims=True), labels=range(10)) == pytest.approx(
        run["test_log_loss"], abs=1e-4
    )
    assert run["test_log_loss"] < run["test_uncalibrated_log_loss"] - 0.05
    served = mlflow.pyfunc.load_model("models:/mnist-digits@champion").predict(pd.DataFrame(test.x[:200]))
    np.testing.assert_allclose(np.stack(served["probabilities"]), logged[:200], atol=1e-5)


@pytest.mark.parametrize("on", [True, False])
def test_system_metrics_are_logged_unless_turned_off(on, tracking_store, monkeypatch):
    monkeypatch.setenv("MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL", "1")  # MLflow samples every 10 s by default
    config = TrainConfig(arch="fast", limit=3000, epochs=2, quiet=True, system_metrics=on, experiment="system")
    metrics = mlflow.get_run(run_training(config).run_id).data.metrics
    assert ("system/cpu_utilization_percentage" in metrics) == on
    assert ("system/system_memory_usage_megabytes" in metrics) == on


def test_members_train_on_nested_runs_with_their_own_seeds_and_serve_averaged(tracking_store, small_mnist):
    result = run_training(TrainConfig(arch="mlp", hidden=(64,), members=2, **QUICK))
    nested = mlflow.search_runs(filter_string=f"tags.mlflow.parentRunId = '{result.run_id}'", output_format="list")
    assert sorted((run.data.tags["model_kind"], run.data.params["seed"]) for run in nested) == [
        ("member", "3"),
        ("member", "4"),
    ]
    for run in nested:  # each member's own epoch curve
        assert len(MlflowClient().get_metric_history(run.info.run_id, "val_accuracy")) == 2
    rows = small_mnist.test.x[:200]
    members = [result.model.get_layer(f"member_{n}").predict(rows, verbose=0) for n in (1, 2)]
    assert not np.allclose(members[0], members[1], atol=1e-3)  # two seeds, two networks
    served = mlflow.pyfunc.load_model(result.model_uri).predict(rows)
    np.testing.assert_allclose(np.asarray(served), np.mean(members, axis=0), atol=1e-6)
    leaderboard = mlflow.load_table("leaderboard.json", run_ids=[result.run_id])  # on the train run's row
    assert leaderboard["model"].tolist() == ["mlp-seed-3", "mlp-seed-4", "mlp-x2"]
    assert leaderboard["val_accuracy"].iloc[-1] == pytest.approx(result.metrics["val_accuracy"])


def test_the_run_logs_the_arithmetic_auto_chose_and_the_two_step_times(tracking_store, tmp_path, monkeypatch):
    """A cache in the user's cache ($XDG_CACHE_HOME) that measured float32 faster on this CPU: auto
    trains in float32 even where the CPU has bfloat16 instructions, and the run says why; a run that
    asks for float32 says so, with no step times."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    cpu, speeds = arithmetic.this_cpu(), {"float32": 0.031, "mixed_bfloat16": 0.047}
    entry = {
        "step_seconds": speeds,
        "measured_at": "2026-12-01T10:00:00+00:00",
        "tensorflow": arithmetic.tensorflow_version(),
    }
    (tmp_path / "cache" / "mnist-mlops").mkdir(parents=True)
    (tmp_path / "cache" / "mnist-mlops" / "precision.json").write_text(json.dumps({cpu.key: entry}))
    config = TrainConfig(arch="fast", limit=500, epochs=1, quiet=True, experiment="arithmetic")
    run = mlflow.get_run(run_training(config).run_id).data
    assert run.params["precision"] == "float32" and run.params["cpu_model"] == cpu.model
    assert run.params["cpu_bfloat16"] == (",".join(cpu.bfloat16) or "none")
    if cpu.bfloat16:
        assert run.params["precision_chosen_by"] == "measured speed"
        assert run.params["precision_measured_at"] == "2026-12-01T10:00:00+00:00"
        assert {p: run.metrics[f"{p}_step_seconds"] for p in speeds} == speeds
    else:
        assert run.params["precision_chosen_by"] == "no bfloat16 instructions"
    asked = mlflow.get_run(run_training(TrainConfig(**{**config.__dict__, "precision": "mixed_bfloat16"})).run_id).data
    assert asked.params["precision"] == "mixed_bfloat16" and asked.params["precision_chosen_by"] == "asked"
    assert "float32_step_seconds" not in asked.metrics and "precision_measured_at" not in asked.params
