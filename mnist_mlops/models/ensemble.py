"""An ensemble: fitted classifiers of one family whose probabilities are averaged, behind the same
Classifier interface, logged as one model of the members' flavour, so it serves like any other."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from mnist_mlops.models.family import Classifier


class MeanProbabilities(ClassifierMixin, BaseEstimator):
    """A scikit-learn estimator that averages the probabilities of fitted estimators."""

    def __init__(self, estimators: list):
        self.estimators = estimators
        self.classes_ = estimators[0].classes_

    def fit(self, x, y):
        """Its members are fitted already."""
        return self

    def predict_proba(self, x) -> np.ndarray:
        """The mean of the members' probabilities."""
        return np.mean([estimator.predict_proba(x) for estimator in self.estimators], axis=0)

    def predict(self, x) -> np.ndarray:
        """The digit with the highest mean probability."""
        return self.classes_[self.predict_proba(x).argmax(axis=1)]


def mean_network(networks: list):
    """One Keras network whose output is the mean of the members' softmax outputs."""
    import keras
    from keras import layers

    from mnist_mlops.data import N_PIXELS

    pixels = keras.Input(shape=(N_PIXELS,), name="pixels")
    for number, network in enumerate(networks, start=1):
        network.name = f"member_{number}"  # members of one family share a name
    outputs = layers.Average(name="digit_probabilities")([network(pixels) for network in networks])
    return keras.Model(pixels, outputs, name="ensemble")


COMBINE = {"sklearn": MeanProbabilities, "keras": mean_network}  # flavor -> one model of the members


class Ensemble:
    """Fitted classifiers whose probabilities are averaged; fitted as made."""

    def __init__(self, members: list[Classifier]):
        self.members, self.flavor = members, members[0].flavor
        self.estimator = COMBINE[self.flavor]([member.estimator for member in members])

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """The mean of the members' probabilities."""
        return np.mean([member.predict_proba(x) for member in self.members], axis=0)

    def params(self) -> dict:
        """How many members it averages."""
        return {"members": len(self.members)}

    def size(self) -> dict[str, float]:
        """The members' sizes added up."""
        sizes = [member.size() for member in self.members]
        return {key: sum(size[key] for size in sizes) for key in sizes[0]}
