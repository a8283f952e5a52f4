"""Drift tests on an unchanged stream of real digits: twenty windows, each against the one before it and
against a baseline of other MNIST digits, raise no alert at the default thresholds; a stream whose
strokes thicken does."""

import cv2
import numpy as np
import pandas as pd

from mnist_mlops.jobs.monitor import drift_alerts
from mnist_mlops.monitoring.baseline import baseline
from mnist_mlops.monitoring.config import MonitorConfig
from mnist_mlops.monitoring.drift import PREVIOUS, baseline_of, drift_rows
from mnist_mlops.monitoring.images import features

CONFIG = MonitorConfig(log="unused")


def answered(rng, pixels: np.ndarray) -> np.ndarray:
    """Probabilities as a model answers: a random digit at a confidence from 0.5 to 1."""
    proba = np.full((len(pixels), 10), 0.0)
    proba[np.arange(len(pixels)), rng.integers(10, size=len(pixels))] = rng.uniform(0.5, 1, len(pixels))
    return proba


def measured(rng, pixels: np.ndarray) -> pd.DataFrame:
    """Records answering pixels (n, 784) in [0, 1], as the baseline and the log both measure them."""
    return baseline(answered(rng, pixels), pixels)


def drift_of(current: pd.DataFrame, previous: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Every drift test of a window: against the previous window and against version 1's baseline."""
    rows = drift_rows(current, previous, PREVIOUS, "all", CONFIG.min_records)
    return pd.DataFrame(rows + drift_rows(current, reference, baseline_of("1"), "1", CONFIG.min_records))


def test_twenty_windows_of_unchanged_digits_raise_no_alert(small_mnist):
    rng, pool = np.random.default_rng(4), small_mnist.train.x
    reference = measured(rng, small_mnist.val.x)  # 100 other digits: the version's baseline
    windows = [measured(rng, pool[rng.integers(len(pool), size=600)]) for _ in range(21)]
    fired = [
        drift_alerts(drift_of(now, before, reference), CONFIG)
        for now, before in zip(windows[1:], windows[:-1], strict=True)
    ]
    assert fired == [[]] * 20
    table = drift_of(windows[1], windows[0], reference)
    assert len(table) == 10 and table["p_value"].notna().all()  # five measures, against two references


def test_thicker_strokes_drift_from_both_references(small_mnist):
    rng, pool = np.random.default_rng(5), small_mnist.train.x
    thick = np.stack([cv2.dilate(digit.reshape(28, 28), np.ones((2, 2), np.float32)).ravel() for digit in pool])
    assert np.nanmean(features(np.round(thick * 255).astype(np.uint8).reshape(-1, 28, 28))[:, 1]) > 2.5
    table = drift_of(measured(rng, thick[:600]), measured(rng, pool[300:900]), measured(rng, small_mnist.val.x))
    fired = drift_alerts(table, CONFIG)
    assert any(alert.startswith("the images' stroke width drifted from the previous window's") for alert in fired)
    assert any(alert.startswith("the images' stroke width drifted from version 1's baseline") for alert in fired)
    assert not any("digits' mix" in alert or "confidence" in alert for alert in fired)  # answered alike
    stroke = table[(table["measure"] == "stroke") & (table["against"] == PREVIOUS)].iloc[0]
    assert stroke["window_mean"] > stroke["reference_mean"] + 0.5 and stroke["distance"] > 0.5
