"""The image path at its own level: printed lines go, strokes stay, and the reasons for refusing."""

import cv2
import numpy as np
import pytest

from mnist_mlops.evaluate.paper import PAPERS, handwriting, photograph
from mnist_mlops.serving.images import InputError, read_digits


def gray_of(sheet: np.ndarray) -> np.ndarray:
    """A photographed RGB sheet as the served model reads it: grayscale in [0, 1]."""
    return photograph(sheet, np.random.default_rng(0)).mean(axis=2).astype(np.float32) / 255


def test_a_tall_thick_one_on_squared_paper_is_not_taken_for_a_line():
    """A "1" as tall as the sheet, 9 pixels wide, among grid lines 1-2 pixels wide: it is the digit."""
    ink = np.zeros((160, 160), np.float32)
    cv2.line(ink, (80, 8), (80, 152), 1.0, 9)
    (digit,) = read_digits(gray_of(PAPERS["squared"](ink, np.random.default_rng(1))))
    left, top, width, height = digit.box
    assert height >= 135 and width <= 20 and abs(left + width / 2 - 80) <= 3
    assert digit.pixels[:, 13:15].sum() > 0.9 * digit.pixels.sum() / 2  # upright in the middle


@pytest.mark.parametrize("kind", ["form_box", "squared", "ruled", "perspective"])
def test_printed_lines_leave_the_digit_alone_in_its_box(kind, small_mnist):
    """The digit's box in the image is where the digit was drawn, not the paper's lines around it."""
    rng = np.random.default_rng(2)
    ink = handwriting(small_mnist.test.images[0, ..., 0], rng)  # a 7
    (digit,) = read_digits(gray_of(PAPERS[kind](ink, rng)))
    rows, columns = np.flatnonzero(ink.max(axis=1) > 0.3), np.flatnonzero(ink.max(axis=0) > 0.3)
    left, top, width, height = digit.box
    drawn = (columns[0], rows[0], columns[-1] - columns[0] + 1, rows[-1] - rows[0] + 1)
    if kind != "perspective":  # the warp moves the digit
        assert np.allclose((left, top, width, height), drawn, atol=4), (digit.box, drawn)


def test_a_bold_blot_of_ink_stays_ink_and_a_finger_shadow_stays_paper():
    """A 6 whose loop is filled solid, wider than the paper's closing: read solid, not as its rim;
    a finger's soft shadow as wide, beside it, is not ink."""
    ink = np.zeros((160, 160), np.float32)
    cv2.ellipse(ink, (80, 50), (12, 34), 20, 0, 360, 1.0, 8)  # the 6's stem
    cv2.circle(ink, (78, 100), 24, 1.0, -1)  # its loop, filled
    (digit,) = read_digits(1 - 0.9 * ink)
    loop = digit.pixels[16:21, 12:17]  # the middle of the loop in MNIST form
    assert loop.min() > 0.8, loop.min()
    shade = cv2.GaussianBlur(cv2.line(np.zeros_like(ink), (0, 159), (40, 60), 1.0, 32), (0, 0), 8)
    (shaded,) = read_digits((1 - 0.9 * ink) * (1 - 0.5 * shade))
    assert np.abs(shaded.pixels - digit.pixels).mean() < 0.05


def test_a_fine_pen_on_a_large_digit_is_seen_as_a_pen_of_mnist_width():
    """A 7 250 pixels tall drawn 2 pixels wide would shrink to a faint hairline in 28x28 (read as a 1);
    it is seen as the same 7 drawn 9 pixels wide."""

    def seven(width: int) -> np.ndarray:
        page = np.ones((320, 320), np.float32)
        cv2.polylines(page, [np.array([[90, 40], [230, 40], [140, 290]])], False, 0.1, width)
        (digit,) = read_digits(page)
        return digit.pixels

    fine, bold = seven(2), seven(9)
    assert fine.max() == 1.0 and np.abs(fine - bold).mean() < 0.02


def test_a_box_as_thick_as_the_strokes_is_taken_out(small_mnist):
    """A form box drawn with the pen's own width around a digit: its four sides go, the digit stays."""
    rng = np.random.default_rng(3)
    ink = handwriting(small_mnist.test.images[0, ..., 0], rng)  # a 7
    rows, columns = np.flatnonzero(ink.max(axis=1) > 0.3), np.flatnonzero(ink.max(axis=0) > 0.3)
    boxed = ink.copy()
    cv2.rectangle(boxed, (int(columns[0]) - 8, int(rows[0]) - 8), (int(columns[-1]) + 8, int(rows[-1]) + 8), 1.0, 7)
    (alone,), (in_box,) = read_digits(1 - ink), read_digits(1 - boxed)
    assert np.allclose(in_box.box, alone.box, atol=3), (in_box.box, alone.box)
    assert np.abs(in_box.pixels - alone.pixels).mean() < 0.05


def test_more_marks_than_a_number_holds_and_touching_digits_are_refused():
    ink = np.zeros((100, 1400), np.float32)
    for place in range(13):
        cv2.line(ink, (50 + place * 100, 20), (50 + place * 100, 80), 1.0, 8)
    with pytest.raises(InputError, match="13 marks side by side; a number holds at most 12 digits"):
        read_digits(1 - ink)
    wide = np.zeros((100, 400), np.float32)  # a 1, then two 0s that touch
    cv2.line(wide, (40, 20), (40, 80), 1.0, 8)
    cv2.ellipse(wide, (150, 50), (35, 30), 0, 0, 360, 1.0, 8)
    cv2.ellipse(wide, (218, 50), (35, 30), 0, 0, 360, 1.0, 8)
    with pytest.raises(InputError, match="digits touch"):
        read_digits(1 - wide)


def test_a_speck_on_a_small_image_is_no_digit():
    """A 28x28 image (read as one digit) with only a 2-pixel mark: refused, not answered."""
    image = np.ones((28, 28), np.float32)
    image[5:7, 5] = 0
    with pytest.raises(InputError, match="no digit"):
        read_digits(image)


def test_a_pen_fading_along_its_stroke_is_read_as_evenly_dark():
    """A 7 whose pen runs dry along its stem (from 0.9 to 0.5 darker than the paper) is read as the
    same 7 drawn evenly (MNIST's strokes are as dark along their length); unevened, they differ by 0.05."""

    def seven(fading: bool) -> np.ndarray:
        page = np.ones((320, 320), np.float32)
        cv2.line(page, (90, 40), (230, 40), 0.1, 12)
        for step in range(25):  # the stem, in pieces ever lighter
            start, end = (
                np.array([230, 40]) + step * np.array([-90, 250]) / 25,
                np.array([230, 40]) + (step + 1) * np.array([-90, 250]) / 25,
            )
            cv2.line(page, start.astype(int), end.astype(int), 0.1 + (0.4 * step / 24 if fading else 0), 12)
        (digit,) = read_digits(page)
        return digit.pixels

    faded, even = seven(True), seven(False)
    assert np.abs(faded - even).mean() < 0.01, np.abs(faded - even).mean()
