"""From a decoded picture to its digits: a crop of paper is read as it is (images.py); a whole frame's
sheet is found and flattened (sheet.py), its marks are found on the page, and the paper around them is
read as a crop. Each digit's box is given in the pixels of the picture as it was sent."""

from dataclasses import dataclass, replace

import cv2
import numpy as np

from mnist_mlops.serving.decoding import Picture
from mnist_mlops.serving.images import Digit, InputError, marks, read_digits
from mnist_mlops.serving.sheet import find_sheet

FRAME_SIDE = 200  # pixels of the shorter side: a smaller picture is a crop of paper, not a frame
SPECK = 0.02  # of the page's shorter side: on a whole sheet a digit may be this small, not a crop's tenth
AROUND = 0.5  # of the marks' larger side: the paper kept around them, as a crop shows it


@dataclass(frozen=True)
class Reading:
    """What was read in a picture: its digits, and the outline of the sheet they were found on."""

    digits: list[Digit]
    sheet: list[list[int]] | None  # the sheet's four corners in the picture's pixels; None for a crop


def in_picture(box: tuple[int, ...], to_frame: np.ndarray, scale: float) -> tuple[int, int, int, int]:
    """A box of the page as the box around it in the picture sent."""
    left, top, width, height = box
    corners = np.float32([[left, top], [left + width, top], [left + width, top + height], [left, top + height]])
    mapped = cv2.perspectiveTransform(corners[None], to_frame)[0] * scale
    (left, top), (right, bottom) = mapped.min(axis=0), mapped.max(axis=0)
    return round(left), round(top), round(right - left), round(bottom - top)


def marks_box(page: np.ndarray) -> tuple[int, int, int, int]:
    """The box (left, top, right, bottom) in the page's pixels around every mark on it, with paper around."""
    _, groups, shrink = marks(page, SPECK)
    if not groups:
        raise InputError("no digit: the sheet holds only paper, lines or shadow")
    rows, columns = np.flatnonzero(np.any(groups, axis=(0, 2))), np.flatnonzero(np.any(groups, axis=(0, 1)))
    left, top, right, bottom = (value / shrink for value in (columns[0], rows[0], columns[-1] + 1, rows[-1] + 1))
    margin = AROUND * max(right - left, bottom - top)
    height, width = page.shape
    return (max(0, round(left - margin)), max(0, round(top - margin)), min(width, round(right + margin)),
            min(height, round(bottom + margin)))  # fmt: skip


def read_picture(picture: Picture) -> Reading:
    """The digits in a picture, left to right, and the sheet they lie on; InputError if there are none."""
    gray = picture.gray
    sheet = find_sheet(gray) if min(gray.shape) >= FRAME_SIDE else None
    if sheet is None:
        scaled = [replace(digit, box=tuple(round(value * picture.scale) for value in digit.box))
                  for digit in read_digits(gray)]  # fmt: skip
        return Reading(scaled, None)
    left, top, right, bottom = marks_box(sheet.page)
    digits = read_digits(sheet.page[top:bottom, left:right])
    placed = [replace(digit, box=in_picture((digit.box[0] + left, digit.box[1] + top, *digit.box[2:]),
                                            sheet.to_frame, picture.scale)) for digit in digits]  # fmt: skip
    return Reading(placed, np.round(sheet.corners * picture.scale).astype(int).tolist())
