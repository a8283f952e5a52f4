"""Predicting the digits in local image files with a registered or logged model."""

import base64
from pathlib import Path

import mlflow
import pandas as pd

from mnist_mlops import tracking
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.serving.inputs import IMAGE_COLUMN, IMAGE_PLACE


def predict_files(paths: list[str], model_uri: str) -> pd.DataFrame:
    """Return file, digit and probabilities for each image, as the served model answers."""
    tracking.use_tracking_uri()
    try:
        model = mlflow.pyfunc.load_model(model_uri)
    except mlflow.exceptions.MlflowException as error:
        raise MnistMlopsError(f"cannot load {model_uri}: {error.message}") from error
    answers = pd.concat([predict_file(model, path) for path in paths], ignore_index=True)
    return pd.DataFrame({"file": paths, "digit": answers["digit"], "probabilities": answers["probabilities"]})


def predict_file(model, path: str) -> pd.DataFrame:
    """The model's answer for one image file; a file it refuses is an error naming the file."""
    encoded = base64.b64encode(Path(path).read_bytes()).decode()
    try:
        return model.predict(pd.DataFrame({IMAGE_COLUMN: [encoded]}))
    except mlflow.exceptions.MlflowException as error:
        raise MnistMlopsError(f"{path}: {error.message.removeprefix(IMAGE_PLACE.format(0))}") from error
