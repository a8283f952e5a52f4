"""The sheet: its size and colour, what is printed on it (lines, squares, form boxes), creases, the digit's place."""

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from .fields import fractal_noise, random_words

# Width and height in mm, the sheet portrait or as it usually lies.
SHEETS = {
    "a4": (210, 297),
    "a5": (148, 210),
    "letter": (216, 279),
    "notebook": (165, 210),
    "sticky_note": (76, 76),
    "index_card": (127, 76),
}
WHITE = {"white": (0.95, 0.95, 0.94), "recycled": (0.89, 0.88, 0.84), "ivory": (0.95, 0.93, 0.87)}
COLOURED = {
    "yellow": (0.98, 0.90, 0.42),
    "pink": (0.98, 0.66, 0.76),
    "green": (0.72, 0.92, 0.56),
    "blue": (0.60, 0.82, 0.96),
    "orange": (1.00, 0.72, 0.40),
    "kraft": (0.70, 0.54, 0.36),
    "lilac": (0.85, 0.80, 0.95),
    "mint": (0.82, 0.95, 0.86),
}


@dataclass(frozen=True)
class Spec:
    """The kind of sheet before it is drawn: size, paper colour and printing."""

    sheet: str
    paper: str
    colour: tuple[float, float, float]
    printing: str  # "blank", "ruled", "squared" or "form_box"
    crumpled: bool

    @property
    def size_mm(self) -> tuple[float, float]:
        """Width and height in mm."""
        return SHEETS[self.sheet]


def choose(kind: str, rng: np.random.Generator) -> Spec:
    """A sheet suited to frame `kind`."""
    printing = {"frame-form_box": "form_box", "frame-squared": "squared", "frame-ruled": "ruled"}.get(kind, "blank")
    if kind in ("frame-pencil", "frame-shadow", "frame-finger_shadow", "frame-crumpled", "frame-empty"):
        printing = str(rng.choice(["blank", "blank", "ruled", "squared", "form_box"]))
    sheets = ["a4", "a5", "letter", "notebook", "sticky_note", "index_card"]
    if printing in ("ruled", "squared"):
        sheets = ["a4", "a5", "notebook"]
    sheet = str(rng.choice(sheets))
    papers = COLOURED if kind == "frame-coloured" else WHITE
    paper = str(rng.choice(list(papers)))
    colour = papers[paper]
    return Spec(sheet, paper, colour, printing, kind == "frame-crumpled")


def _line(layer: np.ndarray, p0, p1, width_px: float, strength: float) -> None:
    """An anti-aliased printed line on an 8-bit coverage layer; lines thinner than a pixel are drawn fainter."""
    value = int(255 * strength * min(1.0, width_px))
    pts = [(int(round(x * 16)), int(round(y * 16))) for x, y in (p0, p1)]
    cv2.line(layer, pts[0], pts[1], value, max(1, int(round(width_px))), cv2.LINE_AA, 4)


def _rule(layer: np.ndarray, spec: Spec, mm: float, rng: np.random.Generator) -> dict:
    """Ruled lines (with a top space and a margin line) or a squared grid; where lines are, for the digit."""
    h, w = layer.shape
    if spec.printing == "ruled":
        pitch, top = rng.uniform(6, 9) * mm, rng.uniform(15, 30) * mm
        for y in np.arange(top, h, pitch):
            _line(layer, (0, y), (w, y), 0.2 * mm, rng.uniform(0.5, 0.8))
        return {"pitch": pitch, "origin": top, "margin": rng.uniform(18, 32) * mm}
    pitch = rng.choice([4.0, 5.0]) * mm
    shift = rng.uniform(0, pitch, 2)
    for x in np.arange(shift[0], w, pitch):
        _line(layer, (x, 0), (x, h), 0.15 * mm, rng.uniform(0.35, 0.6))
    for y in np.arange(shift[1], h, pitch):
        _line(layer, (0, y), (w, y), 0.15 * mm, rng.uniform(0.35, 0.6))
    return {"pitch": pitch, "origin": shift[1], "margin": 0.0}


