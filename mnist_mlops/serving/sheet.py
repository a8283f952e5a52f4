"""The sheet of paper in a phone's whole frame: found against what it lies on, and flattened.

A frame shows a sheet lying on a table, a desk or cloth, or held in a hand. On a small copy of the
frame, a median as wide as a stroke takes out ink and printed lines; the candidate regions are those
Canny's edges enclose, the bright parts at Otsu's thresholds and the parts as even as paper (a
patterned cloth or grained wood is not), and the sheet is the one brighter
than what surrounds it whose outline lies most on steep edges and is most nearly convex. Its outline
is approximated by a quadrilateral (OpenCV's convex hull and polygon approximation, the sides fitted
again and the corners moved to where the frame's own edges cross) and warped to a flat page; where
the frame cuts the sheet and a quadrilateral does not fit, its outline stays as found. A picture that
is all paper (a crop, the drawing canvas) has no sheet to find.
"""

from dataclasses import dataclass

import cv2
import numpy as np

from mnist_mlops.serving.images import InputError

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
FRAME_BAND = 6  # pixels of the copy: an outline this near the frame's border runs along it (the median and
# the edges' dilation reach this far in), not on the sheet's edge
QUAD_FIT = 0.9  # of its quadrilateral's area a sheet's outline covers (a thumb over the edge takes less)
MARGIN = 0.02  # of the page's shorter side: ink is looked for this far inside the sheet's edge
PAGE_SIDE = 800  # pixels of the flattened page's shorter side at most: a digit 8% of it is 64 tall
SEARCH = 6  # pixels of the copy: how far from a side found there its edge is looked for in the frame
ALONG = np.linspace(0.1, 0.9, 48)  # where along each side its edge is sampled (a hand holds a corner)


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
    """The sheet: of the candidate regions brighter than the ring around them and not the whole frame,
    the one whose outline lies most on steep edges and that is most nearly convex; None if none is."""
    gradient = np.hypot(cv2.Sobel(smooth, cv2.CV_32F, 1, 0), cv2.Sobel(smooth, cv2.CV_32F, 0, 1))
    steep = cv2.dilate(gradient, np.ones((5, 5), np.uint8)) >= STEEP
    ring = np.ones((round(max(smooth.shape) * RING) * 2 + 1,) * 2, np.uint8)
    best, best_score = None, 0.0
    for region in candidates(small, smooth):
        around = (cv2.dilate(region, ring) > 0) & (region == 0)
        if region.mean() > ALL_PAPER or not around.any():  # the whole frame: nothing around it to stand out from
            continue
        if np.median(smooth[region > 0]) < np.median(smooth[around]) + BRIGHTER:
            continue
        support, convex = edge_support(region, steep), solidity(region)
        if support >= SUPPORT and convex >= CONVEX and support * convex > best_score:
            best, best_score = region, support * convex
    return best


def crossings(lines: list[np.ndarray]) -> np.ndarray:
    """Where each line (vx, vy, x, y) crosses the one before it: corner i joins sides i-1 and i."""
    points = []
    for before, after in zip(lines[-1:] + lines[:-1], lines, strict=True):
        (vx1, vy1, x1, y1), (vx2, vy2, x2, y2) = before, after
        along = np.linalg.solve(
            np.array([[vx1, -vx2], [vy1, -vy2]], np.float64), np.array([x2 - x1, y2 - y1], np.float64)
        )[0]
        points.append([x1 + along * vx1, y1 + along * vy1])
    return np.array(points, np.float32)


