"""The inference log: `mlflow models serve`, `score` and a model loaded in process record every answer
into Parquet when $MNIST_MLOPS_INFERENCE_LOG names a folder, write it on SIGTERM and every few seconds,
and a folder that cannot be written stops the server at start."""

import base64
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import cv2
import mlflow
import numpy as np
import pandas as pd
import pytest
import requests

from mnist_mlops import registry
from mnist_mlops.jobs.score import run_scoring
from mnist_mlops.scoring.config import ScoreConfig
from mnist_mlops.serving import inference_log
from mnist_mlops.serving.inference_log import VARIABLE, Answered, InferenceLog, read_log
from mnist_mlops.serving.model import load_served
from tests.conftest import REPO, photo_png, registered_copy
from tests.serving.test_http import serve_champion

CHAMPION = "models:/mnist-digits@champion"


@pytest.fixture(scope="module")
def store(registered_store, tmp_path_factory, temporary_store):
    """A copy of the registered store, entered for the module: version 1, the champion, is a kNN."""
    with temporary_store(folder := registered_copy(registered_store, tmp_path_factory, "inference-log")):
        yield folder


def logged(folder: Path) -> pd.DataFrame:
    """Every record of a log folder, and no file left half-written."""
    assert not list(folder.rglob(".*.partial"))
    return read_log(folder).to_pandas()


def seen_pixels(answer: dict) -> list[bytes]:
    """The 28x28 images an answer with show=true says the model saw, as the log keeps them."""
    images = [cv2.imdecode(np.frombuffer(base64.b64decode(d["seen"]), np.uint8), cv2.IMREAD_GRAYSCALE)
              for d in answer["digits"]]  # fmt: skip
    return [image.tobytes() for image in images]


@pytest.mark.slow
def test_a_served_model_records_every_answer_and_writes_them_on_sigterm(store, small_mnist, servers, tmp_path):
    log_folder = tmp_path / "log"
    env = {**os.environ, VARIABLE: str(log_folder)}
    process, url = serve_champion(servers, env, tmp_path)
    asked = {}
    try:
        for row in small_mnist.test.x[:20]:
            answer = requests.post(url, json={"inputs": [row.tolist()]}, timeout=60).json()["predictions"][0]
            asked[answer["request_id"]] = answer
        images = [base64.b64encode(photo_png(image)).decode() for image in small_mnist.test.images[:2, ..., 0]]
        blank = base64.b64encode(photo_png(np.zeros((28, 28), np.float32))).decode()
        body = {"dataframe_split": {"columns": ["image"], "data": [[images[0]], [blank], [images[1]]]},
                "params": {"show": True, "answer_refused": True}}  # fmt: skip
        answers = requests.post(url, json=body, timeout=60).json()["predictions"]
        refused = requests.post(url, json={"inputs": [[0.5] * 783]}, timeout=60)
        assert refused.status_code == 400
        time.sleep(0.5)
    finally:
        servers.stop(process)  # SIGTERM, sooner than the log's own writing
    records = logged(log_folder)
    model_id = mlflow.models.get_model_info(f"models:/{registry.MODEL_NAME}/1").model_id
    assert set(records["model_version"]) == {"1"} and set(records["model_id"]) == {model_id}
    assert len(records) == 20 + 3 + 1 and (records["latency_ms"] > 0).all()

    pixels = records[(records["input_kind"] == "pixels") & records["row"].notna()].set_index("request_id")
    assert sorted(pixels.index) == sorted(asked)
    for request_id, answer in asked.items():
        assert pixels.loc[request_id, "digit"] == answer["digit"]
        assert np.allclose(pixels.loc[request_id, "probabilities"][0], answer["probabilities"], atol=1e-5)

    photos = records[records["request_id"] == answers[0]["request_id"]].sort_values("row")
    assert list(photos["row"]) == [0, 1, 2] and list(photos["input_kind"]) == ["image"] * 3
    assert list(photos["number"]) == [answers[0]["number"], "", answers[2]["number"]]
    assert photos["refused"].iloc[1] == answers[1]["refused"] and photos["refused"].iloc[1].startswith("no digit")
    assert list(photos["seen"].iloc[0]) == seen_pixels(answers[0]) and len(photos["seen"].iloc[1]) == 0

    whole = records[records["row"].isna()]
    assert len(whole) == 1 and "got shape (1, 783)" in whole["refused"].iloc[0] and whole["digit"].iloc[0] == -1


@pytest.mark.slow
def test_a_log_folder_that_cannot_be_written_stops_the_server_at_start(store, servers, tmp_path):
    (tmp_path / "a-file").write_text("")
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", CHAMPION, "--env-manager", "local",
               "--host", "127.0.0.1", "--port", str(servers.free_port()), "--workers", "1"]  # fmt: skip
    env = {**os.environ, VARIABLE: str(tmp_path / "a-file" / "log"), "PYTHONPATH": str(REPO),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}  # fmt: skip
    done = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert f"${VARIABLE}={tmp_path / 'a-file' / 'log'}: the inference log cannot be written there" in done.stderr


