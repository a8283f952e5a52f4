"""Printed lines and boxes in a photo's stroke mask (uint8, 1 where ink): what is not a digit's
stroke because it is thinner than the strokes and straight across the image (ruled and squared
paper, a margin, a table's border) or a hollow frame inked along its four edges (a form box)."""

import cv2
import numpy as np

ACROSS = 0.9  # of the image's longer side: a lone line this long is printed (a ruled line, a margin)
LINE_LENGTH = 0.4  # a printed line runs at least this share of the image's side
LINE_WIDTH = 0.03  # of the side: a printed line is at most this thick...
THINNER = 0.6  # ...or this share of the thickest stroke; a stroke is thicker
BOX_SIDE = 0.1  # of the image's side: a box is at least this wide and tall
BOX_BAND = 0.04  # of the side: how far in from a box's outline its printed sides can reach
BOXED = 0.9  # share of each of its four edges a box's outline inks
BOX_PEELS = 3  # a box's sides thicker than the band go in up to this many bands
STRAIGHT = 0.5  # share of a printed structure's pixels on straight lines of at least LINE_LENGTH


def drawn(segments: np.ndarray, shape: tuple[int, int], width: int) -> np.ndarray:
    """Line segments (x1, y1, x2, y2) drawn width + 1 pixels wide on a uint8 mask of a shape."""
    mask = np.zeros(shape, np.uint8)
    for x1, y1, x2, y2 in segments:
        cv2.line(mask, (int(x1), int(y1)), (int(x2), int(y2)), 1, width + 1)
    return mask


def printed_lines(strokes: np.ndarray) -> np.ndarray:
    """The pixels of printed lines in a stroke mask (uint8 0/1): thinner than strokes (what an opening
    as wide as LINE_WIDTH of the side, or THINNER of the thickest stroke, removes) and reaching at
    least LINE_LENGTH of the side, alone (a ruled line) or joined (a box, a grid)."""
    depth = cv2.distanceTransform(strokes, cv2.DIST_L2, 3)
    thickest = 2 * np.percentile(depth[depth > 0], 99)
    width = round(max(LINE_WIDTH * min(strokes.shape), THINNER * thickest))
    thick = cv2.morphologyEx(strokes, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width + 2,) * 2))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(thick, connectivity=8)
    blobs = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] < (2 * width) ** 2)  # a box's corner, where lines cross
    thick[np.isin(labels, blobs[blobs > 0])] = 0
    thin = strokes & (1 - cv2.dilate(thick, np.ones((3, 3), np.uint8)))
    length, spans = round(LINE_LENGTH * min(strokes.shape)), round(ACROSS * min(strokes.shape))
    found = cv2.HoughLinesP(thin, 1, np.pi / 360, threshold=length // 2, minLineLength=length, maxLineGap=2 * width)
    segments = np.reshape([] if found is None else found, (-1, 4)).astype(int)
    straight = drawn(segments, strokes.shape, width)
    long = np.hypot(*(segments[:, 2:] - segments[:, :2]).T) >= spans  # edge to edge, even if broken into dashes
    across_lines = drawn(segments[long], strokes.shape, width)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(thin, connectivity=8)
    on_lines = np.bincount(labels[straight > 0], minlength=count) / stats[:, cv2.CC_STAT_AREA]
    sides = stats[:, 2:4]
    across = sides.max(axis=1) >= ACROSS * max(strokes.shape)  # a ruled line, a table's border
    # A grid: across the image both ways, beside strokes thicker than it (when nothing is thicker, a
    # thin digit filling the image would be that; edge-to-edge lines still go). Boxes: box_edges.
    framing = (sides.min(axis=1) >= ACROSS * min(strokes.shape)) & thick.any()
    printed = (across | framing) & (on_lines >= STRAIGHT)
    printed[0] = False
    return printed[labels].astype(np.uint8) | (thin & across_lines)


def box_edges(strokes: np.ndarray) -> np.ndarray:
    """The sides of printed boxes in a stroke mask, however thick: a part at least BOX_SIDE of the
    image's side both ways, hollow, whose four edges are each inked along BOXED of their length (no
    digit is), peeled BOX_BAND of the side at a time while one is found."""
    band = max(3, round(BOX_BAND * min(strokes.shape)))
    edges = np.zeros_like(strokes)
    for _ in range(BOX_PEELS):
        count, labels, stats, _ = cv2.connectedComponentsWithStats(strokes & (1 - edges), connectivity=8)
        found = False
        for part in np.flatnonzero(stats[:, 2:4].min(axis=1) >= BOX_SIDE * min(strokes.shape))[1:]:
            left, top, width, height = stats[part, :4]
            place = np.s_[top : top + height, left : left + width]
            inked = labels[place] == part
            sides = (inked[:band].any(axis=0), inked[-band:].any(axis=0), inked[:, :band].any(axis=1),
                     inked[:, -band:].any(axis=1))  # fmt: skip
            hollow = inked[band:-band, band:-band].mean() < 0.5  # a thick upright 1 is inked all over
            if min(side.mean() for side in sides) >= BOXED and hollow:
                frame = np.ones_like(inked)
                frame[band:-band, band:-band] = False
                edges[place] |= (inked & frame).astype(np.uint8)
                found = True
        if not found:
            return edges
    return edges


def printed(strokes: np.ndarray) -> np.ndarray:
    """The pixels of printed lines and boxes in a stroke mask."""
    return printed_lines(strokes) | box_edges(strokes)
