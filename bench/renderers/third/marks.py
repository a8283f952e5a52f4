"""The sheet's sharp marks (printing, ink) carried into the full-size frame and laid on the 8-bit picture."""

from dataclasses import dataclass

import cv2
import numpy as np


def to_frame(homography: np.ndarray, points) -> np.ndarray:
    """Sheet pixels (x, y) to frame pixels."""
    return cv2.perspectiveTransform(np.float32(points).reshape(-1, 1, 2), homography).reshape(-1, 2)


def shifted(homography: np.ndarray, before=(0.0, 0.0), after=(0.0, 0.0), scale: float = 1.0) -> np.ndarray:
    """`homography` with a shift of its input by `before`, then of its output by `after`, then a scale."""
    pre = np.array([[1, 0, before[0]], [0, 1, before[1]], [0, 0, 1]])
    post = np.array([[scale, 0, scale * after[0]], [0, scale, scale * after[1]], [0, 0, 1]])
    return post @ homography @ pre


@dataclass
class Ink:
    """A mark warped into the full-size frame: 8-bit coverage over a region whose top left is `corner`."""

    alpha: np.ndarray
    corner: tuple[int, int]
    colour: np.ndarray


def warp_marks(sheet, homography, cover: np.ndarray, size: tuple[int, int]) -> list[Ink]:
    """The sheet's printing and ink in full-size frame pixels, hidden where something lies over them."""
    w, h = size
    scale = cover.shape[1] / w
    warped = []
    for mark in sheet.marks:
        mh, mw = mark.coverage.shape
        x, y = mark.offset
        corners = to_frame(homography, [[x, y], [x + mw, y], [x + mw, y + mh], [x, y + mh]])
        x0, y0 = np.maximum(np.floor(corners.min(0)) - 2, 0).astype(int)
        x1, y1 = np.minimum(np.ceil(corners.max(0)) + 2, [w, h]).astype(int)
        if x1 <= x0 or y1 <= y0:
            continue
        local = shifted(homography, before=(x, y), after=(-x0, -y0))
        alpha = cv2.warpPerspective(mark.coverage, local, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR)
        if cover[int(y0 * scale) : int(y1 * scale) + 1, int(x0 * scale) : int(x1 * scale) + 1].any():
            to_cover = np.float32([[scale, 0, -x0 * scale], [0, scale, -y0 * scale]])
            over = cv2.warpAffine(cover, to_cover, (x1 - x0, y1 - y0), flags=cv2.WARP_INVERSE_MAP)
            alpha = cv2.multiply(alpha, cv2.convertScaleAbs(over, alpha=-255, beta=255), scale=1 / 255)
        warped.append(Ink(alpha, (int(x0), int(y0)), mark.colour))
    return warped


def darken(img: np.ndarray, alpha: np.ndarray, corner: tuple[int, int], colour: np.ndarray) -> None:
    """Multiply an 8-bit region at `corner` by what a mark of `colour` and coverage `alpha` (0-255) lets through."""
    x, y = corner
    h, w = alpha.shape
    region = img[y : y + h, x : x + w]
    through = cv2.merge([cv2.convertScaleAbs(alpha, alpha=-(1 - float(c)), beta=255) for c in colour])
    region[:] = cv2.multiply(region, through, scale=1 / 255)
