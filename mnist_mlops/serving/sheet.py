"""The sheet of paper in a phone's whole frame: found against what it lies on, and flattened.

A frame shows a sheet lying on a table, a desk or cloth, or held in a hand. On a small copy of the
frame, a median as wide as a stroke takes out ink and printed lines; the candidate regions are those
Canny's edges enclose, the bright parts at Otsu's thresholds and the parts as even as paper (a
patterned cloth or grained wood is not), and the sheet is the one brighter than what surrounds it
whose outline lies most on steep edges and is most nearly convex. A sheet on a desk, marble or a
bedsheet nearly as light as it has edges too faint for that: where no region passes, they are looked
for again relative to the frame's own texture (in floating point, its quantisation is a step of its
own), and each long straight piece of them is drawn across the copy, so that a side showing only in
parts still closes the sheet. Its outline is flattened to a page by outline.py. A picture that is
all paper (a crop, the drawing canvas) has no sheet to find.
"""

from dataclasses import dataclass

import cv2
import numpy as np

from mnist_mlops.serving.images import InputError
from mnist_mlops.serving.outline import erased_outside, flattened, quadrilateral, refined

COPY_SIDE = 400  # pixels of the longer side of the copy the sheet is looked for in
SMOOTHING = 1 / 25  # of that side: a median this wide takes a stroke and a printed line out of the paper
EDGES = ((20, 50), (8, 20))  # Canny's thresholds on 8-bit brightness: a sheet's edge against a table passes
# the first pair, against a light desk the second
CALM_WINDOW = 9  # pixels of the copy: the window over which its evenness is measured
CALM = 3  # times the spread of the frame's evenest tenth: paper's grain and light; a pattern spreads more
LEAST = 0.1  # of the frame: a smaller bright region is a receipt or a reflection, not the sheet
BRIGHTER = 8  # levels of 255: the sheet is at least this much brighter than the ring around it
RING = 1 / 40  # of the longer side: how wide the ring around a region is
STEEP = 40  # Sobel's gradient on 8-bit brightness: a sheet's edge against what it lies on is this steep
CONVEX = 0.85  # a sheet's area over its convex hull's, at least (a hand over its edge takes a little)
SUPPORT = 0.6  # share of a sheet's outline on steep edges, at least (a region leaking into a desk has less)
ALL_PAPER = 0.97  # of the frame: a region covering more leaves no edge in view (a crop of paper)
FAINT_CLOSING = 11  # pixels of the copy: a closing this wide takes ink and printed lines out of the paper
FAINT_EDGES = (2.5, 5)  # Canny's thresholds, in medians of the frame's gradient: a light desk's edge passes
FAINT_STEEP = 2  # medians of the frame's gradient: a faint sheet's outline lies on edges this steep
FAINT_BRIGHTER = 2  # levels of 255: a sheet on a light desk is at least this much brighter than around it
SIDE = 0.2  # of the copy's shorter side: a straight piece of edge this long is a side, drawn across the copy
SIDE_GAP = 15  # pixels of the copy: a side's edge broken by gaps up to this long is one piece
SIDE_VOTES = 20  # edge pixels on a line, at least, for Hough's transform to take it
FAINT_SIDE = 30  # levels of 255: a faint side steps by less across it (a stroke's edge, ink beside paper, more)
STEP_REACH = 6  # pixels of the copy: how far each side of a straight piece its step is measured
SEARCH = 6  # pixels of the copy: how far from a side found there its edge is looked for in the frame
FRAME_BAND = 6  # pixels of the copy: an outline this near the frame's border runs along it (the median and
# the edges' dilation reach this far in), not on the sheet's edge


@dataclass(frozen=True)
class Sheet:
    """A sheet found in a frame: its outline, and the flattened page with nothing outside it."""

    corners: np.ndarray  # (4, 2) float32: top-left, top-right, bottom-right, bottom-left in the frame's pixels
    page: np.ndarray  # (h, w) float32 in [0, 1]: the sheet flattened, the outside and its edge set to paper
    to_frame: np.ndarray  # (3, 3): the homography from the page's pixels to the frame's


