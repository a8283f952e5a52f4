"""Logged models: any fitted classifier in its MLflow flavour."""

from importlib.metadata import PackageNotFoundError, packages_distributions, version

import mlflow
import numpy as np
from mlflow.models import infer_signature

from mnist_mlops.models import Classifier

# skops (MLflow's sklearn format) refuses types it cannot vouch for; reviewed: the tree node storage
# of the forests we fit ourselves, and our own ensemble and temperature around pipelines.
SKOPS_TRUSTED_TYPES = [
    "sklearn.tree._tree.Tree",
    "mnist_mlops.models.ensemble.MeanProbabilities",
    "mnist_mlops.models.calibrated.Tempered",
]
SKLEARN_REQUIREMENTS = ("mlflow", "scikit-learn", "skops", "numpy", "scipy", "pandas")
KERAS_REQUIREMENTS = ("mlflow", "tensorflow", "keras", "numpy", "pandas")


def distribution(package: str) -> str:
    """The installed distribution that provides package: tensorflow may come as tensorflow-cpu."""
    try:
        version(package)
    except PackageNotFoundError:
        return packages_distributions().get(package, [package])[0]
    return package


def pinned(packages: tuple[str, ...]) -> list[str]:
    """Return 'name==version' of each installed package: exact, and seconds faster than inference."""
    return [f"{name}=={version(name)}" for name in map(distribution, packages)]


def log_sklearn_model(model, example: np.ndarray, name: str) -> str:
    """Log a fitted pipeline as name with its signature and an input example; return the model URI."""
    signature = infer_signature(example, model.predict(example))
    info = mlflow.sklearn.log_model(
        model,
        name=name,
        signature=signature,
        input_example=example,
        pip_requirements=pinned(SKLEARN_REQUIREMENTS),
        skops_trusted_types=SKOPS_TRUSTED_TYPES,
    )
    return info.model_uri


def log_keras_model(model, example: np.ndarray, name: str) -> str:
    """Log a Keras network as name with its signature and an input example; return the model URI.

    mlflow.tensorflow, not mlflow.keras: in MLflow 3.17 the latter writes the input example
    before it creates the model folder and fails.
    """
    import keras

    signature = infer_signature(example, model.predict(example, verbose=0))
    keras.utils.disable_interactive_logging()  # MLflow checks the input example with a default predict()
    try:
        info = mlflow.tensorflow.log_model(
            model, name=name, signature=signature, input_example=example, pip_requirements=pinned(KERAS_REQUIREMENTS)
        )
    finally:
        keras.utils.enable_interactive_logging()
    return info.model_uri


FLAVORS = {"sklearn": log_sklearn_model, "keras": log_keras_model}  # Classifier.flavor -> how to log it


def log_model(classifier: Classifier, example: np.ndarray, name: str) -> str:
    """Log a fitted classifier's model in its flavour on the active run as name (models.model_name);
    return the model URI."""
    return FLAVORS[classifier.flavor](classifier.estimator, example, name)
