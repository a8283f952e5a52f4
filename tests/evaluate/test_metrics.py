"""Metrics, tables and the evaluation report against values worked out by hand."""

import numpy as np
import pytest

from mnist_mlops.evaluate.metrics import (
    calibration_bins,
    confusion_table,
    expected_calibration_error,
    per_class_table,
    split_metrics,
)
from mnist_mlops.evaluate.report import classification_report


def one_hot(labels, confidence=0.91):
    proba = np.full((len(labels), 10), (1 - confidence) / 9)
    proba[np.arange(len(labels)), labels] = confidence
    return proba


def test_split_metrics_are_named_by_split_and_correct():
    y = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    predicted = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 8])
    metrics = split_metrics("val", y, one_hot(predicted))
    assert set(metrics) == {"val_accuracy", "val_f1_macro", "val_log_loss", "val_ece"}
    assert metrics["val_accuracy"] == pytest.approx(0.9)
    # digit 8: precision 1/2, recall 1, F1 2/3; digit 9: F1 0; the others 1.
    assert metrics["val_f1_macro"] == pytest.approx((8 + 2 / 3) / 10)
    assert metrics["val_log_loss"] == pytest.approx(-(9 * np.log(0.91) + np.log(0.01)) / 10)
    assert metrics["val_ece"] == pytest.approx(0.01)  # one bin: confidence 0.91, accuracy 0.9


def test_ece_is_zero_when_confidence_matches_accuracy():
    y = np.zeros(20, int)
    # 0.8-confident: 8 of 10 right; 0.9-confident: 9 of 10 right
    proba = np.vstack([one_hot([0] * 8 + [1] * 2, confidence=0.8), one_hot([0] * 9 + [1], confidence=0.9)])
    assert expected_calibration_error(y, proba) == pytest.approx(0.0)


def test_ece_matches_a_hand_computed_example():
    y = np.array([0, 0, 0, 0])
    proba = np.vstack([one_hot([0], 0.95), one_hot([1], 0.95), one_hot([0], 0.5), one_hot([0], 0.5)])
    bins = calibration_bins(y, proba)
    # bin (14/15, 1]: two images at 0.95, one right -> gap 0.45; bin (7/15, 8/15]: two at 0.5, both right -> 0.5
    assert bins["images"].tolist() == [2, 2] and bins.index.tolist() == [7, 14]
    assert expected_calibration_error(y, proba) == pytest.approx((2 * 0.5 + 2 * 0.45) / 4)


def test_confusion_and_per_class_tables():
    y = np.array([3, 3, 3, 5])
    predicted = np.array([3, 5, 3, 5])
    counts = confusion_table(y, predicted)
    assert counts.shape == (10, 10) and counts.loc[3, 3] == 2 and counts.loc[3, 5] == 1 and counts.loc[5, 5] == 1
    table = per_class_table(y, predicted)
    assert table.loc[3, "recall"] == pytest.approx(2 / 3) and table.loc[5, "precision"] == pytest.approx(0.5)
    assert table.loc[3, "support"] == 3 and table.loc[0, "support"] == 0


def test_report_holds_metrics_of_every_split_and_test_artifacts():
    y = np.arange(10)
    report = classification_report({"train": (y, one_hot(y)), "test": (y, one_hot(y))}, title="t")
    assert report.metrics["train_accuracy"] == 1.0 and report.metrics["test_accuracy"] == 1.0
    tables = {"test_confusion_matrix.csv", "test_per_class_metrics.csv", "test_calibration_bins.csv"}
    assert set(report.tables) == tables
    assert set(report.figures) == {"test_confusion_matrix.png", "test_reliability.png"}
    assert len(report.figures["test_confusion_matrix.png"].axes) == 3  # two heatmaps and a colour bar
