"""The page of a whole frame, where its digit is looked for: strokes crossing printed rules stay whole,
a shadow touching the digit is parted from it, a thin faint stroke survives the page's shrinking, and a
faint pencil digit is found beside a dark pen."""

import cv2
import numpy as np

from mnist_mlops.serving.frames import across_lines, marks_box, near_sharp_edges
from mnist_mlops.serving.images import strokes_of
from mnist_mlops.serving.ink import steepness_of


def test_a_stroke_crossing_a_printed_rule_stays_whole_and_the_rule_goes():
    strokes = np.zeros((200, 200), np.uint8)
    strokes[100:102, :] = 1  # a rule across the page
    strokes[60:140, 90:94] = 1  # a 1 written over it
    lines = cv2.dilate(np.pad(np.ones((2, 200), np.uint8), ((100, 98), (0, 0))), np.ones((3, 3), np.uint8))
    kept = across_lines(strokes, lines)
    count, _ = cv2.connectedComponents(kept)
    assert count == 2  # the background and the 1, in one piece
    assert kept[100:102, :80].sum() == 0 and kept[100:102, 110:].sum() == 0  # the rule away from it is gone


def test_a_soft_shadow_touching_a_stroke_is_parted_from_it():
    gray = np.full((200, 200), 0.9, np.float32)
    shadow = cv2.GaussianBlur(cv2.circle(np.zeros_like(gray), (140, 100), 30, 1.0, -1), (0, 0), 8)
    gray *= 1 - 0.5 * shadow  # a finger's shadow reaching the stroke
    cv2.line(gray, (100, 40), (100, 160), 0.1, 4)  # the stroke, sharp-edged
    strokes = ((gray < 0.6) | (shadow > 0.5)).astype(np.uint8)
    kept = near_sharp_edges(strokes, steepness_of(gray))
    assert kept[40:160, 98:103].mean() > 0.95  # the stroke stays
    assert kept[90:110, 130:150].sum() == 0  # the shadow's inside goes


def test_a_bold_strokes_middle_far_from_its_edges_stays():
    """A marker's stroke 16 pixels wide, on a digit half the page tall: its middle lies farther from a
    sharp edge than a shadow's inside does, but it is enclosed by the stroke's edges, not fading out."""
    gray = np.full((200, 200), 0.9, np.float32)
    cv2.line(gray, (100, 40), (100, 160), 0.1, 16)
    strokes = (gray < 0.6).astype(np.uint8)
    assert np.array_equal(near_sharp_edges(strokes, steepness_of(gray)), strokes)


def test_a_thin_faint_pencil_line_survives_the_page_shrinking():
    """A 1-pixel line 0.2 darker than its grainy paper on an 800x1100 page, shrunk 4 times to look for
    the digit: averaged, it fades below the strokes' threshold; its darkest pixels kept, it is a stroke."""
    rng = np.random.default_rng(0)
    page = (0.85 + cv2.GaussianBlur(rng.normal(0, 0.02, (1100, 800)), (0, 0), 1)).astype(np.float32)
    cv2.line(page, (300, 400), (420, 700), 0.65, 1)
    _, _, strokes, shrink = strokes_of(page, lines=False, side=200, paper=True, page=True)
    along = [(round(y * shrink), round((300 + (y - 400) * 0.4) * shrink)) for y in range(420, 690, 20)]
    assert all(strokes[y - 1 : y + 2, x - 3 : x + 4].any() for y, x in along)


def test_a_faint_pencil_digit_is_found_beside_a_dark_pen_lying_on_the_page(small_mnist):
    """A pen on the sheet sets the page's contrast, so the pencil's strokes fall under the strokes'
    threshold; the digit is looked for again among fainter strokes, and the pen (far wider than tall) is not it."""
    rng = np.random.default_rng(0)
    page = (0.85 + cv2.GaussianBlur(rng.normal(0, 0.02, (1100, 800)), (0, 0), 1)).astype(np.float32)
    cv2.rectangle(page, (200, 100), (600, 130), 0.05, -1)  # the pen
    ink = np.clip(cv2.resize(small_mnist.test.images[0, ..., 0], (180, 180), interpolation=cv2.INTER_CUBIC), 0, 1)
    page[500:680, 300:480] -= 0.2 * ink  # a faint 7, a quarter as dark as the pen
    left, top, right, bottom = marks_box(page)
    assert left <= 338 and top <= 545 and right >= 440 and bottom >= 674 and top > 130  # around the 7's ink
