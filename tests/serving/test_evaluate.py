"""MLflow's own evaluator on registered versions: the same test accuracy as the project's."""

import os
import subprocess
import sys

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient

from mnist_mlops.registry import MODEL_NAME


@pytest.fixture(scope="module")
def versions(registered_store, temporary_store):
    """The shared store's two versions: a kNN and a network."""
    with temporary_store(registered_store):
        yield MlflowClient().search_model_versions(f"name = '{MODEL_NAME}'")


def test_mlflow_evaluate_gives_every_version_its_registered_test_accuracy(versions, small_mnist):
    test = small_mnist.test
    data = pd.DataFrame(test.x, columns=[f"pixel{i}" for i in range(784)]).assign(label=test.y)
    assert len(versions) == 2
    mlflow.set_experiment("evaluate")
    for version in versions:
        with mlflow.start_run(run_name=f"evaluate version {version.version}"):
            result = mlflow.models.evaluate(
                f"models:/{MODEL_NAME}/{version.version}", data, targets="label", model_type="classifier",
                model_config={"output": "digit"},  # one digit per row, as the classifier evaluator expects
            )  # fmt: skip
        assert result.metrics["accuracy_score"] == pytest.approx(float(version.tags["test_accuracy"]), abs=1e-6)


def test_loading_a_network_version_imports_no_tensorflow_and_prints_nothing(versions):
    """The LiteRT flatbuffer logged with the model is all it needs (checked in a fresh process)."""
    network = next(v for v in versions if v.tags["model_family"] == "fast")
    code = (
        "import sys, mlflow, numpy as np; "
        f"model = mlflow.pyfunc.load_model('models:/{MODEL_NAME}/{network.version}'); "
        "model.predict(np.zeros((2, 784), np.float32)); print('tensorflow' in sys.modules)"
    )
    env = {**os.environ, "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}  # MLflow's own download bar
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False" and done.stderr == ""
