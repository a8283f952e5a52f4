"""From the bytes a client sends to an upright grayscale image of a bounded size.

Pillow reads the formats people send (PNG of any depth, palette and alpha; JPEG, its EXIF
orientation and CMYK; WebP, GIF's first frame, TIFF, BMP). A phone's frame is reduced as it is
decoded: a JPEG straight to 1/2, 1/4 or 1/8 of its size (its DCT scaling, nearly free), any other
format after decoding, so that the work after it does not grow with the camera. What cannot be read
is refused with what to do instead.
"""

import io
import re
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED = ("PNG", "JPEG", "MPO", "WEBP", "GIF", "TIFF", "BMP")  # MPO: a phone's JPEG with a second picture
NAMES = "PNG, JPEG, WebP, GIF, TIFF or BMP"
MAX_PIXELS = 50_000_000  # a 48-megapixel phone's frame; more is refused before it is decoded
DECODED_SIDE = 1200  # pixels of the short side kept: a digit 8% of a sheet 30% of the frame stays 50+ tall
HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"heim", b"heis")


class DecodeError(ValueError):
    """Bytes that are not an image this path reads, with what to do."""


@dataclass(frozen=True)
class Picture:
    """An upright grayscale image and how much smaller it is than the picture sent."""

    gray: np.ndarray  # (h, w) float32 in [0, 1]
    scale: float  # the picture's pixels per pixel of gray (1 unless it was reduced)


def refuse_heif(data: bytes) -> None:
    """Refuse an iPhone's HEIC (or an AVIF) by its file type box: Pillow reads neither."""
    if data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS:
        raise DecodeError("HEIC/HEIF is not accepted: convert it to JPEG or PNG (on an iPhone: Settings > Camera > "
                          "Formats > Most Compatible)")  # fmt: skip


def opened(data: bytes) -> Image.Image:
    """The image's header read and checked: an accepted format of at most MAX_PIXELS pixels."""
    refuse_heif(data)
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as error:
        found = re.search(r"\((\d+) pixels\)", str(error))
        pixels = f"{int(found.group(1)):,} pixels" if found else "its size"
        raise DecodeError(f"{pixels} are more than the {MAX_PIXELS:,} accepted (a decompression bomb?)") from error
    except (UnidentifiedImageError, OSError) as error:
        raise DecodeError(f"the bytes are not an image ({NAMES})") from error
    if image.format not in ACCEPTED:
        raise DecodeError(f"{image.format} is not accepted: convert it to JPEG or PNG")
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise DecodeError(f"{width}x{height} is more than the {MAX_PIXELS:,} pixels accepted: send a smaller picture")
    return image


def grayscale(image: Image.Image) -> np.ndarray:
    """Any mode's pixels as brightness in [0, 1]: transparency laid on white paper, as a browser shows it,
    16- and 32-bit depths scaled by their range (Pillow's own conversion to 8 bits clips them)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        pixels = np.asarray(image, np.float32)
        return pixels / (65535 if image.mode != "I" or pixels.max() > 255 else 255)
    if image.mode == "F":
        return np.clip(np.asarray(image, np.float32), 0, 1)
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
    return np.asarray(image.convert("L"), np.float32) / 255


def decode(data: bytes) -> Picture:
    """Decode an image, upright (its EXIF orientation applied), reduced to DECODED_SIDE on its short side."""
    image = opened(data)
    try:
        width, height = image.size
        if image.format in ("JPEG", "MPO"):  # decoded at the smallest 1/2^k scale still above the working size
            shrink = max(1.0, min(width, height) / DECODED_SIDE)
            mode = "L" if image.mode in ("L", "RGB") else image.mode  # brightness only: the JPEG's Y channel
            image.draft(mode, (round(width / shrink), round(height / shrink)))
        scale = width / image.size[0]
        image = ImageOps.exif_transpose(image)
        gray = grayscale(image)
    except (OSError, SyntaxError, ValueError) as error:  # Pillow's truncated and corrupt data
        raise DecodeError(f"the {image.format} file is truncated or corrupt ({error})") from error
    shrink = min(gray.shape) / DECODED_SIDE
    if shrink > 1:
        gray = cv2.resize(gray, None, fx=1 / shrink, fy=1 / shrink, interpolation=cv2.INTER_AREA)
        scale *= shrink
    return Picture(gray, scale)
