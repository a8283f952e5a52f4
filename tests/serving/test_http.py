"""Real processes on 127.0.0.1: a tracking server, training and registration against it, and
`mlflow models serve` of the champion answering every accepted format and refusing bad requests."""

import base64
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import mlflow
import numpy as np
import pandas as pd
import pytest
import requests
from PIL import Image

from bench.formats import REFUSALS, refused_pictures
from mnist_mlops import registry
from mnist_mlops.config import TrainConfig, TuneConfig
from mnist_mlops.evaluate.paper import PAPERS, encode, number_ink, on_kind, on_paper, photograph, white
from mnist_mlops.jobs.registry import promote_version
from mnist_mlops.jobs.train import run_training
from mnist_mlops.jobs.tune import run_search

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def png_of(image: Image.Image) -> str:
    """An image as base64 PNG."""
    stream = io.BytesIO()
    image.save(stream, format="PNG")
    return base64.b64encode(stream.getvalue()).decode()


BLANK_64, WHITE_1X1, GREY_64 = (png_of(Image.new("L", size, shade)) for size, shade in
                                (((64, 64), 255), ((1, 1), 255), ((64, 64), 128)))  # fmt: skip


def empty_sheet(kind: str) -> str:
    """A photographed sheet of a kind of paper with nothing written on it, as base64 PNG; an empty
    form box is a printed 60x90 rectangle."""
    rng, blank = np.random.default_rng(0), np.zeros((160, 160), np.float32)
    if kind == "form_box":
        box = cv2.rectangle(blank.copy(), (50, 35), (110, 125), 1.0, 2)
        sheet = on_paper(box, white(box.shape), np.array([0.2, 0.2, 0.2]))
    else:
        sheet = PAPERS[kind](blank, rng)
    return base64.b64encode(encode(photograph(sheet, rng))).decode()


@pytest.fixture(scope="module")
def sklearn_champion(tracking_server):
    """A small kNN search against the server: its best is registered and becomes the champion."""
    return run_search(TuneConfig(family="knn", max_evals=2, limit=2000, quiet=True, experiment="serving"))


def serve_champion(servers, env: dict, cwd: Path) -> tuple[subprocess.Popen, str]:
    """Start `mlflow models serve` of models:/mnist-digits@champion on a free port."""
    port = servers.free_port()
    model = "models:/mnist-digits@champion"
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", model, "--env-manager", "local",
               "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]  # fmt: skip
    process = servers.start(command, f"http://127.0.0.1:{port}/ping", {**env, "PYTHONPATH": str(REPO)}, cwd)
    return process, f"http://127.0.0.1:{port}/invocations"


@pytest.fixture(scope="module")
def model_server(sklearn_champion, tracking_server, tmp_path_factory, servers):
    """The kNN champion served on a free port for the module's tests, which only send it requests;
    yield its /invocations URL."""
    folder = tmp_path_factory.mktemp("serve")
    process, url = serve_champion(servers, {**os.environ, "MLFLOW_TRACKING_URI": tracking_server}, folder)
    yield url
    servers.stop(process)


def ask(url: str, payload, content_type: str = "application/json") -> requests.Response:
    body = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
    return requests.post(url, data=body, headers={"Content-Type": content_type}, timeout=120)


def png(row: np.ndarray) -> str:
    return png_of(Image.fromarray((row.reshape(28, 28) * 255).astype(np.uint8)).resize((84, 84)))


def digits_of(response: requests.Response) -> list[int]:
    assert response.status_code == 200, response.text[:2000]
    predictions = response.json()["predictions"]
    ten = [p["probabilities"] for p in predictions if p["probabilities"] is not None]  # None: several digits
    assert all(len(p) == 10 and abs(sum(p) - 1) < 1e-4 for p in ten)
    return [p["digit"] for p in predictions]


