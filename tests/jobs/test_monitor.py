"""`mnist-mlops monitor` over an inference log written as the serving model writes it, into a real SQLite
store: the profile's values, the digits' drift against the previous window, the alerts and exit codes,
and an absent or empty log refused before any run is opened."""

import json
from datetime import UTC, datetime, timedelta

import mlflow
import numpy as np
import pytest
from click.testing import CliRunner

from mnist_mlops.cli import cli
from mnist_mlops.serving.inference_log import Answered, InferenceLog

END = datetime(2026, 12, 7, 12, tzinfo=UTC)


def answers(digits: list[int], at: datetime, refused: int = 0, version: str = "3") -> Answered:
    """A request of pixel rows answered with these digits at 0.9 (and refused images after them)."""
    proba = np.full((len(digits), 10), 0.1 / 9)
    proba[np.arange(len(digits)), digits] = 0.9
    reasons = [""] * len(digits) + ["no digit: the image is uniform"] * refused
    counts = np.array([1] * len(digits) + [0] * refused)
    return Answered(at.timestamp(), f"r{at.timestamp():.0f}{version}", version, "m-1", "image", 12.0, proba,
                    counts, reasons, np.zeros((len(digits), 784), np.uint8))  # fmt: skip


def write_log(folder, requests: list[Answered]) -> None:
    """Write requests into folder as a server's process does."""
    log = InferenceLog(folder)
    log.start()
    log.write(requests)


def stream(rng, hours_before_end: float, weights=None, requests: int = 60, refused: int = 0) -> list[Answered]:
    """Requests of 10 digits drawn with weights, spread over the 24 hours before END - hours_before_end."""
    return [
        answers(
            list(rng.choice(10, 10, p=weights)), END - timedelta(hours=hours_before_end + 23 * i / requests), refused
        )  # fmt: skip
        for i in range(requests)
    ]


def monitor(folder, *args: str):
    return CliRunner().invoke(cli, ["monitor", "--log", str(folder), "--end", END.isoformat(), *args])


def latest_run():
    return mlflow.search_runs(experiment_names=["mnist-monitoring"], order_by=["start_time DESC"]).iloc[0]


def test_an_unchanged_stream_raises_nothing_and_its_profile_is_logged(tracking_store, tmp_path):
    rng = np.random.default_rng(0)
    write_log(tmp_path / "log", stream(rng, 0.5) + stream(rng, 24.5))
    done = monitor(tmp_path / "log")
    assert done.exit_code == 0, done.output
    assert "600 records of 60 requests, refused_rate 0.000, mean_confidence 0.900, latency p50 12.0 ms" in done.output
    run = latest_run()
    assert run["status"] == "FINISHED" and run["tags.alerts"] == "none"
    assert run["metrics.window_records"] == 600 and run["metrics.previous_records"] == 600
    assert run["metrics.drift_digit_p_value"] > 0.01 and run["metrics.window_image_share"] == 1
    assert run["metrics.window_mean_confidence"] == pytest.approx(0.9)
    shares = [run[f"metrics.window_digit_{digit}_share"] for digit in range(10)]
    assert sum(shares) == pytest.approx(1) and max(shares) < 0.2
    artifacts = {artifact.path for artifact in mlflow.MlflowClient().list_artifacts(run["run_id"])}
    assert artifacts == {"profile.json", "digit_mix.png", "drift.json", "drift.png"}
    table = json.loads(mlflow.artifacts.load_text(f"runs:/{run['run_id']}/profile.json"))
    rows = [dict(zip(table["columns"], row, strict=True)) for row in table["data"]]
    assert {(row["window"], row["model_version"]) for row in rows} == {(w, v) for w in ("current", "previous")
                                                                     for v in ("all", "3")}  # fmt: skip


def test_a_changed_mix_of_digits_is_an_alert_and_exit_1(tracking_store, tmp_path):
    rng = np.random.default_rng(1)
    ones = np.full(10, 0.05)
    ones[1] = 0.55  # a new style the model reads as 1
    write_log(tmp_path / "log", stream(rng, 0.5, ones) + stream(rng, 24.5))
    done = monitor(tmp_path / "log")
    assert done.exit_code == 1
    assert "alert: the predicted digits' mix drifted from the previous window's: chi-square p = " in done.output
    run = latest_run()
    assert run["status"] == "FINISHED" and run["tags.alerts"].startswith("the predicted digits' mix drifted")
    assert run["metrics.drift_digit_p_value"] < 1e-6 and run["metrics.window_digit_1_share"] > 0.4
    assert run["metrics.drift_digit_distance"] > 0.3


def test_twenty_windows_of_an_unchanged_stream_raise_no_alert(tracking_store, tmp_path):
    rng = np.random.default_rng(4)
    write_log(tmp_path / "log", [answered for hours in range(0, 21 * 24, 24) for answered in stream(rng, hours + 0.5)])
    for window in range(20):
        end = END - timedelta(hours=24 * window)
        done = CliRunner().invoke(cli, ["monitor", "--log", str(tmp_path / "log"), "--end", end.isoformat()])
        assert done.exit_code == 0, f"window {window}: {done.output}"
    assert len(mlflow.search_runs(experiment_names=["mnist-monitoring"])) == 20


def test_a_large_windows_tiny_shift_is_significant_but_no_alert(tracking_store, tmp_path):
    rng, shifted = np.random.default_rng(5), np.full(10, 0.097)
    shifted[1] = 0.127  # 3 points more 1s: certain with 12,000 answers, too small to page anyone
    write_log(tmp_path / "log", stream(rng, 0.5, shifted, requests=1200) + stream(rng, 24.5, requests=1200))
    done = monitor(tmp_path / "log")
    assert done.exit_code == 0, done.output
    run = latest_run()
    assert run["metrics.drift_digit_p_value"] < 0.001 and run["metrics.drift_digit_distance"] < 0.05


def test_refusals_are_profiled_by_reason_and_alert_above_the_threshold(tracking_store, tmp_path):
    write_log(tmp_path / "log", stream(np.random.default_rng(2), 0.5, refused=5))
    done = monitor(tmp_path / "log", "--max-refused-rate", "0.25")
    assert done.exit_code == 1 and "alert: refused_rate 0.333 is above 0.25" in done.output
    assert "no drift test against the previous window: fewer than 100 values to compare" in done.output
    run = latest_run()
    assert run["metrics.window_refused_no_digit_rate"] == pytest.approx(1 / 3)
    assert run["metrics.window_records"] == 900 and run["metrics.window_requests"] == 60


@pytest.mark.parametrize("made", [False, True])
def test_an_absent_or_empty_window_is_refused_before_any_run(tracking_store, tmp_path, made):
    if made:  # records, but all before the window
        write_log(tmp_path / "log", stream(np.random.default_rng(3), 72))
    done = monitor(tmp_path / "log", "--hours", "24")
    assert done.exit_code == 1
    expected = "no records in" if made else "no inference log there (no such folder)"
    assert expected in done.output and len(done.output.strip().splitlines()) == 1
    assert mlflow.get_experiment_by_name("mnist-monitoring") is None
