"""From a photographed image to the digits on it, each in MNIST form (a light digit on black, 20x20
in a 28x28 frame, centred by mass), left to right.

The paper is separated from the ink first (ink.py); printed lines and boxes are taken out (lines.py).
What remains is grouped into digits by columns; specks, fragments, the sheet's edge and soft-edged
shadows are dropped.

OpenCV does the image work (closing, distance transform, Hough transform, connected components):
the standard tools for this, about 2 ms for a 160x160 photo.
"""

from dataclasses import dataclass

import cv2
import numpy as np

from mnist_mlops.serving.ink import (
    LINE_SIDE,
    SHARP,
    dark_on_light,
    despeckle,
    full_contrast,
    ink_of,
    smoothed,
    steepness_of,
)
from mnist_mlops.serving.lines import printed

WORK_SIDE = 320  # pixels; a photo whose short side is longer is shrunk to it: finer detail is grain
MIN_SIDE = 8  # pixels; a smaller image cannot hold a stroke, let alone a digit
MIN_CONTRAST = 0.15  # darkest to lightest pixel; below it (blank paper, JPEG noise) there is no ink
STROKE = 0.3  # share of full contrast above which a pixel belongs to a stroke
EDGE = 0.2  # share of full contrast: a digit's box holds its pixels above it, soft edges included
THINNEST = 1.0  # pixels in 28x28: strokes thinner than any MNIST digit's (1.4 is its 1st percentile)...
TYPICAL = 2.3  # ...are widened to MNIST's median
THICKEST = 4.8  # pixels in 28x28: MNIST's 99th percentile; a marker's thicker strokes are thinned to it
LIGHTEST = 0.25  # of full contrast: a pixel with no ink this dark within a stroke's width is divided by this
# instead (faint ink away from any stroke is raised at most 4 times, not to full)
RESAMPLING = cv2.INTER_AREA  # averaging: no aliasing when a large digit is shrunk to 20x20
SMALLEST = 0.1  # of the image's shorter side: a shorter mark is a speck, whatever else there is
MIN_HEIGHT = 0.4  # of the tallest: a shorter group is a speck, a dot or a fragment, not a digit
MAIN_PART = 0.3  # of its height: a group whose tallest part is shorter is debris (a dashed line's bits)
MIN_AREA = 0.1  # of the largest group's ink: a group with less is specks (a colon, dust), not a digit
THIN_PART = 0.3  # of a group's thickest stroke: a part of it thinner still is a line's remnant, not a stroke
MIN_WIDTH = 0.2  # of the thickest stroke: a group with thinner strokes is a line's fragment, not a digit
ON_EDGE = 0.5  # of its height or width: a part lying along the border this far is the sheet's edge
MIN_GAP = 0.06  # of their height: parts closer than this are one digit (a broken stroke), not two
MAX_DIGITS = 12  # more digits than a number sensibly holds is refused
MAX_WIDTH = 1.8  # a digit of a number wider than this times its height is digits that touch: refused


class InputError(ValueError):
    """A request the model cannot answer, with the reason."""


@dataclass(frozen=True)
class Digit:
    """One digit found in an image: MNIST-form pixels and where it was in the image."""

    pixels: np.ndarray  # (28, 28) float32 in [0, 1]
    box: tuple[int, int, int, int]  # left, top, width, height in the original image's pixels


def check_ink(gray: np.ndarray) -> None:
    """Refuse an image that cannot hold a digit: too small for a stroke, or with no ink at all."""
    if min(gray.shape) < MIN_SIDE:
        height, width = gray.shape
        raise InputError(f"no digit: {width}x{height} pixels cannot hold one (at least {MIN_SIDE}x{MIN_SIDE})")
    if gray.max() - gray.min() < MIN_CONTRAST:
        raise InputError(f"no digit: the image is uniform (brightness {gray.min():.2f} to {gray.max():.2f}), no ink")


def sheet_edges(labels: np.ndarray, stats: np.ndarray) -> set[int]:
    """The parts lying along the image's border for most of their length: the sheet's edge, or the
    table beyond it, in a photo taken at an angle (a digit touches the border at a few points at most)."""
    edges = set()
    for side, extent in ((labels[:, 0], cv2.CC_STAT_HEIGHT), (labels[:, -1], cv2.CC_STAT_HEIGHT),
                         (labels[0], cv2.CC_STAT_WIDTH), (labels[-1], cv2.CC_STAT_WIDTH)):  # fmt: skip
        along = np.bincount(side, minlength=len(stats))
        edges |= set(np.flatnonzero(along >= ON_EDGE * stats[:, extent]).tolist()) - {0}
    return edges


def one_digit(part: list[int], group: list[int]) -> bool:
    """Whether a part (left, right, top, bottom) belongs to the group left of it: it shares most of
    the narrower one's columns, or the gap between them is far narrower than they are tall."""
    shared = min(part[1], group[1]) - max(part[0], group[0])
    tallest = max(part[3] - part[2], group[3] - group[2])
    return shared > 0.5 * min(part[1] - part[0], group[1] - group[0]) or -shared < MIN_GAP * tallest


