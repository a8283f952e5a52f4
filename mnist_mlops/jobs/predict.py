"""Reading the digits in local image files with a registered or logged model."""

import base64
from pathlib import Path

import pandas as pd
from PIL import Image

from mnist_mlops import tracking
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.serving.inputs import image_requests
from mnist_mlops.serving.model import answer, load_served


def predict_files(paths: list[str], model_uri: str, show: str | None = None) -> pd.DataFrame:
    """Return file, number and digits (each with its probabilities and box) for each image, as the
    served model answers; to show, save each digit's crop and the 28x28 image the model saw there."""
    tracking.use_tracking_uri()
    model = load_served(model_uri)
    answers = pd.concat([predict_file(model, path, show is not None) for path in paths], ignore_index=True)
    if show is not None:
        for path, digits in zip(paths, answers["digits"], strict=True):
            save_seen(Path(path), digits, Path(show))
    return pd.DataFrame({"file": paths, "number": answers["number"], "digits": answers["digits"]})


def predict_file(model, path: str, show: bool) -> pd.DataFrame:
    """The model's answer for one image file; a file it refuses is an error naming the file."""
    try:
        return answer(model, image_requests([Path(path).read_bytes()]), {"show": show})
    except MnistMlopsError as error:
        raise MnistMlopsError(f"{path}: {error}") from error


def save_seen(path: Path, digits: list[dict], folder: Path) -> None:
    """Save, per digit of an image, the crop the model took ({stem}-{n}-crop.png) and the 28x28 image
    it was given ({stem}-{n}-seen.png)."""
    folder.mkdir(parents=True, exist_ok=True)
    with Image.open(path) as image:
        for number, digit in enumerate(digits, start=1):
            left, top, width, height = digit["box"]
            image.crop((left, top, left + width, top + height)).save(folder / f"{path.stem}-{number}-crop.png")
            (folder / f"{path.stem}-{number}-seen.png").write_bytes(base64.b64decode(digit["seen"]))
