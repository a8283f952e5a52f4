"""Handwriting: an MNIST digit turned into a centre line and drawn again with a pen of realistic width."""

from dataclasses import dataclass

import cv2
import numpy as np

from .fields import grain, smooth_noise

# The centre line is found on the digit enlarged this many times, so it is smooth at any drawing size.
UPSCALE = 8
FAR = 1000.0  # the distance given to points outside the enlarged digit


@dataclass(frozen=True)
class Pen:
    """A writing tool: its ink at full density, its line width in mm and how evenly it lays ink down."""

    name: str
    colour: tuple[float, float, float]
    width_mm: tuple[float, float]
    density: tuple[float, float]
    texture: str  # "even", "ballpoint", "felt" or "graphite"


PENS = {
    "ballpoint_blue": Pen("ballpoint_blue", (0.13, 0.18, 0.50), (0.35, 0.6), (0.75, 0.95), "ballpoint"),
    "ballpoint_black": Pen("ballpoint_black", (0.12, 0.12, 0.16), (0.35, 0.6), (0.75, 0.95), "ballpoint"),
    "gel_black": Pen("gel_black", (0.06, 0.06, 0.08), (0.5, 0.8), (0.9, 1.0), "even"),
    "gel_blue": Pen("gel_blue", (0.10, 0.15, 0.55), (0.5, 0.8), (0.9, 1.0), "even"),
    "felt_black": Pen("felt_black", (0.08, 0.08, 0.10), (0.8, 1.4), (0.85, 1.0), "felt"),
    "felt_blue": Pen("felt_blue", (0.08, 0.20, 0.60), (0.8, 1.4), (0.85, 1.0), "felt"),
    "pencil_hb": Pen("pencil_hb", (0.30, 0.30, 0.33), (0.3, 0.6), (0.35, 0.6), "graphite"),
    "pencil_2b": Pen("pencil_2b", (0.22, 0.22, 0.25), (0.4, 0.8), (0.45, 0.75), "graphite"),
    "red_gel": Pen("red_gel", (0.75, 0.10, 0.12), (0.5, 0.8), (0.9, 1.0), "even"),
    "green_felt": Pen("green_felt", (0.05, 0.45, 0.20), (0.8, 1.3), (0.85, 1.0), "felt"),
    "purple_ballpoint": Pen("purple_ballpoint", (0.35, 0.12, 0.50), (0.35, 0.6), (0.75, 0.95), "ballpoint"),
    "marker_black": Pen("marker_black", (0.05, 0.05, 0.06), (2.0, 4.0), (0.9, 1.0), "felt"),
    "marker_blue": Pen("marker_blue", (0.05, 0.15, 0.55), (2.0, 4.0), (0.9, 1.0), "felt"),
    "marker_red": Pen("marker_red", (0.70, 0.06, 0.08), (2.0, 4.0), (0.9, 1.0), "felt"),
}
DARK_PENS = ("ballpoint_blue", "ballpoint_black", "gel_black", "gel_blue", "felt_black", "felt_blue")
PENCILS = ("pencil_hb", "pencil_2b")
COLOURED_PENS = ("red_gel", "green_felt", "purple_ballpoint", "gel_blue", "felt_black", "ballpoint_blue")
MARKERS = ("marker_black", "marker_blue", "marker_red")


@dataclass(frozen=True)
class CentreLine:
    """Distance (in MNIST pixels) from points of the enlarged digit to its centre line, and the ink's box."""

    distance: np.ndarray  # (28 * UPSCALE) square, float32
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 of the ink in MNIST pixels