def groups_of(strokes: np.ndarray) -> list[np.ndarray]:
    """The stroke mask's connected parts grouped into digits by columns (parts that share most of the
    narrower one's columns, or nearly touch, are one digit), left to right. A group far shorter than the
    tallest or the image, far smaller than the largest (specks, dots), far thinner than the thickest
    (a line's fragment) or made of bits (a dashed line's) is dropped, and so is a group's part far
    thinner than its thickest stroke (a grid line's remnant beside a digit)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(strokes, connectivity=8)
    if count == 1:
        return []
    depth = cv2.distanceTransform(strokes, cv2.DIST_L2, 3)  # half a stroke's width at its middle
    groups: list[list[int]] = []
    spans: list[list[int]] = []  # left, right, top, bottom of each group
    photo = min(strokes.shape) >= LINE_SIDE  # a small image (MNIST's) may hold a digit shifted onto its border
    parts = set(range(1, count)) - (sheet_edges(labels, stats) if photo else set())
    for part in sorted(parts, key=lambda part: stats[part, cv2.CC_STAT_LEFT]):
        left, top, width, height = (int(value) for value in stats[part, :4])
        span = [left, left + width, top, top + height]
        if spans and one_digit(span, spans[-1]):
            groups[-1].append(part)
            spans[-1] = [min(span[0], spans[-1][0]), max(span[1], spans[-1][1]),
                         min(span[2], spans[-1][2]), max(span[3], spans[-1][3])]  # fmt: skip
        else:
            groups.append([part])
            spans.append(span)
    whole = [
        index
        for index, (group, span) in enumerate(zip(groups, spans, strict=True))
        if stats[group, cv2.CC_STAT_HEIGHT].max() >= MAIN_PART * (span[3] - span[2])
    ]  # not debris
    if not whole:
        return []
    groups, spans = [groups[index] for index in whole], [spans[index] for index in whole]
    thickest = np.zeros(count, np.float32)
    np.maximum.at(thickest, labels.ravel(), depth.ravel())
    groups = [[part for part in group if thickest[part] >= THIN_PART * thickest[group].max()] for group in groups]
    masks = [np.isin(labels, group) for group in groups]
    widths, areas = [depth[mask].max() for mask in masks], [stats[group, cv2.CC_STAT_AREA].sum() for group in groups]
    kept = [index for index, (width, area) in enumerate(zip(widths, areas, strict=True))
            if width >= MIN_WIDTH * max(widths) and area >= MIN_AREA * max(areas)]  # fmt: skip
    least = max(MIN_HEIGHT * max(spans[index][3] - spans[index][2] for index in kept), SMALLEST * min(strokes.shape))
    return [masks[index] for index in kept if spans[index][3] - spans[index][2] >= least]


def outline_band(mask: np.ndarray) -> np.ndarray:
    """The band along a mask's outline, two pixels out and one in: where an ink's edge or a shadow's fade is."""
    mask = mask.astype(np.uint8)
    return (cv2.dilate(mask, np.ones((5, 5), np.uint8)) - cv2.erode(mask, np.ones((3, 3), np.uint8))) > 0


def sharp_edged(gray: np.ndarray, groups: list[np.ndarray]) -> list[np.ndarray]:
    """The groups whose outline is an ink's edge, not a shadow's: the brightness falls there by at
    least SHARP of the paper's per pixel (at a 160-pixel scale), where a soft shadow fades slowly."""
    steepness = steepness_of(gray)
    return [group for group in groups if np.percentile(steepness[outline_band(group)], 90) >= SHARP]


def stroke_width(group: np.ndarray) -> float:
    """A group's typical stroke width in pixels: twice its area over its outline's length (a strip's
    width, whatever its length; a ring's, outline counted inside and out)."""
    outlines, _ = cv2.findContours(group.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    return 2 * float(group.sum()) / max(sum(cv2.arcLength(outline, True) for outline in outlines), 1.0)


def mnist_digit(ink: np.ndarray, group: np.ndarray) -> np.ndarray:
    """One group's ink (its strokes and their soft edges) cropped to it, scaled into a 20x20 box and
    centred by mass in 28x28, in 256 levels, as MNIST's digits were. A photo's stroke cores are
    brought to full ink (a fading tail, a faint part of a scan); strokes that would come out
    thinner than any of MNIST's (a fine pen, a large digit) are first widened to its usual width, and
    strokes thicker than nearly all of MNIST's (a marker) thinned to that width."""
    near = cv2.dilate(group.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    digit = np.where(near, ink, 0).astype(np.float32)
    rows, columns = np.flatnonzero(group.any(axis=1)), np.flatnonzero(group.any(axis=0))
    scale = 20 / max(rows[-1] + 1 - rows[0], columns[-1] + 1 - columns[0])
    width = stroke_width(group)
    photo = min(ink.shape) >= LINE_SIDE  # an MNIST-sized image is already in MNIST's form
    if photo:
        digit = even_pressure(digit, width)
    if photo and width * scale < THINNEST:
        wider = round(TYPICAL / scale - width) | 1
        digit = cv2.dilate(digit, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (wider, wider)))
    elif photo and width * scale > THICKEST:
        thinner = round(width - THICKEST / scale) | 1
        digit = cv2.erode(digit, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (thinner, thinner)))
    rows, columns = np.flatnonzero((digit > EDGE).any(axis=1)), np.flatnonzero((digit > EDGE).any(axis=0))
    digit = digit[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]
    scale = 20 / max(digit.shape)
    size = (max(1, round(digit.shape[1] * scale)), max(1, round(digit.shape[0] * scale)))
    frame = centre_by_mass(np.clip(cv2.resize(digit, size, interpolation=RESAMPLING), 0, 1))
    return np.round(frame * 255) / 255  # 8-bit, as MNIST's: a PNG of it holds exactly what the model saw


