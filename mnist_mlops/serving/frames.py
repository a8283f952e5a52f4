"""From a decoded picture to its digits: a crop of paper is read as it is (images.py); a whole frame's
sheet is found and flattened (sheet.py), its marks are found on the page, and the paper around them is
read as a crop. Each digit's box is given in the pixels of the picture as it was sent."""

from dataclasses import dataclass, replace

import cv2
import numpy as np

from mnist_mlops.serving.decoding import Picture
from mnist_mlops.serving.images import (
    Digit,
    InputError,
    digits_of,
    groups_of,
    outline_band,
    read_digits,
    strokes_of,
    without_printed,
)
from mnist_mlops.serving.ink import SHARP, steepness_of
from mnist_mlops.serving.sheet import find_sheet

FIND_SIDE = 200  # pixels of the page's shorter side where its digit is looked for (a digit 8% of it is 16 tall)
FRAME_SIDE = 480  # pixels of the shorter side: a smaller picture is a crop of paper (a phone frame is larger)
SPECK = 0.05  # of the page's shorter side: a smaller mark is a speck or printed text (a digit is 8% or more)
AROUND = 0.8  # of the marks' larger side: the paper kept around them, as a crop shows it
BORDER = 0.03  # of the page's shorter side: a part this near its border lies over the sheet's edge (its margin
# inside the edge is paper)
LINE_RUN = 0.25  # of the page's shorter side: a straight run this long across or down it is a printed line
THIN_SIDE = 0.2  # of its length: a form box's side is thinner than this (a digit's part is rarely)
WIDEST = 3  # times its height: a wider mark is a printed rule or a row of boxes, not a digit
GROW = 0.15  # of the digit's height: a part lying mostly within its box grown this much belongs to it
GAP = 0.08  # of the digit's height: a part this near it is a broken-off piece of it (an 8's loop)...
GREW = 1.4  # ...if the digit's box grows no more than this with it (a printed word beside it would)
NUMBER_PART = 0.5  # of the tallest mark's height: a mark in line with it and this tall is another digit
REACH = 4  # pixels of the page where the digit is looked for: a stroke's pixels lie this near an ink's sharp edge
# (half a marker's width on a digit up to 30% of the page); a shadow's inside lies farther from any
FAINT_STROKE = 0.1  # share of the page's full contrast: a faint pencil's strokes where a dark pen set it
BRIDGE = 7  # pixels there: wider than a printed rule's band once taken out (the rule and a pixel each side)


@dataclass(frozen=True)
class Reading:
    """What was read in a picture: its digits, and the outline of the sheet they were found on."""

    digits: list[Digit]
    sheet: list[list[int]] | None  # the sheet's four corners in the picture's pixels; None for a crop


def in_picture(box: tuple[int, ...], to_frame: np.ndarray, scale: float) -> tuple[int, int, int, int]:
    """A box of the page as the box around it in the picture sent."""
    left, top, width, height = box
    corners = np.array(
        [[left, top], [left + width, top], [left + width, top + height], [left, top + height]], np.float32
    )
    mapped = cv2.perspectiveTransform(corners[None], to_frame)[0] * scale
    (left, top), (right, bottom) = mapped.min(axis=0), mapped.max(axis=0)
    return round(left), round(top), round(right - left), round(bottom - top)


def digit_like(stats: np.ndarray, least: float) -> np.ndarray:
    """Which parts (OpenCV's component stats) may be a written digit: at least `least` tall, and not
    a printed rule or a row of boxes (far wider than tall)."""
    width, height = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    return (height >= least) & (width <= WIDEST * height)


