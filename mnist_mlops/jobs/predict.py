"""Predicting the digits in local image files with a registered or logged model."""

import base64
from pathlib import Path

import mlflow
import pandas as pd

from mnist_mlops import tracking
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.serving.inputs import IMAGE_COLUMN


def predict_files(paths: list[str], model_uri: str) -> pd.DataFrame:
    """Return file, digit and probabilities for each image, as the served model answers."""
    tracking.use_tracking_uri()
    encoded = [base64.b64encode(Path(path).read_bytes()).decode() for path in paths]
    try:
        model = mlflow.pyfunc.load_model(model_uri)
        answer = model.predict(pd.DataFrame({IMAGE_COLUMN: encoded}))
    except mlflow.exceptions.MlflowException as error:
        raise MnistMlopsError(f"{model_uri}: {error.message}") from error
    return pd.DataFrame({"file": paths, "digit": answer["digit"], "probabilities": answer["probabilities"]})
