"""Reading the digits in local image files with a registered or logged model."""

import base64
from pathlib import Path

import pandas as pd
from PIL import Image, ImageDraw, ImageOps

from mnist_mlops import tracking
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.serving.inputs import image_requests
from mnist_mlops.serving.model import answer, load_served

OUTLINE_SIDE = 1200  # pixels: the outlined frame saved to show is at most this large


def predict_files(paths: list[str], model_uri: str, show: str | None = None) -> pd.DataFrame:
    """Return file, number and digits (each with its probabilities and box) for each image, as the
    served model answers; to show, save the sheet found, each digit's crop and the 28x28 image the model saw."""
    tracking.use_tracking_uri()
    model = load_served(model_uri)
    answers = pd.concat([predict_file(model, path, show is not None) for path in paths], ignore_index=True)
    if show is not None:
        sheets = answers["sheet"] if "sheet" in answers else [None] * len(paths)
        for path, digits, sheet in zip(paths, answers["digits"], sheets, strict=True):
            save_seen(Path(path), digits, sheet, Path(show))
    return pd.DataFrame({"file": paths, "number": answers["number"], "digits": answers["digits"]})


def predict_file(model, path: str, show: bool) -> pd.DataFrame:
    """The model's answer for one image file; a file it refuses is an error naming the file."""
    try:
        return answer(model, image_requests([Path(path).read_bytes()]), {"show": show})
    except MnistMlopsError as error:
        raise MnistMlopsError(f"{path}: {error}") from error


def save_seen(path: Path, digits: list[dict], sheet: list[list[int]] | None, folder: Path) -> None:
    """Save what the model saw in an image: the sheet it found outlined on the frame ({stem}-sheet.png,
    for a whole frame), and per digit the crop it took ({stem}-{n}-crop.png) and the 28x28 image it was
    given ({stem}-{n}-seen.png)."""
    folder.mkdir(parents=True, exist_ok=True)
    with Image.open(path) as opened:
        image = ImageOps.exif_transpose(opened).convert("RGB")  # boxes are in the upright picture's pixels
    if sheet is not None:
        outlined = image.copy()
        ImageDraw.Draw(outlined).polygon([tuple(corner) for corner in sheet], outline=(230, 30, 30),
                                         width=max(3, max(image.size) // 200))  # fmt: skip
        outlined.thumbnail((OUTLINE_SIDE, OUTLINE_SIDE))
        outlined.save(folder / f"{path.stem}-sheet.png")
    for number, digit in enumerate(digits, start=1):
        left, top, width, height = digit["box"]
        image.crop((left, top, left + width, top + height)).save(folder / f"{path.stem}-{number}-crop.png")
        (folder / f"{path.stem}-{number}-seen.png").write_bytes(base64.b64decode(digit["seen"]))