def test_score_worker_processes_record_every_row_in_files_of_their_own(store, small_mnist, monkeypatch, tmp_path):
    monkeypatch.setenv(VARIABLE, str(tmp_path / "log"))
    images = [photo_png(image) for image in small_mnist.test.images[:30, ..., 0]]
    pd.DataFrame({"key": range(30), "image": images}).to_parquet(tmp_path / "images.parquet")
    output = tmp_path / "answers.parquet"
    run_scoring(ScoreConfig(input=str(tmp_path / "images.parquet"), output=str(output), workers=2, quiet=True))
    records, answers = logged(tmp_path / "log"), pd.read_parquet(output)
    assert len(records) == 30 and sorted(records["number"]) == sorted(answers["number"])
    # Written by the workers as they ended (files named host-pid-...), none by this process.
    writers = {int(path.name.rsplit("-", 3)[1]) for path in (tmp_path / "log").rglob("*.parquet")}
    assert writers and os.getpid() not in writers


@pytest.mark.slow
def test_score_on_spark_records_every_row_though_spark_ends_its_workers(store, small_mnist, monkeypatch, tmp_path):
    monkeypatch.setenv(VARIABLE, str(tmp_path / "log"))
    pixels = pd.DataFrame(small_mnist.test.x[:200], columns=[f"pixel{i}" for i in range(784)])
    pixels.insert(0, "key", range(200))
    pixels.to_parquet(tmp_path / "pixels.parquet")
    output = tmp_path / "answers"
    run_scoring(ScoreConfig(input=str(tmp_path / "pixels.parquet"), output=str(output), backend="spark",
                            spark_master="local[2]", quiet=True))  # fmt: skip
    records, answers = logged(tmp_path / "log"), pd.read_parquet(output)
    assert len(records) == 200 and set(records["model_version"]) == {"1"}
    assert sorted(records["digit"]) == sorted(answers["digit"])


def test_records_are_written_every_few_seconds_without_a_stop(store, small_mnist, monkeypatch, tmp_path):
    monkeypatch.setenv(VARIABLE, str(tmp_path / "log"))
    monkeypatch.setattr(inference_log, "FLUSH_SECONDS", 0.2)
    answers = load_served(CHAMPION).predict(pd.DataFrame(small_mnist.test.x[:5]))
    deadline = time.monotonic() + 10
    while not list((tmp_path / "log").rglob("*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.1)
    records = logged(tmp_path / "log")
    assert list(records["request_id"]) == list(answers["request_id"]) and list(records["row"]) == list(range(5))
    assert list(records["digit"]) == list(answers["digit"])


def test_unset_nothing_is_recorded(store, small_mnist, monkeypatch, tmp_path):
    monkeypatch.delenv(VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)
    answers = load_served(CHAMPION).predict(pd.DataFrame(small_mnist.test.x[:5]))
    assert list(answers.columns) == ["digit", "probabilities"] and not list(tmp_path.iterdir())


def pixel_request(at: float, digits: list[int]) -> Answered:
    """A request of pixel rows answered with these digits."""
    proba = np.eye(10)[digits]
    return Answered(at, uuid.uuid4().hex, "1", "m-1", "pixels", 1.0, proba, np.ones(len(digits), np.int64), None, None)


def test_a_writers_files_are_merged_and_each_record_is_read_once(monkeypatch, tmp_path):
    monkeypatch.setattr(inference_log, "MERGE_FILES", 4)
    log = InferenceLog(tmp_path)
    log.start()
    now = time.time()
    for flush in range(10):  # 10 files: two merges of 4, and 2 files not merged yet
        log.write([pixel_request(now + flush, [flush % 10, 3])])
    names = sorted(path.name.split("-", 3)[-1] for path in tmp_path.rglob("*.parquet"))
    assert names == ["000001-000004.parquet", "000005-000008.parquet", "000009.parquet", "000010.parquet"]
    records = logged(tmp_path)
    firsts = records[records["row"] == 0].sort_values("time")["digit"]
    assert len(records) == 20 and list(firsts) == [i % 10 for i in range(10)]


def test_files_a_merged_file_holds_are_skipped_if_they_outlive_it(monkeypatch, tmp_path):
    monkeypatch.setattr(inference_log, "MERGE_FILES", 3)
    log = InferenceLog(tmp_path)
    log.start()
    for flush in range(3):
        log.write([pixel_request(time.time(), [flush])])
        if flush == 1:  # a copy of the first two files, as a writer stopped between its rename and removals leaves them
            kept = {path: path.read_bytes() for path in tmp_path.rglob("*.parquet")}
    for path, data in kept.items():
        path.write_bytes(data)
    assert len(list(tmp_path.rglob("*.parquet"))) == 3 and sorted(logged(tmp_path)["digit"]) == [0, 1, 2]