def test_runs_and_registry_live_on_the_server(sklearn_champion, tracking_server):
    run = mlflow.get_run(sklearn_champion.parent_run_id)
    assert run.info.artifact_uri.startswith("mlflow-artifacts:")  # artifacts served by the server
    assert str(mlflow.MlflowClient().get_model_version_by_alias(registry.MODEL_NAME, "champion").version) == "1"


def test_serves_every_format_like_the_in_process_model(sklearn_champion, model_server, small_mnist):
    rows, labels = small_mnist.test.x[:200], small_mnist.test.y[:200]
    expected = registry.load("champion").predict(pd.DataFrame(rows))["digit"].tolist()
    columns = [f"pixel{i}" for i in range(784)]
    split = {"dataframe_split": {"columns": columns, "data": rows.tolist()}}
    assert digits_of(ask(model_server, split)) == expected
    records = {"dataframe_records": [dict(zip(columns, row.tolist(), strict=True)) for row in rows[:5]]}
    assert digits_of(ask(model_server, records)) == expected[:5]
    assert digits_of(ask(model_server, {"inputs": rows.reshape(-1, 28, 28).tolist()})) == expected
    assert digits_of(ask(model_server, {"instances": rows.tolist()})) == expected
    assert digits_of(ask(model_server, {"inputs": (rows * 255).round().tolist()})) == expected
    table = pd.DataFrame(rows, columns=columns)
    assert digits_of(ask(model_server, table.to_parquet(), "application/vnd.apache.parquet")) == expected
    assert digits_of(ask(model_server, table.to_csv(index=False), "text/csv")) == expected
    images = digits_of(
        ask(model_server, {"dataframe_split": {"columns": ["image"], "data": [[png(r)] for r in rows[:50]]}})
    )
    assert np.mean(np.array(images) == labels[:50]) >= np.mean(np.array(expected[:50]) == labels[:50]) - 0.06
    assert np.mean(np.array(expected) == labels) > 0.85


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"dataframe_split": {"columns": ["a", "b"], "data": [[0, 1]]}}, "expected 784 pixel columns"),
        ({"inputs": [[0.5] * 783]}, "got shape (1, 783)"),
        ('{"inputs": [[NaN' + ", 0" * 783 + "]]}", "holds NaN or infinity"),
        ({"inputs": [[999] * 784]}, "pixels must be in [0, 1] or [0, 255]"),
        ({"dataframe_split": {"columns": ["image"], "data": [["aGVsbG8gd29ybGQ="]]}}, "the bytes are not an image"),
        ({"inputs": []}, "no rows"),
        ({"inputs": [[0] * 784] * 10_001}, "send at most 10000"),
        ({"dataframe_split": {"columns": ["image"], "data": [[BLANK_64]]}}, "image 0: no digit: the image is uniform"),
        ({"dataframe_split": {"columns": ["image"], "data": [[WHITE_1X1]]}}, "image 0: no digit: 1x1 pixels"),
        ({"dataframe_split": {"columns": ["image"], "data": [[GREY_64]]}}, "image 0: no digit: the image is uniform"),
        ({"inputs": [[True, False] * 392]}, "pixel values must be numbers, not true or false"),
        ({"inputs": {"image": [empty_sheet("form_box")]}}, "image 0: no digit"),
        ({"inputs": {"image": [empty_sheet("squared")]}}, "image 0: no digit"),
        ({"inputs": {"image": [empty_sheet("ruled")]}}, "image 0: no digit"),
        ({"inputs": {"image": [empty_sheet("shadow")]}}, "image 0: no digit"),
        ({"inputs": {"image": [empty_sheet("finger_shadow")]}}, "image 0: no digit"),
        ({"inputs": {"image": [empty_sheet("perspective")]}}, "image 0: no digit"),
        *[
            ({"inputs": {"image": [base64.b64encode(picture).decode()]}}, f"image 0: {REFUSALS[name]}")
            for name, picture in refused_pictures().items()
        ],  # HEIC, truncated, too many pixels, a bomb
    ],
)
def test_bad_requests_get_400_and_the_server_keeps_serving(model_server, small_mnist, payload, message):
    response = ask(model_server, payload)
    assert response.status_code == 400 and message in response.json()["message"]
    rows, labels = small_mnist.test.x[:3], small_mnist.test.y[:3]
    assert digits_of(ask(model_server, {"inputs": rows.tolist()})) == labels.tolist() == [7, 2, 1]