def _form_row(layer, mm, box, rng) -> None:
    """A row of printed boxes with a caption, one of them around `box` (x0, y0, x1, y1), maybe touching it."""
    x0, y0, x1, y1 = box
    height = (y1 - y0) * (rng.uniform(0.95, 1.1) if rng.random() < 0.3 else rng.uniform(1.15, 1.7))
    width = max(x1 - x0, height * rng.uniform(0.75, 1.1))
    cx, cy = (x0 + x1) / 2 + rng.uniform(-0.15, 0.15) * width, (y0 + y1) / 2 + rng.uniform(-0.1, 0.1) * height
    count = int(rng.integers(1, 7))
    index = int(rng.integers(0, count))
    left, top = cx - width / 2 - index * width, cy - height / 2
    stroke, strength = rng.uniform(0.2, 0.6) * mm, rng.uniform(0.6, 1.0)
    for i in range(count + 1):
        _line(layer, (left + i * width, top), (left + i * width, top + height), stroke, strength)
    for y in (top, top + height):
        _line(layer, (left, y), (left + count * width, y), stroke, strength)
    caption_scale = 3 * mm / 22
    cv2.putText(
        layer,
        random_words(rng, 2).capitalize(),
        (int(left), int(top - 2 * mm)),
        cv2.FONT_HERSHEY_SIMPLEX,
        caption_scale,
        int(255 * strength),
        max(1, int(0.3 * mm)),
        cv2.LINE_AA,
    )


def _print_colour(spec: Spec, rng: np.random.Generator) -> np.ndarray:
    """Ink of the printing: pale blue or grey for rulings; black, grey, blue, red or green for forms."""
    if spec.printing == "form_box":
        choices = [(0.1, 0.1, 0.1), (0.45, 0.45, 0.45), (0.2, 0.3, 0.7), (0.85, 0.25, 0.25), (0.3, 0.6, 0.35)]
    else:
        choices = [(0.45, 0.62, 0.9), (0.55, 0.55, 0.6), (0.6, 0.5, 0.8)]
    return np.float32(choices[rng.integers(len(choices))])


def _digit_box(rng, shape, height, aspect, rules, fits) -> tuple[float, float, float, float] | None:
    """A box (x0, y0, x1, y1) `height` tall for the digit that `fits` decides is in view, resting on a rule if any."""
    h, w = shape
    width = height * aspect
    for _ in range(40):
        x = rng.uniform(0.05 * w + rules.get("margin", 0), max(0.05 * w, 0.95 * w - width))
        y = rng.uniform(0.05 * h, max(0.05 * h, 0.95 * h - height))
        if "pitch" in rules:
            # Writers sit a digit on a line (ruled) or on a grid line (squared).
            y = rules["origin"] + np.ceil((y + height - rules["origin"]) / rules["pitch"]) * rules["pitch"] - height
        box = (x, y, x + width, y + height)
        if box[3] < 0.98 * h and fits(box):
            return box
    return None


