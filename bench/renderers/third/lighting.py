"""The room's light: white balance, exposure, vignetting, a gradient, a lamp's hot spot, and shadows."""

import cv2
import numpy as np

from .fields import capsule_mask, enlarge, rotated_box_coords

# Channel gains of light sources relative to daylight, as an unbalanced phone would record them.
WHITE_BALANCE = {
    "neutral": (1.0, 1.0, 1.0),
    "warm": (1.08, 1.0, 0.82),
    "tungsten": (1.15, 0.98, 0.7),
    "cool": (0.9, 1.0, 1.1),
    "shade": (0.88, 0.97, 1.15),
}
# Light fields (brightness, glare, shadows) are drawn at this fraction of the scene's size and enlarged.
FIELD_SCALE = 0.5


def field_shape(shape: tuple[int, int]) -> tuple[int, int]:
    """(height, width) of the light fields of a scene of (height, width) `shape`."""
    return max(8, int(shape[0] * FIELD_SCALE)), max(8, int(shape[1] * FIELD_SCALE))


def illumination(rng: np.random.Generator, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, dict]:
    """A small brightness field (exposure, gradient, vignetting, lamp) and a glare field, with their factors."""
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    x, y = xs / w - 0.5, ys / h - 0.5
    exposure = rng.uniform(0.75, 1.05)
    angle = rng.uniform(0, 2 * np.pi)
    gradient = rng.uniform(0, 0.35)
    field = exposure * (1 + gradient * (x * np.cos(angle) + y * np.sin(angle)))
    vignette = rng.uniform(0, 0.45)
    field *= 1 - vignette * (x**2 + y**2) / 0.5
    glare = np.zeros(shape, np.float32)
    lamp = rng.random() < 0.35
    if lamp:
        cx, cy, radius = rng.uniform(-0.4, 0.4), rng.uniform(-0.4, 0.4), rng.uniform(0.08, 0.3)
        spot = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * radius**2))
        field *= 1 + rng.uniform(0.1, 0.4) * spot
        glare = (rng.uniform(0, 0.5) * spot**3).astype(np.float32)
    factors = {"exposure": round(float(exposure), 3), "vignette": round(float(vignette), 3), "lamp": int(lamp)}
    return field.astype(np.float32), glare, factors


def _towards_middle(rng: np.random.Generator, shape: tuple[int, int], point, spread: float) -> float:
    """An angle (radians) from `point` towards the middle of the frame, give or take `spread`."""
    h, w = shape
    dx, dy = w / 2 - point[0], h / 2 - point[1]
    base = np.arctan2(dy, dx) if np.hypot(dx, dy) > 0.05 * w else rng.uniform(0, 2 * np.pi)
    return float(base + rng.uniform(-spread, spread))


def hard_shadow(rng: np.random.Generator, shape: tuple[int, int], target) -> np.ndarray:
    """The shadow (0-1) of a phone, a hand or a head: a big rounded shape whose edge crosses near `target`."""
    h, w = shape
    # The shadow's edge passes within a short way of the target, on either side: the digit may be in it.
    edge = np.array(target, np.float32) + rng.uniform(-0.12, 0.12, 2) * [w, h]
    # It falls across the middle of the frame, where the sheet is, rather than off its edge.
    u, v = rotated_box_coords(shape, edge, _towards_middle(rng, shape, edge, 1.0))
    depth = np.hypot(w, h)
    half = rng.uniform(0.15, 0.6) * w
    corner = rng.uniform(0.02, 0.15) * w
    # A rounded rectangle from the edge line across the frame and beyond it, its outline anti-aliased.
    dx = np.maximum(np.abs(u - depth / 2) - (depth / 2 - corner), 0)
    dy = np.maximum(np.abs(v) - (half - corner), 0)
    return np.clip(corner - np.hypot(dx, dy) + 0.5, 0, 1).astype(np.float32)


def finger_shadow(rng: np.random.Generator, shape: tuple[int, int], target, finger_px: float) -> np.ndarray:
    """The shadow (0-1) of one or two fingers reaching in across the frame, the tip close beside `target`.

    The finger is between the lamp and the sheet, so its shadow is wider than the finger (`finger_px`).
    """
    h, w = shape
    mask = np.zeros(shape, np.float32)
    finger_px *= rng.uniform(1.2, 2.0)
    # The hand is on the frame's far side from the digit: the finger points out from the middle.
    angle = _towards_middle(rng, shape, target, 1.0) + np.pi
    reach = np.array([np.cos(angle), np.sin(angle)])
    across = np.array([-reach[1], reach[0]])
    tip = np.array(target) - reach * rng.uniform(0.6, 1.6) * finger_px * 1.5 + across * rng.uniform(-1, 1) * finger_px
    for i in range(1 + int(rng.random() < 0.4)):
        start = tip + across * finger_px * 1.1 * i - reach * finger_px * 0.4 * i
        mask = np.maximum(mask, capsule_mask(shape, start, start - reach * 2 * max(w, h), finger_px / 2))
    return mask


def soften(mask: np.ndarray, blur_px: float) -> np.ndarray:
    """A shadow's penumbra: the mask blurred by `blur_px` (field pixels)."""
    return cv2.GaussianBlur(mask, (0, 0), blur_px) if blur_px > 0.3 else mask


def light(img: np.ndarray, field: np.ndarray, shadow: np.ndarray, glare: np.ndarray, gains) -> np.ndarray:
    """Light the frame: brightness times white balance, shadows a little bluer than the light, glare on top."""
    shape = img.shape[:2]
    lit = field[..., None] * np.float32(gains)
    if shadow.any():
        # Shadowed parts are lit by the sky and the room, not the lamp: they keep more blue than red.
        lit *= 1 - shadow[..., None] * np.float32([1.0, 0.97, 0.88])
    img *= enlarge(lit, shape)
    if glare.any():
        g = enlarge(glare, shape)[..., None]
        img += g * (1 - img)
    return img
