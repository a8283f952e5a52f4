"""Smooth random fields and small drawing helpers shared by the surfaces, the paper and the light."""

import string

import cv2
import numpy as np


def enlarge(small: np.ndarray, shape: tuple[int, int], interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """Resize a small array to (height, width) `shape`; smooth things are drawn small and enlarged here."""
    h, w = shape
    return cv2.resize(small, (w, h), interpolation=interpolation)


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cells: float) -> np.ndarray:
    """A float32 field of unit spread varying over about `cells` blobs along the longer side of `shape`."""
    h, w = shape
    gh = max(2, round(cells * h / max(h, w)) + 2)
    gw = max(2, round(cells * w / max(h, w)) + 2)
    small = rng.standard_normal((gh, gw)).astype(np.float32)
    return enlarge(small, shape, cv2.INTER_CUBIC)


def fractal_noise(rng: np.random.Generator, shape: tuple[int, int], cells: float, octaves: int) -> np.ndarray:
    """Several octaves of smooth noise, each twice as fine and half as strong, normalised to unit spread."""
    out = np.zeros(shape, np.float32)
    for octave in range(octaves):
        out += smooth_noise(rng, shape, cells * 2**octave) * 0.5**octave
    return out / max(float(out.std()), 1e-6)


def grain(rng: np.random.Generator, shape: tuple[int, ...], coarseness: float = 2.0) -> np.ndarray:
    """Pixel-scale noise of unit spread (HxW or HxWxC), drawn `coarseness` times smaller and enlarged."""
    h, w = shape[:2]
    small_shape = (max(2, int(h / coarseness)), max(2, int(w / coarseness))) + tuple(shape[2:])
    small = rng.standard_normal(small_shape, dtype=np.float32)
    return small if small.shape == tuple(shape) else enlarge(small, (h, w))


def capsule_mask(shape: tuple[int, int], start, end, radius: float) -> np.ndarray:
    """A float32 0-1 mask of a segment from `start` to `end` (x, y) thickened by `radius`, edges anti-aliased."""
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    (x0, y0), (x1, y1) = start, end
    dx, dy = x1 - x0, y1 - y0
    t = np.clip(((xs - x0) * dx + (ys - y0) * dy) / max(dx * dx + dy * dy, 1e-6), 0, 1)
    dist = np.hypot(xs - (x0 + t * dx), ys - (y0 + t * dy))
    return np.clip(radius - dist + 0.5, 0, 1)


def rotated_box_coords(shape: tuple[int, int], centre, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates (u along `angle` in radians, v across it) of every pixel of `shape` about `centre`."""
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    x, y = xs - centre[0], ys - centre[1]
    c, s = np.cos(angle), np.sin(angle)
    return x * c + y * s, -x * s + y * c


def blend(base: np.ndarray, colour, alpha: np.ndarray) -> np.ndarray:
    """Paint `colour` (an RGB triple or an HxWx3 array) over `base` with 0-1 `alpha`, in place."""
    a = alpha[..., None]
    base *= 1 - a
    base += a * np.asarray(colour, np.float32)
    return base


def random_words(rng: np.random.Generator, count: int) -> str:
    """Letters in word-like groups (no numerals: the frame holds exactly one digit)."""
    letters = np.array(list(string.ascii_lowercase))
    return " ".join("".join(rng.choice(letters, rng.integers(2, 9))) for _ in range(count))
