"""The sheet of paper in a phone's whole frame: found against what it lies on, and flattened.

A frame shows a sheet lying on a table, a desk or cloth, or held in a hand. On a small copy of the
frame, a grey closing as wide as a stroke takes out ink and printed lines; Canny's edges then cut the
frame into regions, and the sheet is the largest region brighter than what surrounds it. Its outline
is approximated by a quadrilateral (OpenCV's convex hull and polygon approximation) and warped to a
flat page, outside of which nothing is ink; where the frame cuts the sheet, its outline stays as
found. A picture that is all paper (a crop, the drawing canvas) has no sheet to find.
"""

from dataclasses import dataclass

import cv2
import numpy as np

FIND_SIDE = 400  # pixels of the longer side of the copy the sheet is looked for in
CLOSING = 1 / 25  # of that side: a closing this wide takes a stroke and a printed line out of the paper
EDGES = (20, 50)  # Canny's thresholds on 8-bit brightness: a sheet's edge against a table passes both
LEAST = 0.1  # of the frame: a smaller bright region is a receipt or a reflection, not the sheet
BRIGHTER = 8  # levels of 255: the sheet is at least this much brighter than the ring around it
RING = 1 / 40  # of the longer side: how wide the ring around a region is
ALL_PAPER = 0.97  # of the frame: a region covering more leaves no edge in view (a crop of paper)
QUAD_FIT = 0.9  # of its quadrilateral's area a sheet's outline covers (a thumb over the edge takes less)
MARGIN = 0.02  # of the page's shorter side: ink is looked for this far inside the sheet's edge
PAPER_LEVEL = 95  # percentile of the sheet's brightness given to what lies outside it
PAGE_SIDE = 800  # pixels of the flattened page's shorter side at most: a digit 8% of it is 64 tall
SEARCH = 6  # pixels of the copy: how far from a side found there its edge is looked for in the frame
ALONG = np.linspace(0.1, 0.9, 48)  # where along each side its edge is sampled (a hand holds a corner)


@dataclass(frozen=True)
class Sheet:
    """A sheet found in a frame: its outline, and the flattened page with nothing outside it."""

    corners: np.ndarray  # (4, 2) float32: top-left, top-right, bottom-right, bottom-left in the frame's pixels
    page: np.ndarray  # (h, w) float32 in [0, 1]: the sheet flattened, the outside and its edge set to paper
    to_frame: np.ndarray  # (3, 3): the homography from the page's pixels to the frame's


def regions(small: np.ndarray) -> tuple[int, np.ndarray]:
    """The frame's copy cut into regions by the edges of what is wider than a stroke."""
    side = round(max(small.shape) * CLOSING) | 1
    closed = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side)))
    edges = cv2.Canny(cv2.medianBlur(closed, 5), *EDGES, L2gradient=True)
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8))
    return cv2.connectedComponents((edges == 0).astype(np.uint8), connectivity=4)


def filled(mask: np.ndarray) -> np.ndarray:
    """A region with its holes (the ink on it) filled: its outer outline drawn solid."""
    outlines, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    solid = np.zeros(mask.shape, np.uint8)
    cv2.drawContours(solid, outlines, -1, 1, cv2.FILLED)
    return solid


def brightest_region(small: np.ndarray) -> np.ndarray | None:
    """The largest region of the copy brighter than the ring around it, holes filled; None if there is
    none (a region that, filled, is the whole frame has nothing around it: a desk around the sheet)."""
    count, labels = regions(small)
    areas = np.bincount(labels.ravel(), minlength=count)
    ring = np.ones((round(max(small.shape) * RING) * 2 + 1,) * 2, np.uint8)
    for label in np.argsort(areas)[::-1]:
        if areas[label] < LEAST * small.size:
            return None
        if label == 0:
            continue
        region = filled(labels == label)
        around = (cv2.dilate(region, ring) > 0) & (region == 0)
        if around.any() and np.median(small[region > 0]) >= np.median(small[around]) + BRIGHTER:
            return region
    return None


def quadrilateral(region: np.ndarray) -> np.ndarray | None:
    """A region's outline as four corners (top-left first, clockwise), if four fit it."""
    outlines, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    hull = cv2.convexHull(max(outlines, key=cv2.contourArea))
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
    return np.roll(corners, -int(np.argmin(corners.sum(axis=1))), axis=0)  # clockwise from the top-left


