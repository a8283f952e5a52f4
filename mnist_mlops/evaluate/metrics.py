"""Classification metrics computed from predicted probabilities; named {split}_{metric}."""

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, log_loss, precision_recall_fscore_support

from mnist_mlops.data import N_CLASSES

DIGITS = list(range(N_CLASSES))
ECE_BINS = 15  # equal-width confidence bins, as in Guo et al. (2017), "On Calibration of Modern Neural Networks"


def split_metrics(split: str, y_true: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """Return accuracy, macro F1, log loss and expected calibration error of one split, keyed {split}_{metric}."""
    pred = proba.argmax(axis=1)
    return {
        f"{split}_accuracy": float(accuracy_score(y_true, pred)),
        f"{split}_f1_macro": float(f1_score(y_true, pred, average="macro", labels=DIGITS, zero_division=0)),
        f"{split}_log_loss": float(log_loss(y_true, proba, labels=DIGITS)),
        f"{split}_ece": expected_calibration_error(y_true, proba),
    }


def calibration_bins(y_true: np.ndarray, proba: np.ndarray) -> pd.DataFrame:
    """Per confidence bin (i/15, (i+1)/15] that holds images: their count, mean confidence (top
    probability) and accuracy; the data of a reliability diagram."""
    confidence, correct = proba.max(axis=1), proba.argmax(axis=1) == y_true
    bins = np.clip(np.ceil(confidence * ECE_BINS).astype(int) - 1, 0, ECE_BINS - 1)
    frame = pd.DataFrame({"bin": bins, "confidence": confidence, "correct": correct})
    return frame.groupby("bin").agg(
        images=("correct", "size"), confidence=("confidence", "mean"), accuracy=("correct", "mean")
    )


def expected_calibration_error(y_true: np.ndarray, proba: np.ndarray) -> float:
    """The gap between confidence and accuracy, averaged over the bins weighted by their images."""
    table = calibration_bins(y_true, proba)
    return float((table["images"] * (table["confidence"] - table["accuracy"]).abs()).sum() / len(y_true))


def confusion_table(y_true: np.ndarray, pred: np.ndarray) -> pd.DataFrame:
    """Return the confusion matrix as counts, rows the true digit and columns the prediction."""
    counts = confusion_matrix(y_true, pred, labels=DIGITS)
    return pd.DataFrame(
        counts,
        index=pd.Index(DIGITS, name="true"),
        columns=pd.Index(DIGITS, name="predicted"),
    )


def per_class_table(y_true: np.ndarray, pred: np.ndarray) -> pd.DataFrame:
    """Return precision, recall, F1 and support of each digit."""
    precision, recall, f1, support = precision_recall_fscore_support(y_true, pred, labels=DIGITS, zero_division=0)
    return pd.DataFrame(
        {"precision": precision, "recall": recall, "f1": f1, "support": support},
        index=pd.Index(DIGITS, name="digit"),
    )
