"""What a served model accepts, brought into 784-value rows of pixels in [0, 1].

Accepted: 784 pixel columns or values per row (pixels in [0, 1], or 0-255 which is rescaled),
(N, 28, 28) or (N, 28, 28, 1) tensors, and base64-encoded PNG or JPEG images of any size, which are
brought into MNIST form: transparency laid on white, grayscale, light background inverted,
salt-and-pepper noise removed, cropped to the digit, scaled into a 20x20 box and centred by centre
of mass in 28x28. An image with no digit (uniform, blank, or too small for a stroke) is refused.
Anything else raises InputError naming the problem.
"""

import base64
import binascii
import io

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError
from scipy import ndimage

from mnist_mlops.data import N_PIXELS

MAX_ROWS = 10_000  # a larger request is refused (split it)
MAX_IMAGE_BYTES = 4 * 2**20  # one encoded image
IMAGE_COLUMN = "image"
IMAGE_PLACE = "image {}: "  # how the error about one image of a request begins
MIN_SIDE = 8  # pixels; a smaller image cannot hold a stroke, let alone a digit
MIN_CONTRAST = 0.15  # darkest to lightest pixel; below it (blank paper, JPEG noise) there is no ink
PAPER_NOISE_SIGMAS = 3  # noise this far above the paper's level is taken for paper, not ink
MAX_SPECKS = 0.01  # share of lone ink pixels above which an image is salt-and-pepper noise, despeckled
NEIGHBOURS = np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1]])


class InputError(ValueError):
    """A request the model cannot answer, with the reason."""


def digit_box(gray: np.ndarray) -> np.ndarray:
    """Crop a (h, w) ink-high image, with ink, to the rows and columns that hold ink."""
    ink = gray > 0.2 * gray.max()
    rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return gray[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]


def centre_by_mass(digit: np.ndarray) -> np.ndarray:
    """Place a digit of at most 20x20 in a 28x28 frame with its centre of mass at the centre."""
    frame = np.zeros((28, 28), np.float32)
    total = digit.sum()
    rows, columns = np.indices(digit.shape)
    centre_row, centre_column = (rows * digit).sum() / total, (columns * digit).sum() / total
    top = int(np.clip(round(14 - centre_row), 0, 28 - digit.shape[0]))
    left = int(np.clip(round(14 - centre_column), 0, 28 - digit.shape[1]))
    frame[top : top + digit.shape[0], left : left + digit.shape[1]] = digit
    return frame


def check_ink(gray: np.ndarray) -> None:
    """Refuse an image that cannot hold a digit: too small for a stroke, or with no ink at all."""
    if min(gray.shape) < MIN_SIDE:
        height, width = gray.shape
        raise InputError(f"no digit: {width}x{height} pixels cannot hold one (at least {MIN_SIDE}x{MIN_SIDE})")
    if gray.max() - gray.min() < MIN_CONTRAST:
        raise InputError(f"no digit: the image is uniform (brightness {gray.min():.2f} to {gray.max():.2f}), no ink")


def without_paper_noise(gray: np.ndarray) -> np.ndarray:
    """Paper grain and sensor noise taken out: pixels within PAPER_NOISE_SIGMAS robust standard
    deviations of the paper's level (the median: most of a page is paper) become 0, the rest is
    rescaled. A clean image (paper of one level) is returned as it is."""
    level = np.median(gray)
    spread = 1.4826 * np.median(np.abs(gray - level))  # the standard deviation, were the noise normal
    if spread == 0:
        return gray
    floor = min(level + PAPER_NOISE_SIGMAS * spread, 0.5)
    ink = np.percentile(gray[gray > floor], 90) if (gray > floor).any() else 1.0  # noise also spread the ink's level
    return np.clip((gray - floor) / (ink - floor), 0, 1)


def despeckle(gray: np.ndarray) -> np.ndarray:
    """Salt-and-pepper noise removed by a 3x3 median, when more than MAX_SPECKS of the pixels are lone
    ink (no inked neighbour): clean strokes have none, and a median would thin them."""
    ink = gray > 0.5
    specks = ink & (ndimage.convolve(ink.astype(np.int32), NEIGHBOURS, mode="constant") == 0)
    if specks.mean() <= MAX_SPECKS:
        return gray
    smooth = ndimage.median_filter(gray, size=3)
    return smooth if smooth.max() > 0.5 else gray  # the noise was all there was: leave it to check_ink's verdict


