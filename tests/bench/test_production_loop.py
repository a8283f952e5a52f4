"""The production loop end to end at a small size (bench/production_loop.py), in a real SQLite store: the
fast network's champion serves MNIST digits, then a style it misreads; monitor stays quiet on the unchanged
windows and raises the drift; corrections make a challenger that the rule promotes, and the next window's
live accuracy and confidence recover."""

import pytest

from bench.production_loop import Sizes, scenario
from mnist_mlops.serving.inference_log import VARIABLE

pytestmark = pytest.mark.slow

SMALL = Sizes(arch="fast", epochs=2, limit=2000, window=60, windows=3, checkpoints=(100,), styled=300, recovery=100,
              reviewed=0.4, judged=200, min_records=50)  # fmt: skip


def test_drift_is_raised_and_a_retrained_challenger_recovers(tracking_store, tmp_path, monkeypatch):
    monkeypatch.setenv(VARIABLE, str(tmp_path / "log"))
    (tmp_path / "labelled").mkdir()
    found = scenario(SMALL, tmp_path / "labelled")
    assert found["unchanged"]["alerted_windows"] == 0, found["unchanged"]
    assert found["drift"]["first_alert_after_requests"] is not None, found["drift"]
    champion, challenger = found["champion"], found["challenger"]
    assert challenger["promoted"], challenger["retrain_output"]
    assert challenger["style_accuracy"] > champion["style_accuracy"] + 0.1
    before, after = found["window_before"], found["window_after"]
    assert before["exit_code"] == 1 and after["live_accuracy"] > before["live_accuracy"] + 0.1
    assert after["mean_confidence"] > before["mean_confidence"]
