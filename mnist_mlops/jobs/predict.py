"""Predicting the digits in local image files with a registered or logged model."""

import base64
from pathlib import Path

import pandas as pd

from mnist_mlops import tracking
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.serving.inputs import IMAGE_COLUMN
from mnist_mlops.serving.model import answer, load_served


def predict_files(paths: list[str], model_uri: str) -> pd.DataFrame:
    """Return file, digit and probabilities for each image, as the served model answers."""
    tracking.use_tracking_uri()
    model = load_served(model_uri)
    answers = pd.concat([predict_file(model, path) for path in paths], ignore_index=True)
    return pd.DataFrame({"file": paths, "digit": answers["digit"], "probabilities": answers["probabilities"]})


def predict_file(model, path: str) -> pd.DataFrame:
    """The model's answer for one image file; a file it refuses is an error naming the file."""
    encoded = base64.b64encode(Path(path).read_bytes()).decode()
    try:
        return answer(model, pd.DataFrame({IMAGE_COLUMN: [encoded]}))
    except MnistMlopsError as error:
        raise MnistMlopsError(f"{path}: {error}") from error
