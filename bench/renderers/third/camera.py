"""The phone: where the sheet lands in the frame, then focus, shake, sensor noise, sharpening and the JPEG."""

import io

import cv2
import numpy as np
from PIL import Image

from .fields import grain

# EXIF Orientation tag values and the turn that stores an upright frame for each: a reader applying the tag
# turns the stored pixels back upright (6: turn clockwise to view, so stored anticlockwise; 8 the reverse).
ORIENTATION_TURNS = {3: cv2.ROTATE_180, 6: cv2.ROTATE_90_COUNTERCLOCKWISE, 8: cv2.ROTATE_90_CLOCKWISE}
ORIENTATION_TAG = 0x0112


def _tilted_rectangle(rng: np.random.Generator, aspect: float, tilt_deg: float) -> np.ndarray:
    """Corners (4x2) of a width-`aspect`, height-1 rectangle seen by a pinhole camera tilted by `tilt_deg`."""
    corners = np.array([[-aspect / 2, -0.5, 0], [aspect / 2, -0.5, 0], [aspect / 2, 0.5, 0], [-aspect / 2, 0.5, 0]])
    axis_angle = rng.uniform(0, 2 * np.pi)
    axis = np.array([np.cos(axis_angle), np.sin(axis_angle), 0.0])
    rotation, _ = cv2.Rodrigues(axis * np.radians(tilt_deg))
    points = corners @ rotation.T
    # A phone's wide lens held about 1.3 sheet heights away: distance and focal length in sheet heights.
    distance = rng.uniform(1.1, 1.6)
    return points[:, :2] * distance / (distance + points[:, 2:3])


def _covered(quad: np.ndarray, size: tuple[int, int]) -> float:
    """The share of the frame of `size` (width, height) that the convex `quad` covers."""
    w, h = size
    frame = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    area, _ = cv2.intersectConvexConvex(quad.astype(np.float32), frame)
    return float(area) / (w * h)


def place_sheet(rng: np.random.Generator, aspect: float, size: tuple[int, int]) -> tuple[np.ndarray, dict]:
    """The sheet's corners in the frame (top-left first, clockwise) and the rotation, tilt and coverage used."""
    w, h = size
    tilt = float(rng.uniform(0, 25))
    rotation = float(rng.uniform(-15, 15))
    target = float(rng.uniform(0.3, 0.95))
    shift = rng.uniform(-1, 1, 2)
    shape = _tilted_rectangle(rng, aspect, tilt)
    turn = cv2.getRotationMatrix2D((0, 0), rotation, 1.0)[:, :2]
    shape = shape @ turn.T

    def quad_at(scale: float) -> np.ndarray:
        pts = shape * scale
        span = pts.max(0) - pts.min(0)
        # Off-centre by up to the room left in the frame, so a small sheet may sit anywhere in it.
        slack = np.maximum(np.array([w, h]) - span, 0) / 2
        centre = np.array([w / 2, h / 2]) + shift * slack * 0.8 - (pts.max(0) + pts.min(0)) / 2
        return pts + centre

    low, high = 0.05 * h, 4.0 * h
    for _ in range(40):
        mid = (low + high) / 2
        low, high = (mid, high) if _covered(quad_at(mid), size) < target else (low, mid)
    quad = quad_at(low)
    return quad, {"rotation": rotation, "perspective": tilt, "coverage": round(_covered(quad, size), 4)}


def _gaussian(img: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur; wide ones run on a reduced copy and are enlarged back (cheap at 12 MP)."""
    if sigma < 0.3:
        return img
    step = int(sigma)
    if step < 2:
        return cv2.GaussianBlur(img, (0, 0), sigma)
    h, w = img.shape[:2]
    small = cv2.resize(img, (max(1, w // step), max(1, h // step)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), float(np.sqrt(max(sigma**2 / step**2 - 0.25, 0.09))))
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _shake(img: np.ndarray, length: float, angle: float) -> np.ndarray:
    """A hand moving during the exposure: the mean of the image shifted along a `length`-pixel path."""
    taps = max(2, int(round(length)))
    out = np.zeros(img.shape, np.float32)
    h, w = img.shape[:2]
    for t in np.linspace(-length / 2, length / 2, taps):
        m = np.float32([[1, 0, t * np.cos(angle)], [0, 1, t * np.sin(angle)]])
        out += cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REFLECT)
    return out / taps


def optics(img: np.ndarray, sigma: float, length: float, angle: float) -> np.ndarray:
    """Defocus (a Gaussian of `sigma` px) and shake (`length` px at `angle`); long shakes on a reduced copy."""
    img = _gaussian(img, sigma)
    if length < 1:
        return img
    step = max(1, int(length // 4))
    h, w = img.shape[:2]
    small = cv2.resize(img, (max(1, w // step), max(1, h // step)), interpolation=cv2.INTER_AREA)
    small = _shake(small, length / step, angle)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR) if step > 1 else small


def sensor_noise(img: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Shot noise, stronger in the dark and blotchy after the phone's noise reduction; colour noise coarser."""
    h, w = img.shape[:2]
    luma = grain(rng, (h, w), 1.0) * strength
    chroma = grain(rng, (h, w, 3), 3.0) * strength * 0.4
    level = np.sqrt(np.clip(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), 0.02, 1))
    img += (luma * (1.3 - level))[..., None] + chroma
    return img


def tone_curve(gamma: float) -> np.ndarray:
    """The phone's tone curve as a 256-entry table: a gamma and a gentle S-curve."""
    x = np.linspace(0, 1, 256) ** gamma
    x = x + 0.35 * x * (1 - x) * (x - 0.5)
    return np.clip(x * 255 + 0.5, 0, 255).astype(np.uint8)


def to_8bit(img: np.ndarray, gamma: float) -> np.ndarray:
    """A float image (0-1) through the tone curve to 8 bits."""
    return cv2.LUT(cv2.convertScaleAbs(img, alpha=255), tone_curve(gamma))


def sharpen(img: np.ndarray, radius: float, amount: float) -> np.ndarray:
    """The phone's unsharp mask on the 8-bit image, which leaves light and dark halos along edges."""
    return cv2.addWeighted(img, 1 + amount, _gaussian(img, radius), -amount, 0)


def encode_jpeg(rgb: np.ndarray, quality: int, orientation: int) -> bytes:
    """JPEG bytes of an upright frame stored turned for EXIF `orientation`, with the tag that turns it back."""
    stored = cv2.rotate(rgb, ORIENTATION_TURNS[orientation]) if orientation in ORIENTATION_TURNS else rgb
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = orientation
    buf = io.BytesIO()
    Image.fromarray(stored).save(buf, "JPEG", quality=quality, exif=exif.tobytes())
    return buf.getvalue()
