"""Digits as people photograph them: an MNIST digit drawn large onto a kind of paper (a form box,
squared or ruled paper, a shadow, pencil saved as JPEG...), as an encoded image a client sends.

Each paper kind takes the ink of one digit on a SIDE x SIDE sheet (float, 1 where the pen pressed)
and a random generator, and returns the photographed sheet as RGB pixels in [0, 1]."""

from collections.abc import Callable

import cv2
import numpy as np

SIDE = 160  # pixels of the photographed sheet
PAPER = 0.93  # white paper's brightness in a photo
INK = np.array([0.12, 0.12, 0.16])  # a dark ballpoint, RGB
BLUE_LINE = np.array([0.55, 0.72, 0.9])  # squared and ruled paper's printed lines
CAMERA_NOISE = 0.015  # standard deviation of a phone camera's sensor noise


def handwriting(digit: np.ndarray, rng: np.random.Generator, side: int = SIDE) -> np.ndarray:
    """A 28x28 digit in [0, 1] drawn 70-110 pixels tall at a random place near the sheet's middle."""
    height = int(rng.integers(70, 111))
    large = np.clip(cv2.resize(digit.astype(np.float32), (height, height), interpolation=cv2.INTER_CUBIC), 0, 1)
    sheet = np.zeros((side, side), np.float32)
    top, left = ((side - height) // 2 + rng.integers(-12, 13, 2)).clip(0, side - height)
    sheet[top : top + height, left : left + height] = large
    return sheet


def number_ink(digits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(k, 28, 28) digits written side by side as a number: each 50-70 pixels tall, on its own
    baseline (up to 8 pixels off), the 28x28 frames 10% of a digit's height apart to 30%."""
    heights = rng.integers(50, 71, len(digits))
    gaps = np.concatenate([[16], (rng.uniform(-0.1, 0.3, len(digits) - 1) * heights[1:]).astype(int), [16]])
    sheet = np.zeros((110, int(heights.sum() + gaps.sum())), np.float32)
    left = gaps[0]
    for digit, height, gap in zip(digits, heights, gaps[1:], strict=True):
        size = (int(height), int(height))
        large = np.clip(cv2.resize(digit.astype(np.float32), size, interpolation=cv2.INTER_CUBIC), 0, 1)
        top = (110 - height) // 2 + int(rng.integers(-8, 9))
        place = np.s_[top : top + height, left : left + height]
        sheet[place] = np.maximum(sheet[place], large)
        left += height + gap
    return sheet


def on_paper(ink: np.ndarray, paper: np.ndarray, colour: np.ndarray = INK) -> np.ndarray:
    """Ink of a colour laid on RGB paper: where the pen pressed fully, the ink's colour."""
    alpha = ink[..., None]
    return paper * (1 - alpha) + colour * alpha


def white(shape: tuple[int, int], level: float = PAPER) -> np.ndarray:
    """A sheet of paper of one brightness, RGB."""
    return np.full((*shape, 3), level, np.float32)


def lines_mask(shape: tuple[int, int], period: int, offset: int, width: int, axis: int) -> np.ndarray:
    """1 on printed lines every `period` pixels across `axis` (0: horizontal lines, 1: vertical)."""
    position = np.arange(shape[axis])
    on = ((position - offset) % period) < width
    return np.broadcast_to(on[:, None] if axis == 0 else on[None, :], shape).astype(np.float32)


def plain(ink, rng):
    """Plain white paper under even light."""
    return on_paper(ink, white(ink.shape))


def form_box(ink, rng):
    """A printed form box around the digit (the neighbouring boxes' edges at the sides)."""
    box = np.zeros(ink.shape, np.float32)
    rows, columns = np.flatnonzero(ink.max(axis=1) > 0.3), np.flatnonzero(ink.max(axis=0) > 0.3)
    margin = rng.integers(4, 16, 4)
    top, bottom = max(rows[0] - margin[0], 1), min(rows[-1] + margin[1], ink.shape[0] - 2)
    left, right = max(columns[0] - margin[2], 1), min(columns[-1] + margin[3], ink.shape[1] - 2)
    width = int(rng.integers(1, 4))
    cv2.rectangle(box, (int(left), int(top)), (int(right), int(bottom)), 1.0, width)
    printed = on_paper(box, white(ink.shape), np.array([0.2, 0.2, 0.2]))
    return on_paper(ink, printed)


def squared(ink, rng):
    """Squared paper: a light blue grid of 16-24 pixel squares."""
    period, width = int(rng.integers(16, 25)), int(rng.integers(1, 3))
    offsets = rng.integers(0, period, 2)
    grid = np.maximum(*(lines_mask(ink.shape, period, offsets[axis], width, axis) for axis in (0, 1)))
    return on_paper(ink, on_paper(grid, white(ink.shape), BLUE_LINE))


def ruled(ink, rng):
    """Lined notebook paper: light blue lines 22-30 pixels apart, a red margin line on some."""
    period = int(rng.integers(22, 31))
    paper = on_paper(lines_mask(ink.shape, period, int(rng.integers(0, period)), 2, 0), white(ink.shape), BLUE_LINE)
    if rng.random() < 0.5:
        paper = on_paper(lines_mask(ink.shape, 400, int(rng.integers(5, 30)), 2, 1), paper, np.array([0.9, 0.4, 0.4]))
    return on_paper(ink, paper)


def light_ramp(shape: tuple[int, int], rng: np.random.Generator, darkest: float) -> np.ndarray:
    """Light falling from 1 on one side of the sheet to `darkest` on the other, at a random angle."""
    angle = rng.uniform(0, 2 * np.pi)
    rows, columns = np.indices(shape) / max(shape)
    along = rows * np.sin(angle) + columns * np.cos(angle)
    along = (along - along.min()) / (along.max() - along.min())
    return (1 - (1 - darkest) * along).astype(np.float32)


def shadow(ink, rng):
    """Uneven light: one side of the sheet in shadow, down to a third of the light."""
    return on_paper(ink, white(ink.shape)) * light_ramp(ink.shape, rng, rng.uniform(0.3, 0.5))[..., None]


def finger_shadow(ink, rng):
    """A finger's soft shadow reaching in from one edge, over part of the digit."""
    shade = np.zeros(ink.shape, np.float32)
    edge = int(rng.integers(0, ink.shape[1]))
    tip = tuple(int(value) for value in rng.integers(40, 120, 2))
    cv2.line(shade, (edge, ink.shape[0] - 1), tip, 1.0, int(rng.integers(25, 40)))
    shade = cv2.GaussianBlur(shade, (0, 0), 8)
    return on_paper(ink, white(ink.shape)) * (1 - rng.uniform(0.4, 0.6) * shade)[..., None]


def pencil_jpeg(ink, rng):
    """Faint pencil: grey, grainy strokes at a quarter to two fifths of full contrast (saved as JPEG)."""
    grain = np.clip(rng.normal(1, 0.25, ink.shape), 0, 1).astype(np.float32)
    faint = ink * grain * rng.uniform(0.25, 0.4)
    return on_paper(faint, white(ink.shape), np.zeros(3))


def coloured(ink, rng):
    """Coloured ink (blue, red or green) on coloured paper (yellow, pink, mint or sky)."""
    paper = np.array([(0.98, 0.92, 0.55), (0.97, 0.78, 0.82), (0.75, 0.93, 0.8), (0.72, 0.85, 0.97)][rng.integers(4)])
    colour = np.array([(0.1, 0.2, 0.7), (0.75, 0.1, 0.1), (0.1, 0.5, 0.2)][rng.integers(3)])
    return on_paper(ink, np.broadcast_to(paper, (*ink.shape, 3)).astype(np.float32), colour)


def crumpled(ink, rng):
    """A crumpled sheet: patches of light and shade a few tens of pixels across, and creases."""
    relief = cv2.GaussianBlur(rng.normal(0, 1, ink.shape).astype(np.float32), (0, 0), 12)
    shading = 1 + 0.25 * relief / np.abs(relief).max()
    creases = np.zeros(ink.shape, np.float32)
    for _ in range(3):
        start, end = rng.integers(0, ink.shape[0], (2, 2))
        cv2.line(creases, tuple(int(v) for v in start), tuple(int(v) for v in end), 1.0, 1)
    shading -= 0.12 * cv2.GaussianBlur(creases, (0, 0), 1)
    return on_paper(ink, white(ink.shape)) * shading[..., None]


def perspective(ink, rng):
    """Squared paper photographed at an angle: the sheet's corners moved by up to an eighth of its side."""
    side = ink.shape[0]
    corners = np.float32([[0, 0], [side, 0], [side, side], [0, side]])
    moved = corners + rng.uniform(-side / 8, side / 8, corners.shape).astype(np.float32)
    warp = cv2.getPerspectiveTransform(corners, moved)
    photo = squared(ink, rng)
    return cv2.warpPerspective(photo, warp, (side, side), borderMode=cv2.BORDER_REPLICATE)


PaperKind = Callable[[np.ndarray, np.random.Generator], np.ndarray]
PAPERS: dict[str, PaperKind] = {
    kind.__name__: kind
    for kind in (plain, form_box, squared, ruled, shadow, finger_shadow, pencil_jpeg, coloured, crumpled, perspective)
}
JPEG = {"pencil_jpeg"}  # kinds saved as JPEG (quality 60-80); the others as PNG


def photograph(sheet: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A camera's view of a sheet: a slight blur and sensor noise, as 8-bit RGB."""
    blurred = cv2.GaussianBlur(sheet.astype(np.float32), (0, 0), 0.7)
    noisy = blurred + rng.normal(0, CAMERA_NOISE, blurred.shape)
    return np.round(np.clip(noisy, 0, 1) * 255).astype(np.uint8)


def encode(pixels: np.ndarray, jpeg_quality: int | None = None) -> bytes:
    """RGB pixels as PNG bytes, or JPEG bytes at a quality."""
    bgr = pixels[..., ::-1] if pixels.ndim == 3 else pixels
    if jpeg_quality is None:
        return cv2.imencode(".png", bgr)[1].tobytes()
    return cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])[1].tobytes()


def on_kind(kind: str, digits: np.ndarray, seed: int) -> list[bytes]:
    """Each (28, 28) digit drawn onto a sheet of one paper kind and photographed: encoded images,
    the same for the same seed."""
    rng = np.random.default_rng([seed, list(PAPERS).index(kind)])
    photos = [photograph(PAPERS[kind](handwriting(digit, rng), rng), rng) for digit in digits]
    if kind in JPEG:
        return [encode(photo, int(rng.integers(60, 81))) for photo in photos]
    return [encode(photo) for photo in photos]
