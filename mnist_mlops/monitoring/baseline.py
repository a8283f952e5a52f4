"""A version's baseline: its own answers on validation images, recorded when it is registered, which
`monitor` compares each window's answers of that version with."""

import numpy as np
import pandas as pd

from mnist_mlops.monitoring.images import FEATURES, SIDE, features
from mnist_mlops.serving.inference_log import ANSWER_DECIMALS

BASELINE = "monitoring_baseline.json"  # the table on the version's source run (mlflow.log_table)
BASELINE_IMAGES = 2000  # validation images answered: enough to see a shift of a few points in any measure


def baseline(proba: np.ndarray, pixels: np.ndarray) -> pd.DataFrame:
    """A version's answers (ten probabilities each) to rows of pixels in [0, 1], one row each: the digit, its
    confidence (top probability) and what the image looks like (images.FEATURES), as the log records them."""
    seen = np.round(pixels * 255).astype(np.uint8).reshape(-1, SIDE, SIDE)  # as the log keeps what a model saw
    table = pd.DataFrame({"digit": proba.argmax(axis=1), "confidence": np.round(proba.max(axis=1), ANSWER_DECIMALS)})
    return table.assign(**dict(zip(FEATURES, features(seen).T, strict=True)))
