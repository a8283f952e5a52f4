"""Logged models: any fitted classifier in its MLflow flavour."""

import zipfile
from importlib.metadata import PackageNotFoundError, packages_distributions, version
from pathlib import Path
from types import SimpleNamespace

import mlflow
import numpy as np
from mlflow.models import Model, infer_signature

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


def save_compressed_sklearn(path: str, mlflow_model: Model, sk_model, **options) -> None:
    """mlflow.sklearn.save_model, its skops file then written again compressed (skops reads it as it
    is). MLflow stores it uncompressed: 256 MiB for the 200-tree forest, which bzip2 makes 24 MiB
    (deflate 36 MiB; bench/results/forest.md)."""
    import skops.io

    mlflow.sklearn.save_model(sk_model, path, mlflow_model=mlflow_model, **options)
    model_file = Path(path) / mlflow_model.flavors["sklearn"]["pickled_model"]
    skops.io.dump(sk_model, model_file, compression=zipfile.ZIP_BZIP2)


# MLflow's sklearn flavour as Model.log saves it, with the skops file compressed.
COMPRESSED_SKLEARN = SimpleNamespace(__name__="mlflow.sklearn", save_model=save_compressed_sklearn)


def log_sklearn_model(model, example: np.ndarray, name: str) -> str:
    """Log a fitted pipeline as name with its signature and an input example; return the model URI."""
    signature = infer_signature(example, model.predict(example))
    info = Model.log(
        artifact_path=None,
        flavor=COMPRESSED_SKLEARN,
        sk_model=model,
        serialization_format="skops",
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
