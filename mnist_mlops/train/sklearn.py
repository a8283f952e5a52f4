"""Fitting and scoring scikit-learn pipelines, timed."""

import time

import numpy as np
from sklearn.pipeline import Pipeline

from mnist_mlops.data import N_CLASSES, Split


def fit(model: Pipeline, train: Split) -> float:
    """Fit model on the training split and return the seconds it took."""
    start = time.perf_counter()
    model.fit(train.x, train.y)
    seconds = time.perf_counter() - start
    if list(model.classes_) != list(range(N_CLASSES)):
        raise ValueError(f"the training split lacks some digits: classes are {list(model.classes_)}")
    return seconds


def predict_proba(model: Pipeline, split: Split) -> tuple[np.ndarray, float]:
    """Return the model's (n, 10) class probabilities on a split and the seconds it took."""
    start = time.perf_counter()
    proba = model.predict_proba(split.x)
    return proba, time.perf_counter() - start