def small_copy(gray: np.ndarray) -> np.ndarray:
    """A small 8-bit copy of the frame, COPY_SIDE on its longer side."""
    shrink = COPY_SIDE / max(gray.shape)
    return cv2.resize(np.round(gray * 255).astype(np.uint8), None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)


def smoothed(small: np.ndarray) -> np.ndarray:
    """The small copy with ink, printed lines and a cloth's small pattern smoothed away (a median as
    wide as a stroke: the edges of what is wider stay where they are)."""
    return cv2.medianBlur(small, round(max(small.shape) * SMOOTHING) | 1)


def calm_regions(small: np.ndarray) -> list[np.ndarray]:
    """The largest regions where the small copy is as even as paper (its local spread under CALM times
    the frame's evenest tenth's): a sheet on cloth, carpet or grained wood, whose pattern is not."""
    pixels = small.astype(np.float32)
    window = (CALM_WINDOW, CALM_WINDOW)
    spread = np.sqrt(np.maximum(cv2.blur(pixels * pixels, window) - cv2.blur(pixels, window) ** 2, 0))
    calm = (spread < CALM * max(float(np.percentile(spread, 10)), 1.0)).astype(np.uint8)
    calm = cv2.morphologyEx(calm, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(calm, connectivity=4)
    largest = [label for label in np.argsort(stats[:, cv2.CC_STAT_AREA])[::-1][:3] if label > 0]
    grown = np.ones((CALM_WINDOW, CALM_WINDOW), np.uint8)  # the window's reach lost at the region's edge
    return [cv2.dilate((labels == label).astype(np.uint8), grown) for label in largest]


def filled(mask: np.ndarray) -> np.ndarray:
    """A region with its holes (the ink on it) filled: its outer outline drawn solid."""
    outlines, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    solid = np.zeros(mask.shape, np.uint8)
    cv2.drawContours(solid, outlines, -1, 1, cv2.FILLED)
    return solid


def edge_regions(smooth: np.ndarray, thresholds: tuple[int, int]) -> tuple[int, np.ndarray]:
    """The copy cut into regions by Canny's edges at a pair of thresholds (label 0: the edges)."""
    edges = cv2.dilate(cv2.Canny(smooth, *thresholds, L2gradient=True), np.ones((3, 3), np.uint8))
    return cv2.connectedComponents((edges == 0).astype(np.uint8), connectivity=4)


def all_paper(smooth: np.ndarray) -> bool:
    """Whether the picture is one region, edge to edge, around whatever is written on it: a crop of paper."""
    count, labels = edge_regions(smooth, EDGES[0])
    if count < 2:
        return True
    largest = 1 + int(np.argmax(np.bincount(labels.ravel(), minlength=count)[1:]))
    return bool(filled(labels == largest).mean() > ALL_PAPER)  # the ink on the paper is holes in it


def three_classes(smooth: np.ndarray) -> tuple[int, int]:
    """The two thresholds that split the brightness histogram into three classes of the largest
    variance between them (Otsu's method for three classes, over every pair of thresholds at once)."""
    counts = np.bincount(smooth.ravel(), minlength=256).astype(np.float64)
    weight, mass = np.cumsum(counts), np.cumsum(counts * np.arange(256))
    low, high = np.triu_indices(256, 1)
    parts = ((weight[low], mass[low]), (weight[high] - weight[low], mass[high] - mass[low]),
             (weight[-1] - weight[high], mass[-1] - mass[high]))  # fmt: skip
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = sum(np.where(part_weight > 0, part_mass**2 / part_weight, 0.0) for part_weight, part_mass in parts)
    best = int(np.argmax(spread))
    return int(low[best]), int(high[best])


def candidates(small: np.ndarray, smooth: np.ndarray) -> list[np.ndarray]:
    """Regions that may be the sheet, holes filled: the largest of those Canny's edges enclose (at two
    pairs of thresholds: a sheet on a light desk has faint edges), the bright parts of the frame at
    Otsu's threshold, above it (a desk nearly as light as paper), and at the two thresholds of three
    classes (a sheet half in shadow: table, shade, light), and the calm regions (a sheet on cloth)."""
    masks = []
    for thresholds in EDGES:
        count, labels = edge_regions(smooth, thresholds)
        areas = np.bincount(labels.ravel(), minlength=count)
        masks += [labels == label for label in np.argsort(areas)[::-1][:4] if label > 0]
    otsu, _ = cv2.threshold(smooth, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    for level in (otsu, (otsu + np.percentile(smooth, 99)) / 2, *three_classes(smooth)):
        count, labels, stats, _ = cv2.connectedComponentsWithStats((smooth > level).astype(np.uint8), connectivity=4)
        masks += [labels == label for label in np.argsort(stats[:, cv2.CC_STAT_AREA])[::-1][:3] if label > 0]
    return [filled(mask) for mask in masks + calm_regions(small) if mask.sum() >= LEAST * smooth.size]


def edge_support(region: np.ndarray, steep: np.ndarray) -> float:
    """The share of a region's outline (where it does not run along the frame's border) on a steep edge."""
    outline = (region > 0) & (cv2.erode(region, np.ones((3, 3), np.uint8)) == 0)
    outline[:FRAME_BAND], outline[-FRAME_BAND:], outline[:, :FRAME_BAND], outline[:, -FRAME_BAND:] = (False,) * 4
    return float(steep[outline].mean()) if outline.sum() > 0.1 * sum(region.shape) else 0.0


def solidity(region: np.ndarray) -> float:
    """A region's area over its convex hull's: a sheet's is near 1, a region leaking into a desk's less."""
    outlines, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return float(region.sum()) / max(cv2.contourArea(cv2.convexHull(np.concatenate(outlines))), 1.0)


def sheet_region(small: np.ndarray, smooth: np.ndarray) -> np.ndarray | None:
    """The sheet among the candidate regions (best_region), its outline on edges steeper than STEEP."""
    gradient = np.hypot(cv2.Sobel(smooth, cv2.CV_32F, 1, 0), cv2.Sobel(smooth, cv2.CV_32F, 0, 1))
    steep = cv2.dilate(gradient, np.ones((5, 5), np.uint8)) >= STEEP
    return best_region(candidates(small, smooth), smooth, steep, BRIGHTER)


def best_region(
    regions: list[np.ndarray], brightness: np.ndarray, steep: np.ndarray, brighter: float
) -> np.ndarray | None:
    """Of regions that may be the sheet, those brighter than the ring around them and not the whole
    frame, the one whose outline lies most on steep edges and that is most nearly convex; None if none is."""
    ring = np.ones((round(max(brightness.shape) * RING) * 2 + 1,) * 2, np.uint8)
    best, best_score = None, 0.0
    for region in regions:
        around = (cv2.dilate(region, ring) > 0) & (region == 0)
        if region.mean() > ALL_PAPER or not around.any():  # the whole frame: nothing around it to stand out from
            continue
        if np.median(brightness[region > 0]) < np.median(brightness[around]) + brighter:
            continue
        support, convex = edge_support(region, steep), solidity(region)
        if support >= SUPPORT and convex >= CONVEX and support * convex > best_score:
            best, best_score = region, support * convex
    return best


def step_across(brightness: np.ndarray, middle: np.ndarray, along: np.ndarray) -> float:
    """How much the brightness steps across a line at a point on it, STEP_REACH pixels either side."""
    normal, last = np.array([-along[1], along[0]]) * STEP_REACH, np.array(brightness.shape[::-1]) - 1
    (x1, y1), (x2, y2) = (np.clip(np.round(middle + sign * normal).astype(int), 0, last) for sign in (-1, 1))
    return abs(float(brightness[y1, x1]) - float(brightness[y2, x2]))


def sides_across(edges: np.ndarray, brightness: np.ndarray) -> np.ndarray:
    """Edges with each long straight piece of them (Hough's transform) that steps by less than
    FAINT_SIDE drawn across the whole copy."""
    found = cv2.HoughLinesP(edges, 1, np.pi / 360, SIDE_VOTES, minLineLength=SIDE * min(edges.shape),
                            maxLineGap=SIDE_GAP)  # fmt: skip
    drawn, far = edges.copy(), 2 * max(edges.shape)
    for x1, y1, x2, y2 in np.reshape([] if found is None else found, (-1, 4)):
        along = np.array([x2 - x1, y2 - y1], np.float64) / np.hypot(x2 - x1, y2 - y1)
        if step_across(brightness, np.array([x1 + x2, y1 + y2]) / 2, along) > FAINT_SIDE:
            continue
        start, end = np.array([x1, y1]) - far * along, np.array([x2, y2]) + far * along
        cv2.line(drawn, tuple(int(value) for value in start), tuple(int(value) for value in end), 255, 1)
    return drawn


def faint_region(gray: np.ndarray) -> np.ndarray | None:
    """The sheet on a surface nearly as light as it: edges relative to the frame's median gradient (its
    texture and noise), on a floating-point copy closed of ink, with their long straight pieces drawn
    across (sides_across); None if no region passes."""
    shrink = COPY_SIDE / max(gray.shape)
    copy = cv2.resize(gray.astype(np.float32), None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
    closing = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (FAINT_CLOSING, FAINT_CLOSING))
    brightness = cv2.GaussianBlur(cv2.morphologyEx(copy, cv2.MORPH_CLOSE, closing), (0, 0), 1.5) * 255
    across, down = cv2.Sobel(brightness, cv2.CV_32F, 1, 0), cv2.Sobel(brightness, cv2.CV_32F, 0, 1)
    gradient = np.hypot(across, down)
    unit = 64 / max(float(np.median(gradient)), 0.25)  # Canny takes integer gradients: the median is 64
    edges = cv2.Canny(np.round(across * unit).astype(np.int16), np.round(down * unit).astype(np.int16),
                      FAINT_EDGES[0] * 64, FAINT_EDGES[1] * 64, L2gradient=True)  # fmt: skip
    edges = cv2.dilate(sides_across(edges, brightness), np.ones((3, 3), np.uint8))
    count, labels = cv2.connectedComponents((edges == 0).astype(np.uint8), connectivity=4)
    areas = np.bincount(labels.ravel(), minlength=count)
    regions = [filled(labels == label) for label in np.argsort(areas)[::-1][:4] if label > 0]
    regions = [region for region in regions if region.mean() >= LEAST]
    steep = cv2.dilate(gradient, np.ones((5, 5), np.uint8)) >= FAINT_STEEP * 64 / unit
    return best_region(regions, brightness, steep, FAINT_BRIGHTER)


def find_sheet(gray: np.ndarray) -> Sheet | None:
    """The sheet of paper in a frame, flattened; None where the picture is all paper (a crop, the
    drawing canvas); InputError where it shows neither a sheet nor only paper (a table, a wall)."""
    small = small_copy(gray)
    smooth = smoothed(small)
    region = sheet_region(small, smooth)
    if region is None:
        region = faint_region(gray)
    if region is None:
        if all_paper(smooth):
            return None
        raise InputError("no digit: no sheet of paper found in the picture (lay the sheet on a darker surface, "
                         "or crop the picture to the paper)")  # fmt: skip
    shrink = smooth.shape[0] / gray.shape[0]
    corners = quadrilateral(region)
    if corners is None:  # the frame cuts the sheet, or a hand covers a corner: the outline as found
        inside = cv2.resize(region, gray.shape[::-1], interpolation=cv2.INTER_NEAREST)
        columns, rows = np.flatnonzero(inside.any(axis=0)), np.flatnonzero(inside.any(axis=1))
        box = np.s_[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]
        to_frame = np.array([[1, 0, columns[0]], [0, 1, rows[0]], [0, 0, 1]], np.float64)
        corners = np.array(
            [[columns[0], rows[0]], [columns[-1], rows[0]], [columns[-1], rows[-1]], [columns[0], rows[-1]]], np.float32
        )
        return Sheet(corners, erased_outside(gray[box], inside[box]), to_frame)
    corners = refined(gray, corners / shrink, round(SEARCH / shrink))
    page, to_frame = flattened(gray, corners)
    return Sheet(corners, page, to_frame)