def edge_line(gray: np.ndarray, start: np.ndarray, end: np.ndarray, reach: int) -> np.ndarray:
    """The line (vx, vy, x, y) of the sheet's edge near the side from start to end: where the brightness
    steps most across it, sampled along it and fitted robustly."""
    direction = (end - start) / np.linalg.norm(end - start)
    normal = np.float32([-direction[1], direction[0]])
    offsets = np.arange(-reach, reach + 1, dtype=np.float32)
    points = start + ALONG[:, None] * (end - start)
    samples = (points[:, None, :] + offsets[None, :, None] * normal).astype(np.float32)
    values = cv2.remap(gray, samples[..., 0], samples[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    steps = np.abs(np.diff(values, axis=1))
    found = points + (offsets[steps.argmax(axis=1)] + 0.5)[:, None] * normal
    return cv2.fitLine(found.astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()


def refined(gray: np.ndarray, corners: np.ndarray, reach: int) -> np.ndarray:
    """Corners found on the small copy moved to where the frame's own edges cross (sub-pixel)."""
    lines = [edge_line(gray, corners[i], corners[(i + 1) % 4], reach) for i in range(4)]
    crossings = []
    for before, after in zip(lines[-1:] + lines[:-1], lines, strict=True):  # corner i joins sides i-1 and i
        (vx1, vy1, x1, y1), (vx2, vy2, x2, y2) = before, after
        along = np.linalg.solve(np.float64([[vx1, -vx2], [vy1, -vy2]]), np.float64([x2 - x1, y2 - y1]))[0]
        crossings.append([x1 + along * vx1, y1 + along * vy1])
    moved = np.float32(crossings)
    return moved if np.abs(moved - corners).max() <= 2 * reach else corners  # a side not found stays


def flattened(gray: np.ndarray, corners: np.ndarray, inside: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sheet within its corners warped to a flat page (at most PAGE_SIDE on its shorter side), with
    the page-to-frame homography; what lies outside the region is set to the paper's brightness."""
    sides = [np.linalg.norm(corners[i] - corners[(i + 1) % 4]) for i in range(4)]
    width, height = max(sides[0], sides[2]), max(sides[1], sides[3])
    fit = min(1.0, PAGE_SIDE / min(width, height))
    width, height = round(width * fit), round(height * fit)
    page_corners = np.float32([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]])
    to_page = cv2.getPerspectiveTransform(corners, page_corners)
    page = cv2.warpPerspective(gray, to_page, (width, height), flags=cv2.INTER_LINEAR, borderValue=1.0)
    kept = cv2.warpPerspective(inside, to_page, (width, height), flags=cv2.INTER_NEAREST)
    return erased_outside(page, kept), np.linalg.inv(to_page)


def erased_outside(gray: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """The image with everything outside the sheet, and a margin inside its edge, set to paper."""
    margin = round(MARGIN * min(gray.shape)) * 2 + 1
    inside = cv2.erode(inside.astype(np.uint8), np.ones((margin, margin), np.uint8))
    if not inside.any():
        return gray
    paper = np.percentile(gray[::4, ::4][inside[::4, ::4] > 0], PAPER_LEVEL)
    return np.where(inside > 0, gray, paper).astype(np.float32)


def find_sheet(gray: np.ndarray) -> Sheet | None:
    """The sheet of paper in a frame, flattened; None where the picture shows no sheet's edge (all
    paper, or no region bright against its surroundings)."""
    shrink = FIND_SIDE / max(gray.shape)
    small = cv2.resize(np.round(gray * 255).astype(np.uint8), None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
    region = brightest_region(small)
    if region is None or region.mean() > ALL_PAPER:
        return None
    inside = cv2.resize(region, gray.shape[::-1], interpolation=cv2.INTER_NEAREST)
    corners = quadrilateral(region)
    if corners is None:  # the frame cuts the sheet, or a hand covers a corner: the outline as found
        columns, rows = np.flatnonzero(inside.any(axis=0)), np.flatnonzero(inside.any(axis=1))
        box = np.s_[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]
        to_frame = np.float64([[1, 0, columns[0]], [0, 1, rows[0]], [0, 0, 1]])
        corners = np.float32([[columns[0], rows[0]], [columns[-1], rows[0]], [columns[-1], rows[-1]],
                              [columns[0], rows[-1]]])  # fmt: skip
        return Sheet(corners, erased_outside(gray[box], inside[box]), to_frame)
    corners = refined(gray, corners / shrink, round(SEARCH / shrink))
    page, to_frame = flattened(gray, corners, inside)
    return Sheet(corners, page, to_frame)