def test_a_served_network_matches_keras_and_reads_digits_as_people_send_them(
    sklearn_champion, tracking_server, rendered, small_mnist, tmp_path, servers
):
    """The `fast` network trained on all images, promoted and served: its probabilities are Keras'
    (through LiteRT), and every rendering of real test digits (paper, colour, alpha, thick and thin
    pens, a noisy photo, off-centre, chalk) is read."""
    network = run_training(TrainConfig(arch="fast", quiet=True, experiment="serving", register=True))
    promote_version(network.promotion.version, force=True)  # it may have won on its own already
    assert registry.champion_version() == network.promotion.version
    process, url = serve_champion(servers, dict(os.environ), tmp_path)
    try:
        rows = small_mnist.test.x[:100]
        served = ask(url, {"inputs": rows.tolist()})
        probabilities = np.array([p["probabilities"] for p in served.json()["predictions"]])
        np.testing.assert_allclose(probabilities, network.model.predict(rows, verbose=0), atol=1e-5)
        encoded, labels = rendered
        for name, images in encoded.items():
            request = {"dataframe_split": {"columns": ["image"], "data": [[image] for image in images]}}
            accuracy = np.mean(digits_of(ask(url, request)) == labels)
            assert accuracy >= 0.9, f"{name}: {accuracy:.2f}"
        assert ask(url, {"inputs": {"image": [BLANK_64]}}).status_code == 400
    finally:
        servers.stop(process)


def test_digits_photographed_on_paper_are_read(model_server, small_mnist):
    """Test digits drawn onto every kind of paper (boxes, grids, shadows, pencil as JPEG...), sent
    as images: the kNN champion reads them about as well as on plain paper."""
    test = small_mnist.test
    accuracy = {}
    for kind in PAPERS:
        photos = on_kind(kind, test.images[:20, ..., 0], seed=5)
        request = {"inputs": {"image": [base64.b64encode(photo).decode() for photo in photos]}}
        accuracy[kind] = np.mean(np.array(digits_of(ask(model_server, request))) == test.y[:20])
    assert accuracy["plain"] >= 0.8
    assert all(value >= accuracy["plain"] - 0.15 for value in accuracy.values()), accuracy


def test_a_number_is_answered_digit_by_digit_with_boxes_and_what_the_model_saw(model_server, small_mnist):
    """Four test digits written side by side: the number left to right, a box per digit, and with
    show the 28x28 image each digit was read from, which as pixels gets the same answer."""
    test = small_mnist.test
    chosen = [0, 1, 3, 4]  # 7, 2, 0, 4: digits the kNN reads
    rng = np.random.default_rng(0)
    ink = number_ink(test.images[chosen, ..., 0], rng)
    photo = base64.b64encode(encode(photograph(on_paper(ink, white(ink.shape)), rng))).decode()
    request = {"inputs": {"image": [photo]}, "params": {"show": True}}
    (answer,) = ask(model_server, request).json()["predictions"]
    assert answer["number"] == "".join(str(test.y[index]) for index in chosen) and answer["digit"] == -1
    lefts = [digit["box"][0] for digit in answer["digits"]]
    assert lefts == sorted(lefts) and len(set(lefts)) == 4
    seen = [np.asarray(Image.open(io.BytesIO(base64.b64decode(d["seen"]))), np.float32) / 255 for d in answer["digits"]]
    again = ask(model_server, {"inputs": [image.ravel().tolist() for image in seen]}).json()["predictions"]
    assert [p["probabilities"] for p in again] == [d["probabilities"] for d in answer["digits"]]
