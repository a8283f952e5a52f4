"""`mnist-mlops monitor` against registered versions in a real SQLite store: the baseline each version
recorded when it was registered (its answers on validation images), drift of the digits, confidence and
images from it and from the previous window, and live accuracy from corrections naming their requests."""

from datetime import UTC, datetime, timedelta

import cv2
import mlflow
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from mnist_mlops import registry, tracking
from mnist_mlops.cli import cli
from mnist_mlops.data import load_mnist
from mnist_mlops.monitoring.baseline import BASELINE
from mnist_mlops.monitoring.images import features
from mnist_mlops.serving.inference_log import Answered, InferenceLog, write_all
from mnist_mlops.serving.inputs import image_requests
from mnist_mlops.serving.model import answer_all, load_served
from mnist_mlops.tracking.feedback import add_corrections
from tests.conftest import photo_png, registered_copy

END = datetime(2026, 12, 7, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def store(registered_store, tmp_path_factory, temporary_store):
    """A copy of the registered store (version 1: the kNN champion, 300 validation images), entered."""
    with temporary_store(folder := registered_copy(registered_store, tmp_path_factory, "monitor")):
        yield folder


def marker(digits: np.ndarray) -> np.ndarray:
    """Digits (n, 784) in [0, 1] as if written with a thick marker: every stroke 2 pixels wider."""
    return np.stack([cv2.dilate(digit.reshape(28, 28), np.ones((3, 3), np.float32)).ravel() for digit in digits])


def served(monkeypatch, folder, digits: np.ndarray, one_by_one: bool = False) -> pd.DataFrame:
    """Version 1 serving digits (as 28x28 PNGs) with the inference log on in folder; its answers."""
    monkeypatch.setenv("MNIST_MLOPS_INFERENCE_LOG", str(folder))
    model = load_served("models:/mnist-digits/1")
    requests = image_requests([photo_png(digit.reshape(28, 28), 28) for digit in digits])
    parts = [requests.iloc[[i]] for i in range(len(requests))] if one_by_one else [requests]
    answers = pd.concat([answer_all(model, part) for part in parts], ignore_index=True)
    write_all()
    return answers


def monitor(folder, *args: str):
    return CliRunner().invoke(cli, ["monitor", "--log", str(folder), *args])


def latest_run():
    return mlflow.search_runs(experiment_names=["mnist-monitoring"], order_by=["start_time DESC"]).iloc[0]


def drift_table(run_id: str) -> pd.DataFrame:
    return tracking.load_table(run_id, "drift.json")


def test_a_version_records_its_answers_on_validation_images_when_registered(store):
    table = tracking.load_table(registry.source_run(registry.resolve("1")), BASELINE)
    val = load_mnist(limit=3000, seed=42).val
    assert len(table) == len(val) == 300
    assert np.array_equal(table["digit"], registry.predicted_digits("1", val.x))
    assert table["confidence"].between(0.2, 1).all()  # a kNN's share of neighbours
    pixels = np.round(val.x * 255).astype(np.uint8).reshape(-1, 28, 28)
    assert np.allclose(table[["ink", "stroke", "size"]], features(pixels), equal_nan=True)
    network = tracking.load_table(registry.source_run(registry.resolve("2")), BASELINE)  # LiteRT, 1,000 images
    assert len(network) == 100 and network["confidence"].between(0.1, 1).all()


def test_served_mnist_digits_are_like_the_baseline_and_marker_strokes_drift_from_it(store, tmp_path, monkeypatch,
                                                                                   small_mnist):  # fmt: skip
    served(monkeypatch, tmp_path / "log", small_mnist.test.x[:300])
    done = monitor(tmp_path / "log")
    assert done.exit_code == 0, done.output
    assert "no drift test against the previous window: fewer than 100 values to compare" in done.output
    assert "against the baseline of version 1: digit p = " in done.output
    run = latest_run()
    for measure in ("digit", "confidence", "ink", "stroke", "size"):
        assert run[f"metrics.drift_baseline_v1_{measure}_p_value"] > 0.001, measure

    served(monkeypatch, tmp_path / "marker", marker(small_mnist.test.x[:300]))
    done = monitor(tmp_path / "marker")
    assert done.exit_code == 1
    assert "alert: the images' ink mass drifted from version 1's baseline: Kolmogorov-Smirnov p = " in done.output
    assert "the images' stroke width drifted from version 1's baseline" in done.output
    run = latest_run()
    assert run["status"] == "FINISHED" and run["metrics.drift_baseline_v1_stroke_distance"] > 0.5
    table = drift_table(run["run_id"])
    stroke = table[(table["against"] == "baseline of version 1") & (table["measure"] == "stroke")].iloc[0]
    assert stroke["window_values"] == 300 and stroke["reference_values"] == 300
    assert stroke["window_mean"] > stroke["reference_mean"] + 1  # two pixels wider, as estimated
    artifacts = {artifact.path for artifact in mlflow.MlflowClient().list_artifacts(run["run_id"])}
    assert {"drift.json", "drift.png", "digit_mix.png", "profile.json"} <= artifacts

    assert monitor(tmp_path / "marker", "--no-baseline-alerts").exit_code == 0  # reported only
    assert latest_run()["metrics.drift_baseline_v1_stroke_distance"] > 0.5


def logged(digits: np.ndarray, hours_before: float, version: str = "7") -> list[Answered]:
    """Requests of one image each, answered 0-9 in turn at 0.9, seeing digits, spread over 23 hours."""
    requests = []
    for i, digit in enumerate(digits):
        proba = np.full((1, 10), 0.1 / 9)
        proba[0, i % 10] = 0.9
        at = END - timedelta(hours=hours_before + 23 * i / len(digits))
        seen = np.round(digit * 255).astype(np.uint8)[None]
        requests.append(Answered(at.timestamp(), f"r{i}h{hours_before:.0f}", version, "m-1", "image", 5.0, proba,
                                 np.ones(1, np.int64), None, seen))  # fmt: skip
    return requests


def test_a_new_style_of_images_drifts_from_the_previous_window(store, tmp_path, small_mnist):
    digits = small_mnist.test.x[:400]
    log = InferenceLog(tmp_path / "log")
    log.start()
    log.write(logged(digits[:200], 24.5) + logged(marker(digits[200:]), 0.5))
    done = monitor(tmp_path / "log", "--end", END.isoformat())
    assert done.exit_code == 1
    assert "version 7 has no baseline (not in this registry): compared with the previous window only" in done.output
    assert "the images' stroke width drifted from the previous window's" in done.output
    assert "the predicted digits' mix drifted" not in done.output  # the same mix of answers
    run = latest_run()
    assert run["metrics.drift_digit_p_value"] > 0.5 and run["metrics.drift_confidence_distance"] == 0
    assert run["metrics.drift_ink_p_value"] < 1e-6 and run["metrics.drift_size_p_value"] < 0.001
    assert run.filter(like="metrics.drift_baseline").isna().all()  # columns of the other tests' runs


def test_live_accuracy_joins_corrections_to_the_requests_they_name(store, tmp_path, monkeypatch, small_mnist):
    digits, labels = small_mnist.test.x[:40], small_mnist.test.y[:40]
    answers = served(monkeypatch, tmp_path / "log", digits, one_by_one=True)
    for request_id, label in zip(answers["request_id"][:30], labels[:30], strict=True):  # 30 of 40 labelled
        add_corrections([photo_png(digits[0].reshape(28, 28))], str(label), request_id)
    expected = float(np.mean(answers["number"][:30].to_numpy() == labels[:30].astype(str)))
    assert 0.5 < expected < 1  # the kNN of 3,000 images misreads some
    done = monitor(tmp_path / "log", "--min-live-accuracy", "0.99", "--min-labelled", "20", "--no-baseline-alerts")
    assert f"live accuracy of version 1: {expected:.3f} on 30 labelled records" in done.output
    assert f"alert: version 1's live accuracy {expected:.3f} on 30 labelled records is below 0.99" in done.output
    run = latest_run()
    assert run["metrics.window_v1_labelled"] == 30 and run["metrics.window_labelled"] == 30
    assert run["metrics.window_v1_live_accuracy"] == pytest.approx(expected)
    assert monitor(tmp_path / "log", "--min-labelled", "31", "--no-baseline-alerts").exit_code == 0
