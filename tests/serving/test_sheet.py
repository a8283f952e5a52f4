"""A phone's whole frame: the sheet found within a few pixels of its corners, flattened, and read; a
frame without a sheet or without a digit refused; a crop of paper read as a crop."""

import cv2
import numpy as np
import pytest

from mnist_mlops.serving.decoding import Picture
from mnist_mlops.serving.frames import read_picture
from mnist_mlops.serving.images import InputError
from mnist_mlops.serving.sheet import find_sheet

WIDTH, HEIGHT = 900, 1200  # the frame
SHEET = (560, 790)  # the sheet's width and height before it is turned and tilted


def sheet_corners(angle: float, tilt: float) -> np.ndarray:
    """The sheet's four corners in the frame (top-left first, clockwise): turned by angle degrees about
    the frame's centre, its top edge foreshortened by tilt (a phone held at an angle)."""
    width, height = SHEET
    flat = np.float32([[-width / 2 * (1 - tilt), -height / 2], [width / 2 * (1 - tilt), -height / 2],
                       [width / 2, height / 2], [-width / 2, height / 2]])  # fmt: skip
    turn = np.deg2rad(angle)
    rotation = np.float32([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    return flat @ rotation.T + np.float32([WIDTH / 2, HEIGHT / 2])


def frame(corners: np.ndarray, digit: np.ndarray | None, table: float = 0.25) -> np.ndarray:
    """A grey frame: a grainy table, the sheet within its corners, a dark digit a sixth of the sheet tall."""
    rng = np.random.default_rng(0)
    picture = np.clip(table + cv2.GaussianBlur(rng.normal(0, 0.08, (HEIGHT, WIDTH)), (0, 0), 2), 0, 1)
    sheet = np.full(SHEET[::-1], 0.9, np.float32)
    if digit is not None:
        side = SHEET[1] // 6
        ink = np.clip(cv2.resize(digit, (side, side), interpolation=cv2.INTER_CUBIC), 0, 1)
        top, left = SHEET[1] // 3, SHEET[0] // 3
        sheet[top : top + side, left : left + side] -= 0.8 * ink
    flat = np.float32([[0, 0], [SHEET[0], 0], [SHEET[0], SHEET[1]], [0, SHEET[1]]])
    warp = cv2.getPerspectiveTransform(flat, corners.astype(np.float32))
    warped = cv2.warpPerspective(sheet, warp, (WIDTH, HEIGHT), borderValue=-1)
    picture = np.where(warped >= 0, warped, picture).astype(np.float32)
    return cv2.GaussianBlur(picture, (0, 0), 1.0) + rng.normal(0, 0.01, picture.shape).astype(np.float32)


@pytest.mark.parametrize(("angle", "tilt"), [(0, 0), (8, 0), (-14, 0.1), (5, 0.2)])
def test_a_sheet_on_a_table_is_found_within_a_few_pixels_of_its_corners(angle, tilt, small_mnist):
    corners = sheet_corners(angle, tilt)
    found = find_sheet(frame(corners, small_mnist.test.images[0, ..., 0]))
    assert found is not None
    assert np.abs(found.corners - corners).max() <= 4, found.corners - corners


def test_a_sheet_on_a_desk_nearly_as_light_under_a_lamp_is_found(small_mnist):
    """A white sheet on a desk a few levels darker, lit from one side: the lamp's light falls off across
    the frame by more than the sheet stands out from the desk, so only its faint, straight edges tell it."""
    corners = sheet_corners(6, 0.05)
    picture = frame(corners, small_mnist.test.images[0, ..., 0], table=0.86)
    rows, columns = np.indices(picture.shape) / max(picture.shape)
    found = find_sheet((picture * (1 - 0.3 * np.hypot(rows - 0.2, columns - 0.1) ** 2)).astype(np.float32))
    assert found is not None
    assert np.abs(found.corners - corners).max() <= 6, found.corners - corners


def test_the_digit_on_the_sheet_is_read_and_placed_in_the_frame(small_mnist):
    """A 7 on a tilted sheet: one digit, in MNIST form, its box where it was drawn (mapped back through the warp)."""
    corners = sheet_corners(10, 0.1)
    reading = read_picture(Picture(frame(corners, small_mnist.test.images[0, ..., 0]), 2.0))
    (digit,) = reading.digits
    assert np.abs(np.array(reading.sheet) - corners * 2).max() <= 8
    centre = np.array(digit.box[:2]) + np.array(digit.box[2:]) / 2
    flat = np.float32([[0, 0], [SHEET[0], 0], [SHEET[0], SHEET[1]], [0, SHEET[1]]])
    drawn = SHEET[1] // 3 + SHEET[1] // 12, SHEET[0] // 3 + SHEET[1] // 12  # the digit's centre on the sheet
    expected = cv2.perspectiveTransform(
        np.float32([[[drawn[1], drawn[0]]]]), cv2.getPerspectiveTransform(flat, corners.astype(np.float32))
    )[0, 0]
    assert np.abs(centre - expected * 2).max() <= 30, (centre, expected * 2)
    assert digit.pixels.max() >= 0.99 and abs(np.argwhere(digit.pixels > 0.3).mean(axis=0) - 14).max() <= 2


def test_an_empty_sheet_and_a_table_without_a_sheet_are_refused():
    with pytest.raises(InputError, match="no digit"):
        read_picture(Picture(frame(sheet_corners(5, 0.1), None), 1.0))
    rng = np.random.default_rng(1)
    table = np.clip(0.3 + cv2.GaussianBlur(rng.normal(0, 0.2, (HEIGHT, WIDTH)), (0, 0), 3), 0, 1).astype(np.float32)
    with pytest.raises(InputError, match="no digit"):
        read_picture(Picture(table, 1.0))
    planks = np.array([0.2, 0.35, 0.25, 0.4, 0.3, 0.22, 0.38])[np.indices((HEIGHT, WIDTH))[1] // 150]
    wood = (table - 0.3 + planks).astype(np.float32)  # planks of wood, each its own tone
    with pytest.raises(InputError, match="no digit"):
        read_picture(Picture(wood, 1.0))


def test_a_crop_of_paper_has_no_sheet_to_find(small_mnist):
    """All paper (a crop, the drawing canvas): read as it is."""
    paper = np.full((600, 600), 0.92, np.float32)  # larger than a crop is taken for: the sheet is looked for
    ink = np.clip(cv2.resize(small_mnist.test.images[0, ..., 0], (360, 360), interpolation=cv2.INTER_CUBIC), 0, 1)
    paper[120:480, 120:480] -= 0.85 * ink
    assert find_sheet(paper) is None
    assert len(read_picture(Picture(paper, 1.0)).digits) == 1