def even_pressure(digit: np.ndarray, width: float) -> np.ndarray:
    """Each stroke's core brought to full ink, as MNIST's strokes are: each pixel divided by the darkest
    ink within a stroke's width of it (a pen's fading tail is as dark as the rest)."""
    reach = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (round(2 * width) | 1,) * 2)
    return np.clip(digit / np.maximum(cv2.dilate(digit, reach), LIGHTEST), 0, 1)


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


def strokes_of(
    gray: np.ndarray, lines: bool = True, side: int = WORK_SIDE, paper: bool = False, page: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """A (h, w) grayscale image at the working size (side pixels on its shorter side at most), dark on
    light (a light digit on a dark ground inverted, unless it is known to be paper: a sheet's page in
    shadow is dark too); its ink; its stroke mask (printed lines taken out, unless lines is False); and
    that size's scale. A whole page shrunk far keeps its thin strokes as dark as they were (each pixel
    first takes the darkest within the shrink's reach), where averaging would fade a fine pencil away."""
    check_ink(gray)
    shrink = min(1.0, side / min(gray.shape))
    if shrink < 1:
        if page:
            gray = cv2.erode(gray, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (round(1 / shrink) | 1,) * 2))
        gray = cv2.resize(gray, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
    gray = smoothed(gray) if paper else dark_on_light(smoothed(gray))
    ink = despeckle(full_contrast(ink_of(gray)))
    strokes = (ink > STROKE).astype(np.uint8)
    if lines:
        ink, strokes, _ = without_printed(ink, strokes)
    return gray, ink, strokes, shrink


def without_printed(ink: np.ndarray, strokes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An image's ink and stroke mask with its printed lines and boxes (lines.py) taken out, and those
    lines' mask (none on an image too small to hold one)."""
    if min(strokes.shape) < LINE_SIDE or not strokes.any():
        return ink, strokes, np.zeros_like(strokes)
    found = printed(strokes)
    return np.where(found > 0, 0, ink), strokes & (1 - found), found


def marks(gray: np.ndarray) -> tuple[np.ndarray, list[np.ndarray], float]:
    """A (h, w) grayscale image's ink (at the working size) and its marks grouped into digits, left to
    right, with the working size's scale."""
    gray, ink, strokes, shrink = strokes_of(gray)
    if not strokes.any():
        return ink, [], shrink
    if min(strokes.shape) < LINE_SIDE:
        groups = groups_of(strokes)
        return ink, [np.logical_or.reduce(groups)] if groups else [], shrink
    return ink, sharp_edged(gray, groups_of(strokes)), shrink


def read_digits(gray: np.ndarray) -> list[Digit]:
    """The digits on a (h, w) grayscale image in [0, 1], left to right; InputError if there are none,
    too many, or digits that touch."""
    ink, groups, shrink = marks(gray)
    return digits_of(ink, groups, shrink)


def digits_of(ink: np.ndarray, groups: list[np.ndarray], shrink: float) -> list[Digit]:
    """Each group of an image's ink (at a working size of this scale) in MNIST form, with its box in the
    image's pixels; InputError if there are none, too many, or digits that touch."""
    if not groups:
        raise InputError("no digit: only paper, lines or shadow")
    if len(groups) > MAX_DIGITS:
        raise InputError(f"{len(groups)} marks side by side; a number holds at most {MAX_DIGITS} digits")
    digits = []
    for group in groups:
        rows, columns = np.flatnonzero(group.any(axis=1)), np.flatnonzero(group.any(axis=0))
        height, width = rows[-1] + 1 - rows[0], columns[-1] + 1 - columns[0]
        if width > MAX_WIDTH * height and len(groups) > 1:  # in a number; a lone wide mark is read as a digit
            raise InputError("digits touch: leave a gap between them")
        box = tuple(round(value / shrink) for value in (columns[0], rows[0], width, height))
        digits.append(Digit(mnist_digit(ink, group), box))
    return digits
