"""scikit-learn baseline families: each a Pipeline whose hyperparameters are set_params() names
(`clf__C`), wrapped in the one Classifier interface.

Adding a baseline is one `register(sklearn_family(...))` here (or in your own module) plus its test.
"""

import numpy as np

from mnist_mlops.data import N_CLASSES
from mnist_mlops.models.family import Epochs, Family, register


class PipelineClassifier:
    """A scikit-learn Pipeline behind the Classifier interface; fits in one go on the training split."""

    flavor = "sklearn"

    def __init__(self, pipeline):
        self.estimator = pipeline

    def fit(self, train, val, on_epoch_end) -> Epochs:
        """Fit on train (val and on_epoch_end have nothing to steer in a one-go fit)."""
        self.estimator.fit(train.x, train.y)
        if list(self.estimator.classes_) != list(range(N_CLASSES)):
            raise ValueError(f"the training split lacks some digits: classes are {list(self.estimator.classes_)}")
        return Epochs()

    def params(self) -> dict:
        """Every set_params() name of the pipeline with its value."""
        return self.estimator.get_params()

    def size(self) -> dict[str, float]:
        """No size metrics: a pipeline's size is not comparable across kinds."""
        return {}

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Return the (n, 10) class probabilities."""
        return self.estimator.predict_proba(x)


def sklearn_family(name: str, steps, fields=None, space=None, key_params=()) -> Family:
    """A family whose model is Pipeline(steps(seed)) with the hyperparameters applied by set_params."""

    def build(params: dict, seed: int) -> PipelineClassifier:
        from sklearn.pipeline import Pipeline

        return PipelineClassifier(Pipeline(steps(seed)).set_params(**params))

    return Family(name, "sklearn", build, fields or {}, space or {}, tuple(key_params))


def dummy_steps(seed: int) -> list:
    """Predict the class prior: the floor every real model must beat."""
    from sklearn.dummy import DummyClassifier

    return [("clf", DummyClassifier(strategy="prior", random_state=seed))]


def logreg_steps(seed: int) -> list:
    """Multinomial logistic regression on raw scaled pixels (lbfgs)."""
    from sklearn.linear_model import LogisticRegression

    return [("clf", LogisticRegression(random_state=seed))]


def knn_steps(seed: int) -> list:
    """k nearest neighbours after PCA: 50 components keep the digit shapes, drop pixel noise,
    and make the 10,000 test predictions about 7x faster than on raw pixels."""
    from sklearn.decomposition import PCA
    from sklearn.neighbors import KNeighborsClassifier

    return [("pca", PCA(n_components=50, random_state=seed)), ("clf", KNeighborsClassifier(n_jobs=-1))]


def rf_steps(seed: int) -> list:
    """Random forest on raw pixels, on every core."""
    from sklearn.ensemble import RandomForestClassifier

    return [("clf", RandomForestClassifier(n_jobs=-1, random_state=seed))]


register(sklearn_family("dummy", dummy_steps))
register(
    sklearn_family(
        "logreg",
        logreg_steps,
        fields={"C": "clf__C", "max_iter": "clf__max_iter"},
        space={"clf__C": ("loguniform", 1e-3, 1e2)},  # max_iter only needs to let lbfgs converge
        key_params=("clf__C",),
    )
)
register(
    sklearn_family(
        "knn",
        knn_steps,
        fields={
            "k": "clf__n_neighbors",
            "weights": "clf__weights",
            "metric": "clf__metric",
            "pca_components": "pca__n_components",
        },
        space={
            "clf__n_neighbors": ("int", 1, 15, 1),
            "clf__weights": ("choice", ["uniform", "distance"]),
            "clf__metric": ("choice", ["euclidean", "manhattan", "cosine"]),
            "pca__n_components": ("int", 10, 120, 10),
        },
        key_params=("clf__n_neighbors", "clf__weights", "pca__n_components"),
    )
)
register(
    sklearn_family(
        "rf",
        rf_steps,
        fields={"n_estimators": "clf__n_estimators", "max_depth": "clf__max_depth"},
        space={
            "clf__n_estimators": ("int", 50, 300, 25),
            "clf__max_depth": ("choice", [None, 10, 20, 40]),
            "clf__max_features": ("choice", ["sqrt", "log2", 0.05, 0.1]),
            "clf__min_samples_leaf": ("int", 1, 5, 1),
        },
        key_params=("clf__n_estimators", "clf__max_depth"),
    )
)
