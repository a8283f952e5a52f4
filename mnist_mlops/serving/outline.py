"""A sheet's outline as four corners, and the flat page within them. The region found on the small
copy (sheet.py) is approximated by a quadrilateral (OpenCV's convex hull and polygon approximation,
the sides fitted again to the outline), its corners moved to where the frame's own edges cross, and
the sheet warped to a flat page with nothing outside it."""

import cv2
import numpy as np

QUAD_FIT = 0.9  # of its quadrilateral's area a sheet's outline covers (a thumb over the edge takes less)
MARGIN = 0.02  # of the page's shorter side: ink is looked for this far inside the sheet's edge
PAGE_SIDE = 800  # pixels of the flattened page's shorter side at most: a digit 8% of it is 64 tall
ALONG = np.linspace(0.1, 0.9, 48)  # where along each side its edge is sampled (a hand holds a corner)


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
