"""A real standalone Spark cluster on 127.0.0.1, started by `mnist-mlops spark-cluster` (a master and
two workers, each its own JVM): a search and batch scoring run on it, Ctrl-C stops it whole."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import requests

from mnist_mlops.config import TuneConfig
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.jobs.score import run_scoring
from mnist_mlops.jobs.tune import run_search
from mnist_mlops.scoring.config import ScoreConfig
from tests.conftest import REPO, photo_png, registered_copy, still_running, terminal_signals, tree_of

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """`mnist-mlops spark-cluster --workers 2 --cores 1`: its master URL and web UI; stopped with Ctrl-C,
    after which none of its processes is left."""
    command = [sys.executable, "-m", "mnist_mlops", "spark-cluster", "--workers", "2", "--cores", "1"]
    process = subprocess.Popen(command, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True,
                               preexec_fn=terminal_signals)  # fmt: skip
    said = process.stdout.readline()
    found = re.match(r"--spark-master (spark://\S+) .*web UI (http://\S+)\)", said)
    assert found, said + process.stderr.read()[-3000:]
    tree = tree_of(process)
    assert len(tree) >= 4  # the command, the master and two workers, each a JVM
    yield found.group(1), found.group(2)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) != 0
    assert not still_running(tree)


@pytest.fixture(scope="module")
def store(registered_store, tmp_path_factory, temporary_store):
    """A copy of the registered store, entered for the module."""
    with temporary_store(folder := registered_copy(registered_store, tmp_path_factory, "cluster")):
        yield folder


@pytest.fixture(scope="module")
def inputs(store, small_mnist) -> Path:
    """200 test digits as pixels.parquet (0-255, an id), images.parquet (140x140 PNG bytes, an id; row
    3 is not an image) and files/ (the same PNGs, one file each)."""
    folder = store / "inputs"
    (folder / "files").mkdir(parents=True)
    pixels = pd.DataFrame((small_mnist.test.x[:200] * 255).round().astype(np.uint8), columns=list(map(str, range(784))))
    pixels.insert(0, "id", range(200))
    pixels.to_parquet(folder / "pixels.parquet")
    encoded = [photo_png(image) for image in small_mnist.test.images[:200, ..., 0]]
    encoded[3] = b"not an image"
    pd.DataFrame({"id": range(200), "image": encoded}).to_parquet(folder / "images.parquet")
    for number, image in enumerate(encoded):
        (folder / "files" / f"{number:03d}.png").write_bytes(image)
    return folder


def scored(path: Path, **options) -> pd.DataFrame:
    """Score path with the options; the answers in key order, keyed by id."""
    output = path.with_name(f"{path.stem}-{options.get('backend', 'local')}-{len(list(path.parent.iterdir()))}")
    run_scoring(ScoreConfig(input=str(path), output=str(output), quiet=True, **options))
    answers = pd.read_parquet(output)
    if "file" in answers:  # 000.png is id 0
        answers = answers.assign(file=answers["file"].str[:3].astype(int)).rename(columns={"file": "id"})
    return answers.sort_values("id").reset_index(drop=True)


def assert_same(answers: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same keys, digits, numbers and refusals; the same probabilities where there are any."""
    pd.testing.assert_frame_equal(answers.drop(columns="probabilities"), expected.drop(columns="probabilities"))
    read = expected["refused"] == ""
    assert np.allclose(np.stack(answers["probabilities"][read]), np.stack(expected["probabilities"][read]))


def test_both_workers_joined_the_master(cluster):
    _, ui = cluster
    workers = requests.get(f"{ui}/json/", timeout=10).json()["workers"]
    assert [worker["state"] for worker in workers] == ["ALIVE", "ALIVE"] and [w["cores"] for w in workers] == [1, 1]


def test_scoring_on_the_cluster_and_on_local_spark_answers_as_locally(cluster, inputs):
    master, ui = cluster
    for name in ("pixels.parquet", "images.parquet"):
        assert_same(scored(inputs / name, key="id", backend="spark", spark_master=master),
                    scored(inputs / name, key="id"))  # fmt: skip
    local = scored(inputs / "files")
    assert_same(scored(inputs / "files", backend="spark", spark_master="local[2]"), local)
    assert local.loc[3, "refused"] == "the bytes are not an image (PNG, JPEG, WebP, GIF, TIFF or BMP)"
    assert (local["refused"] != "").sum() == 1
    apps = requests.get(f"{ui}/json/", timeout=10).json()["completedapps"]
    assert "mnist-mlops score" in [app["name"] for app in apps]  # it ran on the cluster's executors


def test_a_search_runs_its_trials_on_the_cluster(cluster, store):
    master, ui = cluster
    result = run_search(TuneConfig(family="knn", max_evals=4, limit=2000, backend="spark", parallelism=2,
                                   spark_master=master, quiet=True, experiment="on-cluster"))  # fmt: skip
    children = mlflow.search_runs(experiment_names=["on-cluster"],
                                  filter_string=f"tags.mlflow.parentRunId = '{result.parent_run_id}'")  # fmt: skip
    assert len(children) == 4 and (children["status"] == "FINISHED").all()
    assert children["metrics.val_accuracy"].notna().all()
    apps = requests.get(f"{ui}/json/", timeout=10).json()["completedapps"]
    assert "mnist-mlops tune" in [app["name"] for app in apps]


def test_an_unreachable_master_is_refused_before_a_run(store, inputs):
    before = len(mlflow.search_runs(search_all_experiments=True))
    with pytest.raises(MnistMlopsError, match="cannot reach the Spark master spark://127.0.0.1:9"):
        scored(inputs / "images.parquet", key="id", backend="spark", spark_master="spark://127.0.0.1:9")
    assert len(mlflow.search_runs(search_all_experiments=True)) == before