def on_border(stats: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Which parts touch the page's border: what lies over the sheet's edge (a thumb, a shadow), not ink on it."""
    left, top, width, height = (stats[:, index] for index in range(4))
    near = BORDER * min(shape)
    return (left <= near) | (top <= near) | (left + width >= shape[1] - near) | (top + height >= shape[0] - near)


def soft_edged(labels: np.ndarray, stats: np.ndarray, parts: np.ndarray, steepness: np.ndarray) -> np.ndarray:
    """Which of the parts asked about have outlines that fall softly (a shadow's corner or a finger's,
    which the paper's closing leaves as ink), not at an ink's sharp edge: the brightness (its steepness_of)
    falls around most of each by less than SHARP of the paper's per pixel."""
    soft = np.zeros(len(stats), bool)
    for part in np.flatnonzero(parts):
        left, top, width, height = stats[part, :4]
        around = np.s_[max(0, top - 3) : top + height + 3, max(0, left - 3) : left + width + 3]
        soft[part] = np.median(steepness[around][outline_band(labels[around] == part)]) < SHARP
    return soft


def near_sharp_edges(strokes: np.ndarray, steepness: np.ndarray) -> np.ndarray:
    """The stroke mask where it lies within REACH of an ink's sharp edge (by the image's steepness_of), or
    is enclosed by what does (a bold stroke's middle): a finger's shadow touching the digit, which the
    paper's closing leaves as ink, is parted from it (its inside fades far from any sharp edge, out to
    the paper)."""
    sharp = (steepness >= SHARP).astype(np.uint8)
    kept = strokes & cv2.dilate(sharp, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * REACH + 1,) * 2))
    count, labels = cv2.connectedComponents(strokes & (1 - kept))
    rims = cv2.dilate(labels.astype(np.uint16), np.ones((3, 3), np.uint8))  # each piece with its rim
    enclosed = (np.bincount(rims[strokes == 0], minlength=count) == 0) & (np.arange(count) > 0)
    return kept | enclosed[labels].astype(np.uint8)


def straight_runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A mask's straight runs across and down the image at least LINE_RUN of its shorter side long:
    printed lines on a flattened page (rules, a row of boxes' top and bottom, a margin)."""
    run = round(LINE_RUN * min(mask.shape))
    across = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((1, run), np.uint8))
    return across, cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((run, 1), np.uint8))


def across_lines(strokes: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """The stroke mask with printed lines taken out, and filled in again where a stroke crossed one (the
    line's band between the stroke's pieces on either side), so that a digit written over rules stays whole."""
    kept = strokes & (1 - lines)
    bridged = cv2.morphologyEx(kept, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (BRIDGE, BRIDGE)))
    return kept | (bridged & lines)


def box_sides(
    labels: np.ndarray, stats: np.ndarray, parts: np.ndarray, across: np.ndarray, down: np.ndarray
) -> np.ndarray:
    """Which of the parts asked about are a form box's sides: thin, and running from one printed line
    to another across their way (a side down the page from the row's top line to its bottom line; a
    stroke of a digit touching a line is not straight between two)."""
    near = np.ones((5, 5), np.uint8)
    across, down = cv2.dilate(across, near), cv2.dilate(down, near)
    sides = np.zeros(len(stats), bool)
    for part in np.flatnonzero(parts):
        left, top, width, height = stats[part, :4]
        rows, columns = slice(top, top + height), slice(left, left + width)
        if width <= THIN_SIDE * height:  # down the page: its top and bottom rows on lines across
            ends, lines = [np.s_[top : top + 2, columns], np.s_[top + height - 2 : top + height, columns]], across
        elif height <= THIN_SIDE * width:  # across it: its first and last columns on lines down
            ends, lines = [np.s_[rows, left : left + 2], np.s_[rows, left + width - 2 : left + width]], down
        else:
            continue
        sides[part] = all(((labels[end] == part) & (lines[end] > 0)).any() for end in ends)
    return sides


