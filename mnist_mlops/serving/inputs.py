"""What a served model accepts, brought into 784-value rows of pixels in [0, 1].

Accepted: 784 pixel columns or values per row (pixels in [0, 1], or 0-255 which is rescaled), one
column of 784-value arrays (as Spark passes an array column),
(N, 28, 28) or (N, 28, 28, 1) tensors, and base64-encoded images of any size in the formats
people send (serving/decoding.py). An image's digits (one, or a number's several) are found on the
sheet or the paper and brought into MNIST form (serving/frames.py); an image without a digit is
refused. Anything else raises InputError naming the
problem.
"""

import base64
import binascii
import io
from dataclasses import dataclass

import numpy as np
import pandas as pd
from PIL import Image

from mnist_mlops.data import N_PIXELS
from mnist_mlops.serving.decoding import DecodeError, decode
from mnist_mlops.serving.frames import Reading, read_picture
from mnist_mlops.serving.images import Digit, InputError

MAX_ROWS = 10_000  # a larger request is refused (split it)
MAX_IMAGE_BYTES = 20 * 2**20  # one encoded image: a 48-megapixel phone's JPEG
IMAGE_COLUMN = "image"
IMAGE_PLACE = "image {}: "  # how the error about one image of a request begins


@dataclass(frozen=True)
class Rows:
    """A request as the classifier takes it: one row of pixels per digit."""

    pixels: np.ndarray  # (m, 784) float32 in [0, 1]
    digits: list[list[Digit]] | None  # an image request's digits, per image left to right; None for pixels
    refused: list[str] | None = None  # per image, why it was refused ("" if not), when refusals are answered
    sheets: list | None = None  # per image, the corners of the sheet its digits were found on (None for a crop)


def encode_image(gray: np.ndarray) -> str:
    """A (h, w) grayscale image in [0, 1] as a base64 PNG: what a client sends."""
    stream = io.BytesIO()
    Image.fromarray(np.round(gray * 255).astype(np.uint8)).save(stream, format="PNG")
    return base64.b64encode(stream.getvalue()).decode()


def image_requests(images: list) -> pd.DataFrame:
    """Encoded images (PNG or JPEG bytes) as a request of the image column, base64 as clients send them
    (base64 text, and anything else, is sent as it is: the model answers what it cannot read)."""
    encoded = [base64.b64encode(image).decode() if isinstance(image, bytes) else image for image in images]
    return pd.DataFrame({IMAGE_COLUMN: pd.Series(encoded, dtype=object)})  # None stays None


def decode_image(encoded) -> Reading:
    """Decode one base64 image and read its digits."""
    if encoded is None:
        raise InputError("no image (null)")
    if not isinstance(encoded, (str, bytes)):
        raise InputError(f"expected a base64 string, got {type(encoded).__name__}")
    if len(encoded) > MAX_IMAGE_BYTES * 4 / 3 + 4:
        raise InputError(f"larger than {MAX_IMAGE_BYTES // 2**20} MiB")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise InputError(f"not valid base64 ({error})") from error
    try:
        return read_picture(decode(data))
    except DecodeError as error:
        raise InputError(str(error)) from error


def images_to_rows(encoded: list, answer_refused: bool = False) -> Rows:
    """Decode base64 images and find their digits. A refused image fails the request with its place
    in it, or, to answer refusals, has no digits and its reason."""
    digits, refused, sheets = [], [], []
    for index, item in enumerate(encoded):
        try:
            reading = decode_image(item)
            digits.append(reading.digits)
            sheets.append(reading.sheet)
            refused.append("")
        except InputError as error:
            if not answer_refused:
                raise InputError(IMAGE_PLACE.format(index) + str(error)) from error
            digits.append([])
            sheets.append(None)
            refused.append(str(error))
    each = [digit.pixels.reshape(N_PIXELS) for found in digits for digit in found]
    pixels = np.stack(each) if each else np.zeros((0, N_PIXELS))
    return Rows(pixels.astype(np.float32), digits, refused if answer_refused else None, sheets)


def numbers_to_rows(values: np.ndarray) -> np.ndarray:
    """Check and reshape numeric pixels into (n, 784) float32 rows in [0, 1]."""
    kind = np.asarray(values).dtype.kind
    if kind == "b" or (kind == "O" and any(isinstance(value, (bool, np.bool_)) for value in np.ravel(values))):
        raise InputError("pixel values must be numbers, not true or false")
    try:
        values = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InputError(f"pixel values must be numbers ({error})") from error
    if values.ndim == 4 and values.shape[-1] == 1:
        values = values[..., 0]
    if values.ndim == 3 and values.shape[1:] == (28, 28):
        values = values.reshape(len(values), N_PIXELS)
    if values.ndim != 2 or values.shape[1] != N_PIXELS:
        raise InputError(f"expected rows of 784 pixels or 28x28 images, got shape {values.shape}")
    if not np.isfinite(values).all():
        row = int(np.flatnonzero(~np.isfinite(values).all(axis=1))[0])
        raise InputError(f"row {row} holds NaN or infinity")
    if values.min() < 0 or values.max() > 255:
        raise InputError(f"pixels must be in [0, 1] or [0, 255]; got {values.min():g} to {values.max():g}")
    if values.max() > 1:
        values = values / 255
    return values.astype(np.float32)


def stacked(column: pd.Series) -> np.ndarray:
    """A column of 784-value arrays (Spark's arrays, Parquet's lists) as rows; a clear error if ragged."""
    try:
        return np.stack([np.asarray(value) for value in column])
    except ValueError as error:
        raise InputError(f"every array of the column must hold 784 pixels ({error})") from error


def to_rows(model_input, answer_refused: bool = False) -> Rows:
    """Turn whatever the scoring server parsed from a request into pixel rows, one per digit; a
    refused image fails the request unless refusals are answered."""
    if isinstance(model_input, dict):
        if set(model_input) != {IMAGE_COLUMN}:
            raise InputError(f"a named input must be {IMAGE_COLUMN!r}, got {sorted(model_input)}")
        model_input = pd.DataFrame({IMAGE_COLUMN: list(np.atleast_1d(model_input[IMAGE_COLUMN]))})
    if isinstance(model_input, list):
        model_input = np.asarray(model_input, dtype=object)
    size = len(model_input)
    if size == 0:
        raise InputError("the request holds no rows")
    if size > MAX_ROWS:
        raise InputError(f"the request holds {size} rows; send at most {MAX_ROWS} at a time")
    if isinstance(model_input, pd.DataFrame):
        if list(model_input.columns) == [IMAGE_COLUMN]:
            return images_to_rows(list(model_input[IMAGE_COLUMN]), answer_refused)
        if model_input.shape[1] == 1 and isinstance(model_input.iloc[0, 0], (list, tuple, np.ndarray)):
            return Rows(numbers_to_rows(stacked(model_input.iloc[:, 0])), None)
        if model_input.shape[1] != N_PIXELS:
            raise InputError(f"expected 784 pixel columns or one {IMAGE_COLUMN!r} column, got {model_input.shape[1]}")
        return Rows(numbers_to_rows(model_input.to_numpy()), None)
    array = np.asarray(model_input)
    if array.dtype.kind in "OUS" and array.ndim == 1 and all(isinstance(item, (str, bytes)) for item in array):
        return images_to_rows(list(array), answer_refused)
    return Rows(numbers_to_rows(array), None)
