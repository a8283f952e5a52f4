"""The evaluation of a fitted classifier: metrics for every split and test-set artifacts."""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from mnist_mlops.data import Mnist
from mnist_mlops.evaluate.metrics import ECE_BINS, calibration_bins, confusion_table, per_class_table, split_metrics
from mnist_mlops.evaluate.plots import (
    confusion_figure,
    misclassified_figure,
    predictions_figure,
    reliability_figure,
    training_curves_figure,
)
from mnist_mlops.train.fitting import Fitted, score_splits


@dataclass
class Report:
    """What an evaluation produced, ready for the tracking module to log."""

    metrics: dict[str, float] = field(default_factory=dict)  # {split}_{metric} -> value
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # artifact file name -> CSV table
    figures: dict[str, Figure] = field(default_factory=dict)  # artifact file name -> PNG figure
    test_digits: np.ndarray | None = None  # the predicted digit of each test image, for paired comparisons


def found(name: str, metrics: dict[str, float]) -> str:
    """One line of what an evaluation found, as the jobs print it while they run."""
    seconds = f", fit {metrics['fit_seconds']:.1f} s" if "fit_seconds" in metrics else ""
    return f"{name}: val_accuracy {metrics['val_accuracy']:.4f}, test_accuracy {metrics['test_accuracy']:.4f}{seconds}"


def classification_report(probabilities: dict[str, tuple[np.ndarray, np.ndarray]], title: str) -> Report:
    """Score each split from (labels, probabilities); add confusion and per-class artifacts for test."""
    report = Report()
    for split, (y_true, proba) in probabilities.items():
        report.metrics.update(split_metrics(split, y_true, proba))
    y_test, proba_test = probabilities["test"]
    pred = proba_test.argmax(axis=1)
    counts = confusion_table(y_test, pred)
    report.tables["test_confusion_matrix.csv"] = counts
    report.tables["test_per_class_metrics.csv"] = per_class_table(y_test, pred)
    report.figures["test_confusion_matrix.png"] = confusion_figure(counts, f"{title}: test confusion matrix")
    bins = calibration_bins(y_test, proba_test)
    report.tables["test_calibration_bins.csv"] = bins
    ece = report.metrics["test_ece"]
    report.figures["test_reliability.png"] = reliability_figure(bins, ECE_BINS, f"{title}: test ECE {ece:.2%}")
    report.test_digits = pred
    return report


def uncalibrated_metrics(fitted: Fitted, data: Mnist) -> dict[str, float]:
    """Validation and test ECE and log loss before calibration: {split}_uncalibrated_{metric}."""
    metrics = {}
    for split in (data.val, data.test):
        scores = split_metrics(split.name, split.y, fitted.predict_proba(split)[0])
        for name in ("ece", "log_loss"):
            metrics[f"{split.name}_uncalibrated_{name}"] = scores[f"{split.name}_{name}"]
    return metrics


def evaluate(fitted: Fitted, data: Mnist, title: str, seed: int) -> Report:
    """Score a fitted model on every split, timed; add galleries of misclassified and sample test
    predictions, and the training curves and epoch counts of a model trained epoch by epoch."""
    probabilities, timings = score_splits(fitted, data.splits())
    report = classification_report(probabilities, title)
    y_test, proba_test = probabilities["test"]
    report.metrics.update(timings, **fitted.classifier.size())
    report.figures["test_misclassified.png"] = misclassified_figure(data.test.x, y_test, proba_test)
    report.figures["test_predictions.png"] = predictions_figure(data.test.x, y_test, proba_test, seed)
    epochs = fitted.epochs
    if epochs.run and epochs.best is not None:  # trained epoch by epoch: the kept epoch is known
        report.figures["training_curves.png"] = training_curves_figure(epochs.history, epochs.best)
        report.metrics.update(epochs_run=epochs.run, best_epoch=epochs.best)
    return report