def _creases(rng: np.random.Generator, small: tuple[int, int]) -> np.ndarray:
    """Shading of a crumpled sheet, drawn small: facets tipped to the light and folds lit on one side."""
    ys, xs = np.mgrid[0 : small[0], 0 : small[1]].astype(np.float32)
    seeds = np.ones(small, np.uint8)
    count = int(rng.integers(30, 120))
    seeds[rng.integers(0, small[0], count), rng.integers(0, small[1], count)] = 0
    # Each facet is the region nearest one seed point, with its own tilt to the light.
    _, nearest = cv2.distanceTransformWithLabels(seeds, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
    facets = rng.uniform(-0.035, 0.035, count + 1).astype(np.float32)[np.minimum(nearest, count)]
    shade = 1 + cv2.GaussianBlur(facets, (0, 0), 2.5)
    for _ in range(int(rng.integers(3, 10))):
        px, py, angle = rng.uniform(0, small[1]), rng.uniform(0, small[0]), rng.uniform(0, np.pi)
        d = (xs - px) * np.sin(angle) - (ys - py) * np.cos(angle)
        shade += rng.uniform(0.03, 0.1) * np.sign(d) * np.exp(-np.abs(d) / rng.uniform(3, 15))
        shade -= rng.uniform(0.05, 0.15) * np.exp(-((d / 0.8) ** 2))
    return cv2.GaussianBlur(shade, (0, 0), 0.7)


@dataclass
class Mark:
    """Something dark on the sheet: 8-bit coverage at (x, y) `offset` in sheet pixels, and its colour."""

    coverage: np.ndarray
    offset: tuple[int, int]
    colour: np.ndarray


@dataclass
class Sheet:
    """A drawn sheet: its paper, a small shading field over it, the marks on it and the digit's box or None."""

    shape: tuple[int, int]
    colour: np.ndarray
    roughness: float
    shading: np.ndarray
    marks: list[Mark]
    digit_box: tuple[float, float, float, float] | None


SHADING_SIDE = 400  # the shading field's longer side in pixels


def draw_sheet(spec: Spec, shape, mm: float, rngs, ink: Callable | None, fits: Callable) -> Sheet:
    """Paper of `spec` at `mm` px per mm; `ink(height_px)` gives (alpha, corner, aspect, colour) or is None.

    `rngs` is (paper, place): the second only places the digit or the empty form, so a sheet drawn with and
    without a digit differs in nothing else.
    """
    rng, place = rngs
    h, w = shape
    small = (max(8, int(h * SHADING_SIDE / max(h, w))), max(8, int(w * SHADING_SIDE / max(h, w))))
    shading = 1 + 0.02 * fractal_noise(rng, small, 2, 2)
    if spec.crumpled:
        shading *= _creases(rng, small)
    layer = np.zeros(shape, np.uint8)
    rules = _rule(layer, spec, mm, rng) if spec.printing in ("ruled", "squared") else {}
    marks = []
    box = None
    if ink is not None:
        box, mark = _place_ink(layer, spec, mm, place, ink, rules, fits)
        marks.append(mark)
    elif spec.printing == "form_box":
        size = place.uniform(0.1, 0.25) * min(w, h)
        x, y = place.uniform(0.1, 0.6) * w, place.uniform(0.1, 0.8) * h
        _form_row(layer, mm, (x, y, x + size * 0.7, y + size), place)
    if spec.printing != "blank":
        marks.insert(0, Mark(layer, (0, 0), _print_colour(spec, rng)))
    if spec.printing == "ruled":
        x0 = max(0, int(rules["margin"] - 0.2 * mm))
        margin = np.full((h, int(0.4 * mm) + 1), 180, np.uint8)
        marks.insert(0, Mark(margin, (x0, 0), np.float32([0.9, 0.35, 0.4])))
    rough = 0.05 if spec.paper == "kraft" else 0.015
    return Sheet(shape, np.float32(spec.colour), rough, shading.astype(np.float32), marks, box)


def _place_ink(layer, spec, mm, rng, ink, rules, fits) -> tuple[tuple[float, float, float, float], Mark]:
    """Choose where the digit goes, in view (inside a printed box for forms); its box and its ink."""
    h, w = layer.shape
    short = min(spec.size_mm) * mm
    for share in (rng.uniform(0.08, 0.35), 0.12, 0.08):
        alpha, corner, aspect, colour = ink(share * short)
        box = _digit_box(rng, (h, w), share * short, aspect, rules, fits)
        if box is not None:
            break
    else:
        raise RuntimeError("no place on the sheet in view for the digit")  # place_sheet keeps enough in view
    if spec.printing == "form_box":
        _form_row(layer, mm, box, rng)
    offset = (int(round(box[0] - corner[0])), int(round(box[1] - corner[1])))
    return box, Mark(np.clip(alpha * 255 + 0.5, 0, 255).astype(np.uint8), offset, np.float32(colour))
