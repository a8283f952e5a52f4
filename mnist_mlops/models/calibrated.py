"""Temperature scaling (Guo et al., 2017): a fitted classifier's probabilities p become p^(1/T),
normalised, with the one T that minimises the validation log loss. The digit never changes."""

import numpy as np
from scipy.optimize import minimize_scalar

from mnist_mlops.models.family import Classifier

LOG_T_RANGE = (-3.0, 3.0)  # temperatures from e^-3 (sharper) to e^3 (flatter)
FLOOR = 1e-12  # a probability of exactly 0 stays 0 at any temperature; the floor only keeps log() finite


def with_temperature(proba: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities softened (T > 1) or sharpened (T < 1): softmax(log(p) / T)."""
    logits = np.log(np.maximum(proba, FLOOR)) / temperature
    scaled = np.exp(logits - logits.max(axis=1, keepdims=True)) * (proba > 0)
    return scaled / scaled.sum(axis=1, keepdims=True)


def log_loss_at(proba: np.ndarray, y: np.ndarray, temperature: float) -> float:
    """Mean negative log-likelihood of the labels at a temperature."""
    return float(-np.mean(np.log(np.maximum(with_temperature(proba, temperature)[np.arange(len(y)), y], FLOOR))))


def fit_temperature(proba: np.ndarray, y: np.ndarray) -> float:
    """The temperature that minimises the log loss of the labels y."""
    found = minimize_scalar(lambda log_t: log_loss_at(proba, y, np.exp(log_t)), bounds=LOG_T_RANGE, method="bounded")
    return float(np.exp(found.x))


class Calibrated:
    """A fitted classifier behind a temperature fitted on the validation split."""

    def __init__(self, classifier: Classifier):
        self.classifier, self.temperature = classifier, 1.0
        self.flavor, self.estimator = classifier.flavor, classifier.estimator
        self.history, self.best_epoch = classifier.history, classifier.best_epoch

    def fit(self, train, val, on_epoch_end) -> "Calibrated":
        """Fit the temperature on val; the classifier is fitted already."""
        self.temperature = fit_temperature(self.classifier.predict_proba(val.x), val.y)
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """The classifier's probabilities at the fitted temperature."""
        return with_temperature(self.classifier.predict_proba(x), self.temperature)

    def params(self) -> dict:
        """The classifier's hyperparameters and the temperature."""
        return {**self.classifier.params(), "temperature": self.temperature}

    def size(self) -> dict[str, float]:
        """The classifier's size."""
        return self.classifier.size()