def side_lines(outline: np.ndarray, corners: np.ndarray) -> list[np.ndarray]:
    """Lines fitted to the outline's points along each side of a rough quadrilateral, its corners left out
    (a median rounds them, and a hand may hold one)."""
    lines = []
    for start, end in zip(corners, np.roll(corners, -1, axis=0), strict=True):
        length = np.linalg.norm(end - start)
        along = (outline - start) @ (end - start) / length**2
        across = np.abs(np.cross(end - start, outline - start)) / length
        near = outline[(along > 0.15) & (along < 0.85) & (across < 0.05 * length)]
        points = near if len(near) >= 2 else np.array([start, end], np.float32)
        lines.append(cv2.fitLine(points.astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel())
    return lines


def quadrilateral(region: np.ndarray) -> np.ndarray | None:
    """A region's outline as four corners (top-left first, clockwise), if four fit it: a rough four from
    its convex hull, then each side fitted to the outline and the corners where the sides cross."""
    outlines, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    outline = max(outlines, key=cv2.contourArea)
    hull = cv2.convexHull(outline)
    perimeter = cv2.arcLength(hull, True)
    for share in (0.02, 0.04, 0.06, 0.08):
        corners = cv2.approxPolyDP(hull, share * perimeter, True)
        if len(corners) == 4:
            break
    else:
        return None
    corners = corners.reshape(4, 2).astype(np.float32)
    if region.sum() < QUAD_FIT * cv2.contourArea(corners):
        return None
    centre = corners.mean(axis=0)
    corners = corners[np.argsort(np.arctan2(corners[:, 1] - centre[1], corners[:, 0] - centre[0]))]
    corners = np.roll(corners, -int(np.argmin(corners.sum(axis=1))), axis=0)  # clockwise from the top-left
    fitted = crossings(side_lines(outline.reshape(-1, 2).astype(np.float32), corners))
    return fitted if np.abs(fitted - corners).max() <= 0.1 * max(region.shape) else corners


def edge_line(gray: np.ndarray, start: np.ndarray, end: np.ndarray, reach: int) -> np.ndarray:
    """The line (vx, vy, x, y) of the sheet's edge near the side from start to end: where the brightness
    steps most across it, sampled along it and fitted robustly."""
    direction = (end - start) / np.linalg.norm(end - start)
    normal = np.array([-direction[1], direction[0]], np.float32)
    offsets = np.arange(-reach, reach + 1, dtype=np.float32)
    points = start + ALONG[:, None] * (end - start)
    samples = (points[:, None, :] + offsets[None, :, None] * normal).astype(np.float32)
    values = cv2.remap(gray, samples[..., 0], samples[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    steps = np.abs(np.diff(values, axis=1))
    found = points + (offsets[steps.argmax(axis=1)] + 0.5)[:, None] * normal
    return cv2.fitLine(found.astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()


def refined(gray: np.ndarray, corners: np.ndarray, reach: int) -> np.ndarray:
    """Corners found on the small copy moved to where the frame's own edges cross (sub-pixel)."""
    moved = crossings([edge_line(gray, corners[i], corners[(i + 1) % 4], reach) for i in range(4)])
    return moved if np.abs(moved - corners).max() <= 2 * reach else corners  # a side not found stays


def flattened(gray: np.ndarray, corners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sheet within its corners warped to a flat page (at most PAGE_SIDE on its shorter side), with
    the page-to-frame homography; where the frame cuts the sheet, and along its edge, is paper. (What lies
    over the edge, a thumb or a shadow, stays: it touches the page's border, which no ink on it does.)"""
    sides = [float(np.linalg.norm(corners[i] - corners[(i + 1) % 4])) for i in range(4)]
    width, height = max(sides[0], sides[2]), max(sides[1], sides[3])
    fit = min(1.0, PAGE_SIDE / min(width, height))
    width, height = round(width * fit), round(height * fit)
    page_corners = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], np.float32)
    to_page = cv2.getPerspectiveTransform(corners, page_corners)
    page = cv2.warpPerspective(gray, to_page, (width, height), flags=cv2.INTER_LINEAR, borderValue=1.0)
    framed = cv2.warpPerspective(np.ones(gray.shape, np.uint8), to_page, (width, height), flags=cv2.INTER_NEAREST)
    return erased_outside(page, framed), np.linalg.inv(to_page)


def erased_outside(gray: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """The image with everything outside the sheet, and a margin inside its edge, replaced by the paper
    next to it carried outwards (a normalised blur), so that no step is left where the sheet ends."""
    margin = round(MARGIN * min(gray.shape)) * 2 + 1
    inside = cv2.erode(inside.astype(np.uint8), np.ones((margin, margin), np.uint8)).astype(np.float32)
    if not inside.any():
        return gray
    small = [cv2.resize(image, None, fx=1 / 8, fy=1 / 8, interpolation=cv2.INTER_AREA) for image in (gray, inside)]
    kept = cv2.erode(small[1], np.ones((3, 3), np.uint8)) > 0.99  # eighths wholly inside the sheet, away from
    kept = kept if kept.any() else small[1] > 0.5  # its edge (on a sheet too small for that, the inside)
    paper = cv2.morphologyEx(small[0], cv2.MORPH_CLOSE, np.ones((margin // 8 | 1,) * 2, np.uint8))  # no ink
    spread = [
        cv2.GaussianBlur(image, (0, 0), max(gray.shape) / 512) for image in (paper * kept, kept.astype(np.float32))
    ]
    paper = cv2.resize(spread[0] / np.maximum(spread[1], 1e-6), gray.shape[::-1], interpolation=cv2.INTER_LINEAR)
    return np.where(inside > 0, gray, np.clip(paper, 0, 1)).astype(np.float32)


def find_sheet(gray: np.ndarray) -> Sheet | None:
    """The sheet of paper in a frame, flattened; None where the picture is all paper (a crop, the
    drawing canvas); InputError where it shows neither a sheet nor only paper (a table, a wall)."""
    small = small_copy(gray)
    smooth = smoothed(small)
    region = sheet_region(small, smooth)
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