def digit_parts(
    strokes: np.ndarray, lines: tuple[np.ndarray, np.ndarray], steepness: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The parts of a stroke mask that make its digit, or its number: the tallest part that may be a
    digit, the parts lying mostly within its box or nearly touching it (a broken stroke, a 5's bar), and
    the parts of about its height in line with it (the number's other digits); as a mask, and their box
    (left, top, right, bottom). Everything else (printed text, boxes, rules, what lies over the edge,
    and, given the steepness of the image the strokes were found on, shadows' soft-edged parts) is left out."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(strokes, connectivity=8)
    placed = ~on_border(stats, strokes.shape) & (np.arange(count) > 0)
    if steepness is not None:
        placed &= ~soft_edged(labels, stats, placed, steepness)
    placed &= ~box_sides(labels, stats, placed, *lines)
    likely = np.flatnonzero(digit_like(stats, SPECK * min(strokes.shape)) & placed)
    if not likely.size:
        raise InputError("no digit: the sheet holds only paper, lines or shadow")
    tallest = likely[np.argmax(stats[likely, cv2.CC_STAT_HEIGHT])]
    height = stats[tallest, cv2.CC_STAT_HEIGHT]
    corners = stats[:, :2], stats[:, :2] + stats[:, 2:4]  # each part's top-left and bottom-right
    box = np.concatenate([corners[0][tallest], corners[1][tallest]])
    chosen, grown = {int(tallest)}, True
    while grown:
        grown = False
        for part in np.flatnonzero(placed):
            if part in chosen:
                continue
            near = np.concatenate([box[:2] - GROW * height, box[2:] + GROW * height])
            overlap = np.prod(np.clip(np.minimum(near[2:], corners[1][part]) - np.maximum(near[:2], corners[0][part]),
                                      0, None))  # fmt: skip
            within = overlap >= 0.5 * np.prod(stats[part, 2:4])
            gap = np.maximum(np.maximum(corners[0][part] - box[2:], box[:2] - corners[1][part]), 0).max()
            joined = np.concatenate([np.minimum(box[:2], corners[0][part]), np.maximum(box[2:], corners[1][part])])
            touching = gap <= GAP * height and (joined[2:] - joined[:2]).max() <= GREW * (box[2:] - box[:2]).max()
            in_line = min(box[3], corners[1][part][1]) - max(box[1], corners[0][part][1]) >= 0.5 * stats[part, 3]
            beside = max(corners[0][part][0] - box[2], box[0] - corners[1][part][0]) <= height
            mate = part in likely and stats[part, 3] >= NUMBER_PART * height and in_line and beside
            if within or touching or mate:
                chosen.add(int(part))
                box, grown = joined, True
    return np.isin(labels, list(chosen)), box


def page_digit(strokes: np.ndarray, steepness: np.ndarray) -> np.ndarray:
    """The box (left, top, right, bottom) of the digit among a page's strokes: printed rules taken out
    and strokes crossing them filled in, and what lies far from any sharp edge parted from them."""
    strokes = near_sharp_edges(strokes, steepness)
    lines = straight_runs(strokes)
    strokes = across_lines(strokes, cv2.dilate(lines[0] | lines[1], np.ones((3, 3), np.uint8)))
    return digit_parts(strokes, lines, steepness)[1]


def marks_box(page: np.ndarray) -> tuple[int, int, int, int]:
    """The box (left, top, right, bottom) in the page's pixels around its digit or number, with paper
    around. On the flattened page printed lines run along its sides: long straight runs across or down
    it are taken out first (on a crop, printed lines are told from strokes by lines.py), and so is what
    lies far from any sharp edge (a shadow's inside). Where no digit is found, it is looked for again
    among fainter strokes (FAINT_STROKE)."""
    gray, ink, strokes, shrink = strokes_of(page, lines=False, side=FIND_SIDE, paper=True, page=True)
    steepness = steepness_of(gray)
    try:
        left, top, right, bottom = page_digit(strokes, steepness)
    except InputError:  # a dark pen or the sheet's edge set the contrast: a faint pencil is under STROKE
        left, top, right, bottom = page_digit((ink > FAINT_STROKE).astype(np.uint8), steepness)
    margin = AROUND * max(right - left, bottom - top)
    box = np.array([left - margin, top - margin, right + margin, bottom + margin]) / shrink
    rows, columns = page.shape
    return (max(0, round(box[0])), max(0, round(box[1])), min(columns, round(box[2])), min(rows, round(box[3])))


def isolated(crop: np.ndarray) -> list[Digit]:
    """A crop's digit (or number) alone, in MNIST form: its strokes with their soft edges, at the
    working size, with what else was on the crop (a box's sides, text, rules) left out. Boxes are in
    the crop's pixels."""
    _, ink, strokes, shrink = strokes_of(crop, lines=False, paper=True)
    ink, strokes, found = without_printed(ink, strokes)
    keep, _ = digit_parts(strokes, (found, found))  # lines.py's are printed whichever way they run
    ink = ink * cv2.dilate(keep.astype(np.uint8), np.ones((5, 5), np.uint8))
    return digits_of(ink, groups_of(keep.astype(np.uint8)), shrink)


def read_picture(picture: Picture) -> Reading:
    """The digits in a picture, left to right, and the sheet they lie on; InputError if there are none."""
    gray = picture.gray
    sheet = find_sheet(gray) if min(gray.shape) >= FRAME_SIDE else None
    if sheet is None:
        scaled = []
        for digit in read_digits(gray):
            left, top, width, height = (round(value * picture.scale) for value in digit.box)
            scaled.append(replace(digit, box=(left, top, width, height)))
        return Reading(scaled, None)
    left, top, right, bottom = marks_box(sheet.page)
    placed = []
    for digit in isolated(sheet.page[top:bottom, left:right]):
        box = (digit.box[0] + left, digit.box[1] + top, *digit.box[2:])
        placed.append(replace(digit, box=in_picture(box, sheet.to_frame, picture.scale)))
    return Reading(placed, np.round(sheet.corners * picture.scale).astype(int).tolist())
