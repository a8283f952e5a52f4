"""Temperature scaling (Guo et al., 2017): a fitted classifier's probabilities p become p^(1/T),
normalised, with the one T that minimises the validation log loss. The digit never changes. The
temperature lives inside the calibrated model's estimator (a Keras network or a scikit-learn
estimator), so the model logged, registered and served is the calibrated one."""

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.base import BaseEstimator, ClassifierMixin

from mnist_mlops.data import Split
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


class Tempered(ClassifierMixin, BaseEstimator):
    """A scikit-learn estimator whose fitted estimator's probabilities are scaled by a temperature."""

    def __init__(self, estimator, temperature: float):
        self.estimator, self.temperature = estimator, temperature
        self.classes_ = estimator.classes_

    def fit(self, x, y):
        """Its estimator is fitted already."""
        return self

    def predict_proba(self, x) -> np.ndarray:
        """The estimator's probabilities at the temperature."""
        return with_temperature(self.estimator.predict_proba(x), self.temperature)

    def predict(self, x) -> np.ndarray:
        """The digit with the highest probability (the estimator's own)."""
        return self.classes_[self.predict_proba(x).argmax(axis=1)]


def tempered_network(network, temperature: float):
    """One Keras network answering softmax(log(p) / temperature) of the network's probabilities p,
    in built-in layers and ops, so it saves, loads and converts to LiteRT like any other."""
    import keras
    from keras import layers

    from mnist_mlops.data import N_PIXELS

    pixels = keras.Input(shape=(N_PIXELS,), name="pixels")
    logits = keras.ops.log(keras.ops.maximum(network(pixels), FLOOR))
    outputs = layers.Activation("softmax", name="digit_probabilities")(layers.Rescaling(1 / temperature)(logits))
    return keras.Model(pixels, outputs, name="calibrated")


def tempered_probabilities(flavor: str, estimator, x: np.ndarray) -> np.ndarray:
    """The probabilities a tempered estimator of either flavour answers."""
    if flavor == "keras":
        from mnist_mlops.models.keras_classifier import network_probabilities

        return network_probabilities(estimator, x)
    return estimator.predict_proba(x)


TEMPER = {"sklearn": Tempered, "keras": tempered_network}  # flavor -> the estimator with the temperature inside


class Calibrated:
    """A fitted classifier behind the temperature that minimises its log loss on a validation split;
    fitted as made. Its estimator holds the temperature, so every model logged or served from it,
    and every metric scored on it, applies the temperature."""

    def __init__(self, classifier: Classifier, val: Split):
        self.classifier, self.flavor = classifier, classifier.flavor
        self.temperature = fit_temperature(classifier.predict_proba(val.x), val.y)
        self.estimator = TEMPER[self.flavor](classifier.estimator, self.temperature)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """The probabilities of its estimator: the classifier's at the fitted temperature."""
        return tempered_probabilities(self.flavor, self.estimator, x)

    def params(self) -> dict:
        """The classifier's hyperparameters and the temperature."""
        return {**self.classifier.params(), "temperature": self.temperature}

    def size(self) -> dict[str, float]:
        """The classifier's size."""
        return self.classifier.size()