def _thin(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning of a boolean mask to one-pixel lines."""
    img = np.pad(mask.astype(np.uint8), 1)
    changed = True
    while changed:
        changed = False
        for step in (0, 1):
            p = img
            n = [p[:-2, 1:-1], p[:-2, 2:], p[1:-1, 2:], p[2:, 2:], p[2:, 1:-1], p[2:, :-2], p[1:-1, :-2], p[:-2, :-2]]
            count = sum(x.astype(np.int16) for x in n)
            turns = sum(((n[i] == 0) & (n[(i + 1) % 8] == 1)).astype(np.int16) for i in range(8))
            if step == 0:
                side = (n[0] * n[2] * n[4] == 0) & (n[2] * n[4] * n[6] == 0)
            else:
                side = (n[0] * n[2] * n[6] == 0) & (n[0] * n[4] * n[6] == 0)
            drop = (p[1:-1, 1:-1] == 1) & (count >= 2) & (count <= 6) & (turns == 1) & side
            if drop.any():
                img[1:-1, 1:-1][drop] = 0
                changed = True
    return img[1:-1, 1:-1].astype(bool)


def _neighbours(img: np.ndarray) -> np.ndarray:
    """How many of its eight neighbours each pixel of a boolean image has set."""
    count = cv2.filter2D(img.astype(np.float32), -1, np.ones((3, 3), np.float32), borderType=cv2.BORDER_CONSTANT)
    return np.rint(count).astype(np.int16) - img


def _prune(line: np.ndarray, steps: int) -> np.ndarray:
    """The thinned line without side branches shorter than `steps` pixels (thinning leaves them at blunt ends)."""
    pruned = line.copy()
    for _ in range(steps):
        pruned &= ~(pruned & (_neighbours(pruned) <= 1))
    # Grow the real stroke ends back along the original line; the cut branches stay cut.
    tips = pruned & (_neighbours(pruned) == 1)
    kernel = np.ones((3, 3), np.uint8)
    for _ in range(steps):
        tips = cv2.dilate(tips.astype(np.uint8), kernel).astype(bool) & line & ~pruned
        pruned |= tips
    return pruned if pruned.any() else line


def _restyle(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The digit enlarged, slanted, stretched and gently wobbled, as another hand would write it."""
    side = 28 * UPSCALE
    big = cv2.resize(digit.astype(np.float32), (side, side), interpolation=cv2.INTER_CUBIC)
    shear, stretch, turn = rng.uniform(-0.2, 0.2), rng.uniform(0.88, 1.12), rng.uniform(-6, 6)
    m = cv2.getRotationMatrix2D((side / 2, side / 2), turn, 1.0)
    m[:, :2] = m[:, :2] @ np.array([[stretch, shear], [0, 1]], np.float32)
    m[:, 2] += (side / 2) - m[:, :2] @ np.array([side / 2, side / 2])
    big = cv2.warpAffine(big, m, (side, side))
    wobble = UPSCALE * 0.6
    dx = smooth_noise(rng, (side, side), 3) * wobble
    dy = smooth_noise(rng, (side, side), 3) * wobble
    ys, xs = np.mgrid[0:side, 0:side].astype(np.float32)
    return cv2.remap(big, xs + dx, ys + dy, cv2.INTER_LINEAR)


def centre_line(digit: np.ndarray, rng: np.random.Generator) -> CentreLine:
    """The centre line of a restyled MNIST digit as a distance field, and the box its ink fills."""
    # Light smoothing and a middling threshold: smooth outlines that still keep a 9's or a 6's small loop.
    big = cv2.GaussianBlur(_restyle(digit, rng), (0, 0), UPSCALE * 0.3)
    shape = big > 0.5 * float(big.max())
    line = _prune(_thin(shape), UPSCALE * 2)
    distance = cv2.distanceTransform((~line).astype(np.uint8), cv2.DIST_L2, 5) / UPSCALE
    ys, xs = np.nonzero(line)
    box = (xs.min() / UPSCALE, ys.min() / UPSCALE, (xs.max() + 1) / UPSCALE, (ys.max() + 1) / UPSCALE)
    return CentreLine(distance.astype(np.float32), box)


def stroke_alpha(line: CentreLine, height_px: float, width_px: float, pen: Pen, rng: np.random.Generator):
    """The digit's ink coverage (0-1) drawn `height_px` tall, and the (x, y) of the ink box's top left in it."""
    x0, y0, x1, y1 = line.box
    scale = height_px / max(y1 - y0, 1.0)
    pad = width_px + 2
    w, h = int(np.ceil((x1 - x0) * scale + 2 * pad)), int(np.ceil(height_px + 2 * pad))
    # Enlarged-grid coordinates to output pixels: shift the ink box to `pad`, scale by px per grid step.
    m = np.array([[scale / UPSCALE, 0, pad - x0 * scale], [0, scale / UPSCALE, pad - y0 * scale]], np.float32)
    dist = cv2.warpAffine(line.distance, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=FAR) * scale
    pressure = 1 + 0.2 * smooth_noise(rng, (h, w), 4)
    alpha = np.clip(width_px / 2 * pressure - dist + 0.5, 0, 1)
    alpha *= _texture(pen, (h, w), rng) * rng.uniform(*pen.density)
    return np.clip(alpha, 0, 1), (pad, pad)


def _texture(pen: Pen, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """How evenly the pen lays ink: ballpoints skip, felt tips bleed, graphite catches on the paper's tooth."""
    fine = grain(rng, shape, 1.0)
    if pen.texture == "ballpoint":
        return np.clip(0.9 + 0.2 * fine + 0.15 * smooth_noise(rng, shape, 6), 0.35, 1)
    if pen.texture == "graphite":
        return np.clip(0.75 + 0.45 * fine, 0.1, 1)
    if pen.texture == "felt":
        return np.clip(0.97 + 0.05 * fine, 0, 1)
    return np.ones(shape, np.float32)


def ink_onto(canvas: np.ndarray, alpha: np.ndarray, corner: tuple[int, int], colour) -> None:
    """Darken `canvas` (HxWx3, 0-1) by ink of `colour` with coverage `alpha` placed at (x, y) `corner`, clipped."""
    x, y = corner
    h, w = alpha.shape
    cx0, cy0 = max(x, 0), max(y, 0)
    cx1, cy1 = min(x + w, canvas.shape[1]), min(y + h, canvas.shape[0])
    if cx1 <= cx0 or cy1 <= cy0:
        return
    a = alpha[cy0 - y : cy1 - y, cx0 - x : cx1 - x, None]
    # Ink filters the light the paper reflects: a multiplicative layer, so it darkens coloured paper too.
    canvas[cy0:cy1, cx0:cx1] *= 1 - a * (1 - np.asarray(colour, np.float32))
