"""A third renderer of the pictures users send: phone photos of a handwritten digit on a sheet, and scans.

Written apart from the tuning and held-out renderers so that constants are chosen on pictures by more than
one author. `render(digit, kind, rng, size)` gives the file's bytes and the factors it was drawn with.
"""

import numpy as np

from .frames import render_frame
from .scans import render_scan

KINDS = (
    "frame-plain",
    "frame-pencil",
    "frame-form_box",
    "frame-squared",
    "frame-ruled",
    "frame-shadow",
    "frame-finger_shadow",
    "frame-coloured",
    "frame-crumpled",
    "frame-empty",
    "frame-nosheet",
    "scan-plain",
    "scan-lowres",
    "scan-pencil",
    "scan-marker",
)
WITHOUT_DIGIT = ("frame-empty", "frame-nosheet")
MIN_SIDE = 300  # the smallest frame width drawn; the usual sizes are 1200x1600 and 3000x4000


def _checked_digit(digit, kind: str) -> np.ndarray | None:
    """The digit as float32, or None for kinds drawn without one; ValueError if it is not a 28x28 image."""
    if kind in WITHOUT_DIGIT:
        return None
    if digit is None:
        raise ValueError(f"{kind} needs a digit; only {', '.join(WITHOUT_DIGIT)} are drawn without one")
    array = np.asarray(digit)
    if array.shape != (28, 28) or not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"digit must be a 28x28 numeric array, got shape {array.shape} of {array.dtype}")
    array = array.astype(np.float32)
    if not np.all(np.isfinite(array)) or array.min() < 0 or array.max() > 1:
        raise ValueError("digit values must be finite and within 0-1 (ink 1.0 on background 0.0)")
    if array.max() < 0.25:
        raise ValueError("digit has no ink: its largest value is below 0.25")
    return array


def _checked_size(size) -> tuple[int, int]:
    """(width, height) of a portrait frame as ints; ValueError otherwise."""
    width, height = (int(side) for side in size)
    if not MIN_SIDE <= width <= height:
        raise ValueError(f"size must be (width, height) of a portrait frame at least {MIN_SIDE} px wide; got {size!r}")
    return width, height


def _plain(factors: dict) -> dict:
    """Factors as plain Python str, int and float (NumPy scalars unwrapped, floats rounded)."""
    plain = {}
    for key, value in factors.items():
        value = value.item() if isinstance(value, np.generic) else value
        plain[key] = round(value, 4) if isinstance(value, float) else value
    return plain


def render(digit: np.ndarray | None, kind: str, rng: np.random.Generator, size=(1200, 1600)) -> tuple[bytes, dict]:
    """The file a user sends (JPEG bytes for frames; PNG or JPEG for scans) and the factors it was drawn with."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    checked = _checked_digit(digit, kind)
    if kind.startswith("scan-"):
        data, factors = render_scan(checked, kind, rng)
    else:
        data, factors = render_frame(checked, kind, rng, _checked_size(size))
    return data, _plain(factors)
