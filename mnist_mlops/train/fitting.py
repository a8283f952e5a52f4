"""Fitting any family the same way, and scoring it on every split, timed."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from mnist_mlops.data import Mnist, Split
from mnist_mlops.models import Classifier, Family
from mnist_mlops.models.calibrated import Calibrated
from mnist_mlops.models.ensemble import Ensemble
from mnist_mlops.models.family import Epochs


@dataclass
class Fitted:
    """A fitted classifier, how long its fit took, and the epochs it trained."""

    classifier: Classifier
    fit_seconds: float
    epochs: Epochs = field(default_factory=Epochs)  # empty for a fit in one go and for an ensemble

    def predict_proba(self, split: Split) -> tuple[np.ndarray, float]:
        """Return the (n, 10) class probabilities on a split and the seconds it took."""
        start = time.perf_counter()
        proba = self.classifier.predict_proba(split.x)
        return proba, time.perf_counter() - start


def ignore_epoch(epoch: int, logs: dict) -> None:
    """An on_epoch_end that records nothing."""


def fit(
    family: Family, params: dict, data: Mnist, seed: int, on_epoch_end: Callable[[int, dict], None] = ignore_epoch
) -> Fitted:
    """Build the family's classifier with params and fit it on the training split, watching validation."""
    classifier = family.build(params, seed)
    start = time.perf_counter()
    epochs = classifier.fit(data.train, data.val, on_epoch_end)
    return Fitted(classifier, time.perf_counter() - start, epochs)


def averaged(members: list[Fitted]) -> Fitted:
    """One classifier averaging the members' probabilities; its fit time is theirs added up."""
    return Fitted(Ensemble([member.classifier for member in members]), sum(member.fit_seconds for member in members))


def calibrate(fitted: Fitted, data: Mnist) -> Fitted:
    """The fitted classifier behind a temperature fitted on the validation split; its fit time
    counts, and its epochs are the classifier's."""
    start = time.perf_counter()
    calibrated = Calibrated(fitted.classifier, data.val)
    return Fitted(calibrated, fitted.fit_seconds + time.perf_counter() - start, fitted.epochs)


def score_splits(fitted: Fitted, splits: tuple[Split, ...]) -> tuple[dict, dict[str, float]]:
    """Return {split: (labels, probabilities)} and fit_seconds and {split}_predict_seconds."""
    probabilities, timings = {}, {"fit_seconds": fitted.fit_seconds}
    for split in splits:
        proba, seconds = fitted.predict_proba(split)
        probabilities[split.name] = (split.y, proba)
        timings[f"{split.name}_predict_seconds"] = seconds
    return probabilities, timings
