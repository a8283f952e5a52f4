"""Shared fixtures: the offline MNIST folder, a temporary MLflow store, a small data set."""

import os
from pathlib import Path

import mlflow
import pytest

from mnist_mlops.data import load_mnist

REPO = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"
# Nothing listens on the discard port: an accidental download fails at once instead of going online.
UNREACHABLE_MIRROR = "http://127.0.0.1:9/"


@pytest.fixture(scope="session", autouse=True)
def offline_data() -> Path:
    """Point every test at the checksum-verified files in ../shared and forbid downloads."""
    data_dir = Path(os.environ.get("MNIST_DATA_DIR") or SHARED_MNIST)
    if not (data_dir / "train-images-idx3-ubyte.gz").exists():
        pytest.exit(f"MNIST files not found in {data_dir}: set MNIST_DATA_DIR", returncode=2)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MNIST_DATA_DIR", str(data_dir))
        patch.setenv("MNIST_MIRRORS", UNREACHABLE_MIRROR)
        yield data_dir


MLFLOW_STATE_VARIABLES = ("MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID")


def clear_mlflow_state_variables() -> None:
    """Remove what mlflow.set_experiment() or `mlflow run` leave in os.environ for the next test."""
    for name in MLFLOW_STATE_VARIABLES:
        os.environ.pop(name, None)


@pytest.fixture(autouse=True)
def isolated_mlflow_environment():
    """Start and leave every test with no experiment or run chosen through the environment."""
    clear_mlflow_state_variables()
    yield
    clear_mlflow_state_variables()


@pytest.fixture
def tracking_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test in a temporary folder whose SQLite file is the MLflow store; return its URI."""
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    yield uri
    while mlflow.active_run():
        mlflow.end_run()


@pytest.fixture(scope="session")
def small_mnist():
    """1,000 stratified training images (900 train, 100 validation) and the full test set."""
    return load_mnist(limit=1000, seed=7)
