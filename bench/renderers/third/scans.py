"""Crops and scans of one digit: pen on white paper, an old low-resolution scanner, faint pencil, marker."""

import io

import cv2
import numpy as np
from PIL import Image

from . import pens
from .fields import grain

# Pen width as a share of the digit's height, by kind: a scan is cropped to the digit, so sizes are relative.
WIDTH_SHARE = {
    "scan-plain": (0.03, 0.08),
    "scan-lowres": (0.05, 0.12),
    "scan-pencil": (0.03, 0.06),
    "scan-marker": (0.12, 0.2),
}
PEN_NAMES = {
    "scan-plain": pens.DARK_PENS,
    "scan-lowres": pens.DARK_PENS,
    "scan-pencil": pens.PENCILS,
    "scan-marker": pens.MARKERS,
}


def _paper(rng: np.random.Generator, shape: tuple[int, int], kind: str) -> np.ndarray:
    """The scanned paper: near white, slightly tinted; greyer with a visible tooth under pencil."""
    level = rng.uniform(0.8, 0.92) if kind == "scan-pencil" else rng.uniform(0.9, 1.0)
    colour = np.float32(level) * (1 + rng.uniform(-0.02, 0.02, 3).astype(np.float32))
    tooth = 0.04 if kind == "scan-pencil" else 0.01
    return (1 + tooth * grain(rng, shape, 1.0))[..., None] * colour


def _write(digit, kind, rng, shape, factors) -> np.ndarray:
    """The digit written roughly centred on the paper with a pen suited to `kind`."""
    h, w = shape
    pen = pens.PENS[str(rng.choice(PEN_NAMES[kind]))]
    line = pens.centre_line(digit, rng)
    height = rng.uniform(0.5, 0.8) * h
    width = max(0.8, rng.uniform(*WIDTH_SHARE[kind]) * height)
    alpha, (px, py) = pens.stroke_alpha(line, height, width, pen, rng)
    ink_w = (line.box[2] - line.box[0]) * height / max(line.box[3] - line.box[1], 1.0)
    x = (w - ink_w) / 2 + rng.uniform(-0.06, 0.06) * w - px
    y = (h - height) / 2 + rng.uniform(-0.06, 0.06) * h - py
    img = _paper(rng, shape, kind)
    pens.ink_onto(img, alpha, (int(round(x)), int(round(y))), pen.colour)
    factors.update(ink=pen.name, stroke_px=round(float(width), 2))
    return img


def _tilt(img: np.ndarray, degrees: float) -> np.ndarray:
    """The page a little crooked on the glass."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _old_scanner(img: np.ndarray, rng: np.random.Generator, factors: dict) -> np.ndarray:
    """Grey, down to 8-16 pixels across and back up, blurred, strokes thickened or thinned, few grey levels."""
    h, w = img.shape[:2]
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    cells = int(rng.integers(8, 17))
    tiny = cv2.resize(grey, (cells, max(2, round(cells * h / w))), interpolation=cv2.INTER_AREA)
    way_up = int(rng.choice([cv2.INTER_NEAREST, cv2.INTER_LINEAR, cv2.INTER_CUBIC]))
    grey = cv2.GaussianBlur(cv2.resize(tiny, (w, h), interpolation=way_up), (0, 0), rng.uniform(0.5, 3.0))
    change = int(rng.integers(-1, 3)) * max(1, w // 80)
    if change:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(change) + 1, 2 * abs(change) + 1))
        # The ink is dark: eroding the bright paper thickens it, dilating thins it.
        grey = cv2.erode(grey, kernel) if change > 0 else cv2.dilate(grey, kernel)
    levels = int(rng.choice([4, 8, 16, 256]))
    grey = np.round(np.clip(grey, 0, 1) * (levels - 1)) / (levels - 1)
    factors.update(resolution=cells, thickening=change, grey_levels=levels)
    return grey


def _encode(img: np.ndarray, rng: np.random.Generator, kind: str, factors: dict) -> bytes:
    """PNG or JPEG bytes of a float image (grey or RGB); pencil scans are always JPEG."""
    pixels = np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    if kind == "scan-pencil" or rng.random() < 0.4:
        quality = int(rng.integers(60, 96))
        Image.fromarray(pixels).save(buf, "JPEG", quality=quality)
        factors.update(format="jpeg", quality=quality)
    else:
        Image.fromarray(pixels).save(buf, "PNG")
        factors["format"] = "png"
    return buf.getvalue()


def render_scan(digit: np.ndarray, kind: str, rng: np.random.Generator) -> tuple[bytes, dict]:
    """Bytes of a 100-400 px crop or scan of the digit, and the factors it was drawn with."""
    side = int(rng.integers(100, 401))
    shape = (side, int(np.clip(side * rng.uniform(0.8, 1.2), 100, 400)))
    factors: dict = {"background": "scanned_paper"}
    img = _write(digit, kind, rng, shape, factors)
    rotation = float(rng.uniform(-5, 5))
    blur = float(rng.uniform(0, 0.9))
    img = _tilt(img, rotation)
    img = cv2.GaussianBlur(img, (0, 0), blur) if blur > 0.3 else img
    factors.update(rotation=round(rotation, 3), blur=round(blur, 3))
    if kind == "scan-lowres":
        img = _old_scanner(img, rng, factors)
    img = img + grain(rng, img.shape, 1.0) * rng.uniform(0.003, 0.02)
    return _encode(img, rng, kind, factors), factors