def mnist_form(gray: np.ndarray) -> np.ndarray:
    """Bring a (h, w) grayscale image in [0, 1] into MNIST form: a light digit on black, 28x28;
    an image without a digit raises InputError."""
    check_ink(gray)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if border.mean() > 0.5:  # a dark digit on light paper, as people write: invert
        gray = 1.0 - gray
    gray = (gray - gray.min()) / (gray.max() - gray.min())  # grey paper, faint pencil: ink 1, paper 0
    gray = despeckle(without_paper_noise(gray))
    digit = digit_box(gray)
    scale = 20 / max(digit.shape)
    size = (max(1, round(digit.shape[1] * scale)), max(1, round(digit.shape[0] * scale)))
    resized = Image.fromarray((digit * 255).astype(np.uint8)).resize(size, Image.Resampling.LANCZOS)
    return centre_by_mass(np.asarray(resized, np.float32) / 255)


def encode_image(gray: np.ndarray) -> str:
    """A (h, w) grayscale image in [0, 1] as a base64 PNG: what a client sends."""
    stream = io.BytesIO()
    Image.fromarray(np.round(gray * 255).astype(np.uint8)).save(stream, format="PNG")
    return base64.b64encode(stream.getvalue()).decode()


def on_white(image: Image.Image) -> Image.Image:
    """An image with transparency laid on white paper, as a browser shows it; others as they are.
    (Converting to grayscale drops alpha: black strokes on a transparent canvas became all black.)"""
    if image.mode not in ("RGBA", "LA", "PA") and "transparency" not in image.info:
        return image
    rgba = image.convert("RGBA")
    return Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)


def decode_image(encoded) -> np.ndarray:
    """Decode one base64 PNG or JPEG into a 784-value MNIST row."""
    if not isinstance(encoded, (str, bytes)):
        raise InputError(f"expected a base64 string, got {type(encoded).__name__}")
    if len(encoded) > MAX_IMAGE_BYTES * 4 / 3 + 4:
        raise InputError(f"larger than {MAX_IMAGE_BYTES // 2**20} MiB")
    try:
        data = base64.b64decode(encoded, validate=True)
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ("PNG", "JPEG"):
                raise InputError(f"{image.format} is not accepted; send PNG or JPEG")
            gray = np.asarray(on_white(image).convert("L"), np.float32) / 255
    except (binascii.Error, ValueError) as error:
        if isinstance(error, InputError):
            raise
        raise InputError(f"not valid base64 ({error})") from error
    except (UnidentifiedImageError, OSError) as error:
        raise InputError("the bytes are not a PNG or JPEG image") from error
    return mnist_form(gray).reshape(N_PIXELS)


def images_to_rows(encoded: list) -> np.ndarray:
    """Decode base64 images into (n, 784) rows; an error starts with the image's place in the request."""
    rows = []
    for index, item in enumerate(encoded):
        try:
            rows.append(decode_image(item))
        except InputError as error:
            raise InputError(IMAGE_PLACE.format(index) + str(error)) from error
    return np.stack(rows).astype(np.float32)


def numbers_to_rows(values: np.ndarray) -> np.ndarray:
    """Check and reshape numeric pixels into (n, 784) float32 rows in [0, 1]."""
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


def to_rows(model_input) -> np.ndarray:
    """Turn whatever the scoring server parsed from a request into (n, 784) pixel rows."""
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
            return images_to_rows(list(model_input[IMAGE_COLUMN]))
        if model_input.shape[1] != N_PIXELS:
            raise InputError(f"expected 784 pixel columns or one {IMAGE_COLUMN!r} column, got {model_input.shape[1]}")
        return numbers_to_rows(model_input.to_numpy())
    array = np.asarray(model_input)
    if array.dtype.kind in "OUS" and array.ndim == 1 and all(isinstance(item, (str, bytes)) for item in array):
        return images_to_rows(list(array))
    return numbers_to_rows(array)
