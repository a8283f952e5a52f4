"""MNIST digits as users send them: a phone's whole frame of a sheet lying on a surface (JPEG with EXIF
orientation), or a crop or scan of one digit. The image path's constants are tuned on these pictures.

The sheets' paper comes from mnist_mlops.evaluate.paper; the surfaces, hands, shadows, geometry and
camera are drawn here. Smooth things (surfaces, light, shadows) are drawn at most WORK pixels long and
enlarged to the frame, so a 3000x4000 frame costs little more than a small one."""

import io

import cv2
import numpy as np
from PIL import Image

from mnist_mlops.evaluate import paper

KINDS = (
    *(f"frame-{name}" for name in ("plain", "pencil", "form_box", "squared", "ruled", "shadow", "finger_shadow")),
    *(f"frame-{name}" for name in ("coloured", "crumpled", "empty", "nosheet")),
    *(f"scan-{name}" for name in ("plain", "lowres", "pencil", "marker")),
)
SURFACES = ("dark_wood", "light_desk", "patterned_cloth", "concrete", "carpet")
BACKGROUNDS = (*SURFACES, "hand_at_edge")  # the hand holds the sheet over one of the surfaces
PENS = {  # name -> ink colour (RGB) and the density below which it leaves no mark (higher: thinner strokes)
    "ballpoint-blue": ((0.1, 0.16, 0.5), 0.35),
    "ballpoint-black": ((0.1, 0.1, 0.13), 0.35),
    "felt-blue": ((0.07, 0.1, 0.42), 0.1),
    "felt-black": ((0.05, 0.05, 0.07), 0.1),
}
COLOURED_INKS = ((0.1, 0.2, 0.7), (0.75, 0.1, 0.12), (0.1, 0.45, 0.2), (0.4, 0.15, 0.55), (0.08, 0.08, 0.1))
SKINS = ((0.88, 0.7, 0.58), (0.78, 0.57, 0.44), (0.58, 0.4, 0.28), (0.38, 0.25, 0.18))
SHEETS = {"A4": 297 / 210, "letter": 11 / 8.5, "index card": 5 / 3, "sticky note": 1.0}  # long / short side
EXIF_TURNS = {1: 0, 3: 2, 6: 1, 8: 3}  # EXIF orientation -> counter-clockwise quarter turns of the stored pixels
WORK = 1000  # longest side, pixels, at which surfaces, light and shadows are drawn


def rgb(values) -> np.ndarray:
    """Colour values as a float32 array."""
    return np.asarray(values, np.float32)


def smooth(shape: tuple[int, int], cells: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A smooth random field of standard deviation 1 with about `cells` (down, across) blobs."""
    grid = rng.standard_normal((cells[0] + 3, cells[1] + 3)).astype(np.float32)
    field = cv2.resize(grid, shape[::-1], interpolation=cv2.INTER_CUBIC)
    return (field - field.mean()) / (field.std() + 1e-6)


def wood(shape, rng, base):
    """Planks of wood of a colour: grain and rings along them, dark joins, turned to a random angle."""
    side = int(np.hypot(*shape)) + 2
    rows = np.arange(side, dtype=np.float32)[:, None]
    rings = np.sin(2 * np.pi * (rows / rng.uniform(15, 40) + 0.5 * smooth((side, side), (3, 2), rng)))
    streaks = smooth((side, side), (side // 4, 6), rng)
    plank = rng.uniform(0.12, 0.3) * side
    tones = rng.uniform(0.8, 1.2, int(side / plank) + 1).astype(np.float32)[(rows / plank).astype(int)]
    joins = 1 - 0.5 * ((rows % plank) < 2)
    planks = (rgb(base) * (tones * joins * (1 + 0.1 * rings + 0.07 * streaks))[..., None]).astype(np.float32)
    turn = cv2.getRotationMatrix2D((side / 2, side / 2), rng.uniform(0, 180), 1.0)
    turn[:, 2] -= [(side - shape[1]) / 2, (side - shape[0]) / 2]
    return cv2.warpAffine(planks, turn, shape[::-1], borderMode=cv2.BORDER_REFLECT)


def light_desk(shape, rng):
    """A light desk: light oak, or a white or grey laminate with faint smudges."""
    if rng.random() < 0.5:
        return wood(shape, rng, rng.uniform([0.68, 0.52, 0.35], [0.8, 0.64, 0.45]))
    level = rgb(rng.uniform(0.7, 0.92) + rng.uniform(-0.03, 0.03, 3))
    return level * (1 + 0.03 * smooth(shape, (5, 5), rng))[..., None]


def cloth(shape, rng):
    """A patterned tablecloth (gingham, stripes or dots) with a fine weave and soft folds."""
    rows, columns = np.indices(shape, np.float32)
    angle, period = rng.uniform(0, np.pi), rng.uniform(0.03, 0.1) * max(shape)
    along = ((columns * np.cos(angle) + rows * np.sin(angle)) % period) / period
    across = ((rows * np.cos(angle) - columns * np.sin(angle)) % period) / period
    pattern = rng.integers(3)
    if pattern == 0:
        share = ((along < 0.5).astype(np.float32) + (across < 0.5)) / 2
    elif pattern == 1:
        share = (along < rng.uniform(0.2, 0.6)).astype(np.float32)
    else:
        share = (((along - 0.5) ** 2 + (across - 0.5) ** 2) < rng.uniform(0.02, 0.06)).astype(np.float32)
    share = cv2.GaussianBlur(share, (0, 0), 0.8)[..., None]
    light, colour = rgb(rng.uniform(0.75, 0.95, 3)), rgb(rng.uniform(0.1, 0.8, 3))
    weave = 1 + 0.05 * np.sin(columns * 2.1) * np.sin(rows * 2.1) + 0.1 * smooth(shape, (4, 4), rng)
    return (light * (1 - share) + colour * share) * weave[..., None]


def concrete(shape, rng):
    """Grey concrete or stone: blotches at two scales and fine speckles."""
    texture = 0.07 * smooth(shape, (6, 6), rng) + 0.04 * smooth(shape, (40, 40), rng)
    texture += 0.05 * rng.standard_normal(shape).astype(np.float32)
    return rgb(rng.uniform(0.4, 0.68) + rng.uniform(-0.03, 0.03, 3)) * (1 + texture)[..., None]


def carpet(shape, rng):
    """A dark fabric or carpet: a muted colour with a coarse pile."""
    pile = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), 0.8)
    return rgb(rng.uniform(0.08, 0.4, 3)) * (1 + 0.25 * pile + 0.08 * smooth(shape, (5, 5), rng))[..., None]


SURFACE_DRAWERS = {
    "dark_wood": lambda shape, rng: wood(shape, rng, rng.uniform([0.25, 0.13, 0.07], [0.4, 0.24, 0.14])),
    "light_desk": light_desk,
    "patterned_cloth": cloth,
    "concrete": concrete,
    "carpet": carpet,
}


def cast_shadow(mask: np.ndarray, rng) -> np.ndarray:
    """The soft shadow that a thing covering `mask` casts on the surface just beside it."""
    unit = max(mask.shape)
    offset = np.float32([[1, 0, rng.uniform(-1, 1) * unit / 150], [0, 1, rng.uniform(0.2, 1) * unit / 150]])
    return cv2.GaussianBlur(cv2.warpAffine(mask, offset, mask.shape[::-1]), (0, 0), unit / 200)


def add_objects(surface: np.ndarray, count: int, rng) -> list[str]:
    """Things lying on the surface, each with its shadow: pens, coins, a phone, a mug seen from above."""
    names, unit = [], max(surface.shape[:2])
    for _ in range(count):
        name = str(rng.choice(["pen", "coin", "phone", "mug"]))
        centre, mask = rng.uniform(0, 1, 2) * surface.shape[1::-1], np.zeros(surface.shape[:2], np.float32)
        angle = rng.uniform(0, np.pi)
        if name == "pen":
            reach = rng.uniform(0.08, 0.18) * unit * np.array([np.cos(angle), np.sin(angle)])
            ends = [tuple(int(v) for v in centre + sign * reach) for sign in (-1, 1)]
            cv2.line(mask, *ends, 1.0, max(2, int(unit / 90)), cv2.LINE_AA)
            colour = rgb(COLOURED_INKS[rng.integers(len(COLOURED_INKS))]) + 0.1
        elif name in ("coin", "mug"):
            radius = int(rng.uniform(0.02, 0.035) * unit * (3 if name == "mug" else 1))
            cv2.circle(mask, tuple(int(v) for v in centre), radius, 1.0, -1, cv2.LINE_AA)
            colour = rgb([0.93, 0.92, 0.9] if name == "mug" else rng.choice([[0.75, 0.6, 0.3], [0.7, 0.7, 0.72]]))
        else:
            box = (tuple(centre), (0.13 * unit, 0.27 * unit), np.degrees(angle))
            cv2.fillPoly(mask, [cv2.boxPoints(box).astype(np.int32)], 1.0, cv2.LINE_AA)
            colour = rgb([0.06, 0.06, 0.07])
        shaded = colour * (0.9 + 0.2 * smooth(mask.shape, (2, 2), rng))[..., None]
        surface *= (1 - 0.45 * cast_shadow(mask, rng))[..., None]
        surface += (shaded - surface) * mask[..., None]
        if name == "mug":  # the coffee inside
            inner = np.zeros_like(mask)
            cv2.circle(inner, tuple(int(v) for v in centre), int(radius * 0.8), 1.0, -1, cv2.LINE_AA)
            surface += (rgb([0.22, 0.12, 0.06]) - surface) * inner[..., None]
        names.append(name)
    return names


def place_sheet(size, shape, coverage, rotation, tilt, rng) -> np.ndarray:
    """The corners (top-left first, clockwise) of a sheet of shape (width, height) photographed from
    above: turned by `rotation` degrees, tilted `tilt` degrees, covering `coverage` of the frame."""
    width, height = size
    focal = 0.85 * max(size)  # a phone's wide lens
    flat = (np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * np.array(shape) / 2) @ cv2.getRotationMatrix2D(
        (0, 0), -rotation, 1.0
    )[:, :2].T
    axis = rng.uniform(0, np.pi)
    turn = cv2.Rodrigues(np.radians(tilt) * np.array([np.cos(axis), np.sin(axis), 0.0]))[0]
    seen = np.hstack([flat, np.zeros((4, 1))]) @ turn.T * np.sqrt(width * height) + [0, 0, focal * 1.5]
    quad = focal * seen[:, :2] / seen[:, 2:]
    area = 0.5 * abs(np.dot(quad[:, 0], np.roll(quad[:, 1], 1)) - np.dot(quad[:, 1], np.roll(quad[:, 0], 1)))
    quad = (quad - quad.mean(axis=0)) * np.sqrt(coverage * width * height / area)
    slack = (1 - np.sqrt(coverage)) / 2 * np.array([width, height])
    return (quad + np.array([width, height]) / 2 + rng.uniform(-1, 1, 2) * slack).astype(np.float32)


def draw_ink(digit: np.ndarray, shape, centre, height: float, rng) -> tuple[np.ndarray, float]:
    """The digit's ink density on a page of `shape`: its strokes `height` pixels tall around `centre`,
    drawn smoothly at a small random slant; and the slant in degrees."""
    rows, columns = np.flatnonzero(digit.max(axis=1) > 0.2), np.flatnonzero(digit.max(axis=0) > 0.2)
    middle = np.array([(columns[0] + columns[-1]) / 2, (rows[0] + rows[-1]) / 2])
    scale, slant = height / (rows[-1] - rows[0] + 1), rng.uniform(-10, 10)
    linear = (
        scale * cv2.getRotationMatrix2D((0, 0), -slant, 1.0)[:, :2] @ np.array([[1, rng.uniform(-0.2, 0.2)], [0, 1]])
    )
    affine = np.hstack([linear, (np.asarray(centre) - linear @ middle)[:, None]])
    ink = cv2.warpAffine(digit.astype(np.float32), affine, shape[::-1], flags=cv2.INTER_CUBIC)
    return cv2.GaussianBlur(np.clip(ink, 0, 1), (0, 0), max(0.5, scale / 4)), slant  # the 28x28 grid smoothed away


def pen_stroke(density: np.ndarray, lowest: float, rng) -> np.ndarray:
    """A pen's ink from the digit's density: nothing below `lowest`, and slightly uneven flow."""
    flow = 1 - 0.12 * np.abs(smooth(density.shape, (12, 12), rng))
    return np.clip((density - lowest) / (1 - lowest) * 1.6, 0, 1) * flow


def form(shape, centre, height: float, rng) -> np.ndarray:
    """A printed form: a row of boxes (the digit's box around `centre`), a label and a few field lines."""
    printed, side = np.zeros(shape, np.uint8), height * rng.uniform(1.25, 1.7)
    count, which = int(rng.integers(3, 11)), int(rng.integers(0, 3))
    left, top = centre[0] - (which + 0.5) * side, centre[1] - side / 2
    thickness = max(1, int(rng.uniform(0.004, 0.012) * min(shape)))
    for box in range(count):
        corner = (int(left + box * side), int(top))
        cv2.rectangle(printed, corner, (int(corner[0] + side), int(top + side)), 255, thickness, cv2.LINE_AA)
    label = str(rng.choice(["ACCOUNT NO.", "Postcode", "DATE OF BIRTH", "Code", "Ref."]))
    cv2.putText(printed, label, (int(left), int(top - side * 0.15)), cv2.FONT_HERSHEY_SIMPLEX, side / 80, 255, 2)
    for line in rng.uniform(0.05, 0.95, int(rng.integers(2, 6))) * shape[0]:
        if abs(line - centre[1]) > side:
            cv2.line(printed, (int(shape[1] * 0.08), int(line)), (int(shape[1] * 0.92), int(line)), 255, thickness)
    colour = rgb([[0.15, 0.15, 0.17], [0.2, 0.3, 0.6], [0.85, 0.45, 0.4]][rng.integers(3)])
    return paper.on_paper(printed / np.float32(255), paper.white(shape), colour)


def ruled(shape, rng) -> np.ndarray:
    """Notebook paper: blue lines 28-36 to the page under a blank header, a red margin line on most."""
    period = int(shape[0] / rng.uniform(28, 36))
    lines = paper.lines_mask(shape, period, int(rng.integers(0, period)), 2, 0).copy()
    lines[: int(rng.uniform(0.05, 0.1) * shape[0])] = 0
    sheet = paper.on_paper(lines, paper.white(shape), paper.BLUE_LINE)
    if rng.random() < 0.7:
        margin = paper.lines_mask(shape, shape[1], int(rng.uniform(0.08, 0.15) * shape[1]), 2, 1)
        sheet = paper.on_paper(margin, sheet, rgb([0.9, 0.4, 0.4]))
    return sheet


def crumple(sheet: np.ndarray, rng) -> tuple[np.ndarray, str]:
    """A crumpled or folded sheet: bent by a few pixels, in facets of light and shade between creases
    (short ones all over a crumpled sheet, a few straight across a folded one); and which it is."""
    state = str(rng.choice(["crumpled", "folded"]))
    shape = (sheet.shape[0] // 2, sheet.shape[1] // 2)  # the shading is smooth: drawn at half size
    unit, (rows, columns) = max(shape), np.indices(shape, np.float32)
    shade = 1 + 0.05 * smooth(shape, (4, 4), rng)
    for _ in range(int(rng.integers(8, 20) if state == "crumpled" else rng.integers(1, 4))):
        (x, y), angle = rng.uniform(0, 1, 2) * shape[::-1], rng.uniform(0, np.pi)
        distance = (columns - x) * np.cos(angle) + (rows - y) * np.sin(angle)
        length = rng.uniform(0.1, 0.4) * unit if state == "crumpled" else 2.0 * unit
        along = np.abs((rows - y) * np.cos(angle) - (columns - x) * np.sin(angle))
        reach = np.clip((length - along) / (0.05 * unit), 0, 1)
        step = rng.choice([-1, 1]) * rng.uniform(0.03, 0.09) * np.tanh(distance / rng.uniform(0.7, 2.5))
        fade = np.exp(-np.abs(distance) / (rng.uniform(0.05, 0.2) * unit))  # each facet's slope flattens out
        shade += reach * (step * fade - 0.06 * np.exp(-(distance**2)))
    shade = cv2.resize(shade, sheet.shape[1::-1], interpolation=cv2.INTER_LINEAR)
    rows, columns = np.indices(sheet.shape[:2], np.float32)
    bend = 0.002 * max(sheet.shape)
    warp = (columns + bend * smooth(sheet.shape[:2], (5, 5), rng), rows + bend * smooth(sheet.shape[:2], (5, 5), rng))
    bent = cv2.remap(sheet, *warp, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return bent * shade[..., None], state


def sheet_paper(name: str, ink: np.ndarray, centre, height: float, rng) -> tuple[np.ndarray, dict]:
    """The paper of a frame kind with the digit's ink on it (none on an empty sheet), and what was drawn."""
    shape, blank = ink.shape, np.zeros(ink.shape, np.float32)
    if name == "empty":
        name = str(rng.choice(["plain", "squared", "ruled", "form_box", "coloured"]))
    pen = str(rng.choice(list(PENS)))
    colour, lowest = PENS[pen]
    if name == "pencil":
        return paper.pencil_jpeg(ink, rng).astype(np.float32), {"ink": "pencil", "paper": "plain"}
    if name == "coloured":
        sheet, colour = paper.coloured(blank, rng), COLOURED_INKS[rng.integers(len(COLOURED_INKS))]
    elif name in ("squared", "ruled", "form_box"):
        sheet = {"squared": lambda: paper.squared(blank, rng), "ruled": lambda: ruled(shape, rng)}.get(
            name, lambda: form(shape, centre, height, rng)
        )()
    else:
        sheet = paper.white(shape, rng.uniform(0.88, 0.97))
    sheet = sheet.astype(np.float32) * (1 + 0.006 * smooth(shape, (60, 60), rng))[..., None]  # paper fibres
    sheet = paper.on_paper(pen_stroke(ink, lowest, rng), sheet, rgb(colour))
    if name != "crumpled":
        return sheet, {"ink": pen, "paper": name}
    sheet, state = crumple(sheet, rng)
    return sheet, {"ink": pen, "paper": state}


def lighting(shape, kind: str, digit_at, digit_size: float, rng) -> tuple[np.ndarray, dict]:
    """The light over the frame at `shape`: a falloff to the corners, a gentle slope, and for the shadow
    kinds a shade over one side or a finger's or phone's soft shadow over the digit."""
    unit, rows, columns = max(shape), *np.indices(shape, np.float32)
    falloff = rng.uniform(0, 0.35)
    radius = np.hypot(rows - shape[0] / 2, columns - shape[1] / 2) / np.hypot(*shape) * 2
    light = (1 - falloff * radius**2) * paper.light_ramp(shape, rng, 1 - rng.uniform(0, 0.2))
    factors = {"falloff": falloff, "shade": None}
    if kind == "frame-shadow":
        depth = rng.uniform(0.45, 0.7)
        if rng.random() < 0.5:
            light *= paper.light_ramp(shape, rng, 1 - depth)
        else:  # the sharp-ish edge of something's shadow across the sheet
            angle, through = rng.uniform(0, 2 * np.pi), rng.uniform(0.3, 0.7, 2) * shape[::-1]
            distance = (columns - through[0]) * np.cos(angle) + (rows - through[1]) * np.sin(angle)
            light *= 1 - depth / (1 + np.exp(-distance / (rng.uniform(0.005, 0.05) * unit)))
        factors["shade"] = depth
    elif kind == "frame-finger_shadow":
        caster, tip = np.zeros(shape, np.float32), digit_at + rng.uniform(-0.5, 0.5, 2) * digit_size
        outward = rng.uniform(0, 2 * np.pi)
        far = tip + 1.5 * unit * np.array([np.cos(outward), np.sin(outward)])
        if rng.random() < 0.6:  # a finger widening into the hand behind it
            along, across = (far - tip) / np.linalg.norm(far - tip), np.array([-np.sin(outward), np.cos(outward)])
            finger, knuckle = digit_size * rng.uniform(0.25, 0.6), rng.uniform(0.2, 0.4) * unit
            outline = [tip + across * finger / 2, tip + along * knuckle + across * finger / 2]
            outline += [tip + along * (knuckle + 0.15 * unit) + across * 0.15 * unit, far + across * 0.2 * unit]
            outline += [point - 2 * np.dot(point - tip, across) * across for point in outline[::-1]]
            cv2.fillPoly(caster, [np.array(outline, np.int32)], 1.0)
            cv2.circle(caster, tuple(int(v) for v in tip), int(finger / 2), 1.0, -1)
            factors["caster"] = "finger"
        else:  # the phone or the hand holding it, a straight-edged shade
            box = (
                tuple(tip + 0.6 * unit * (far - tip) / np.linalg.norm(far - tip)),
                (1.2 * unit, unit * rng.uniform(0.3, 0.6)),
                np.degrees(outward),
            )
            cv2.fillPoly(caster, [cv2.boxPoints(box).astype(np.int32)], 1.0)
            factors["caster"] = "phone"
        depth = rng.uniform(0.35, 0.6)
        light *= 1 - depth * cv2.GaussianBlur(caster, (0, 0), rng.uniform(0.006, 0.03) * unit)
        factors["shade"] = depth
    return light.astype(np.float32), factors


def hand(shape, edge: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """A hand holding a sheet's edge (a line from edge[0] to edge[1], the sheet to its right): the
    thumb over the edge, the palm beyond it. Returns its mask and its shaded skin colour."""
    unit, point = max(shape), edge[0] + rng.uniform(0.2, 0.8) * (edge[1] - edge[0])
    along = (edge[1] - edge[0]) / np.linalg.norm(edge[1] - edge[0])
    out = np.array([along[1], -along[0]])  # away from the sheet
    width, mask = rng.uniform(0.05, 0.08) * unit, np.zeros(shape, np.uint8)
    tip, base = point - out * rng.uniform(0.3, 1.2) * width, point + out * 2.5 * width
    cv2.line(mask, tuple(int(v) for v in tip), tuple(int(v) for v in base), 1, int(width), cv2.LINE_AA)
    palm = base + out * 1.5 * width + along * rng.uniform(-1, 1) * width
    axes = (int(3 * width), int(2.2 * width))
    cv2.ellipse(mask, tuple(int(v) for v in palm), axes, np.degrees(np.arctan2(out[1], out[0])), 0, 360, 1, -1)
    depth = cv2.distanceTransform(mask, cv2.DIST_L2, 5)
    roundness = 0.7 + 0.3 * np.sqrt(np.clip(depth / (0.5 * width), 0, 1))
    skin = rgb(SKINS[rng.integers(len(SKINS))]) * (roundness * (1 + 0.04 * smooth(shape, (8, 8), rng)))[..., None]
    nail = np.zeros(shape, np.float32)
    heading = np.degrees(np.arctan2(out[1], out[0]))
    cv2.ellipse(
        nail,
        tuple(int(v) for v in tip + out * 0.3 * width),
        (int(0.3 * width), int(0.22 * width)),
        heading,
        0,
        360,
        1.0,
        -1,
    )
    skin += (rgb([0.95, 0.8, 0.78]) - skin) * (nail * mask)[..., None] * 0.5
    return cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 0.7), skin


def place_digit(sheet_shape, homography: np.ndarray, size, rng) -> tuple[np.ndarray, float]:
    """Where on the sheet the digit goes (its centre, in sheet pixels) and how tall: 8-30% of the
    sheet's shorter side, not too near its edges, and in view of the camera."""
    short = min(sheet_shape)
    height = rng.uniform(0.08, 0.3) * short
    margin = 0.05 * short + 0.6 * height
    box = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * 0.6 * height
    for _ in range(40):
        centre = rng.uniform([margin, margin], [sheet_shape[1] - margin, sheet_shape[0] - margin])
        seen = cv2.perspectiveTransform((centre + box)[None].astype(np.float32), homography)[0]
        if (seen >= 0).all() and (seen < size).all():
            return centre, height
    middle = np.float32([[np.array(size) / 2]])  # no place in view was drawn: the sheet's point in the middle
    centre = cv2.perspectiveTransform(middle, np.linalg.inv(homography))[0, 0]
    return np.clip(centre, margin, np.array(sheet_shape[::-1]) - margin), height


def frame(digit: np.ndarray | None, kind: str, rng, size) -> tuple[np.ndarray, dict]:
    """A phone's whole upright frame of `size` (width, height) of a sheet of a kind on a surface, RGB in [0, 1]."""
    width, height = size
    work = (round(height * min(1, WORK / max(size))), round(width * min(1, WORK / max(size))))
    background = str(rng.choice(BACKGROUNDS))
    surface_name = str(rng.choice(SURFACES)) if background == "hand_at_edge" else background
    surface = SURFACE_DRAWERS[surface_name](work, rng).astype(np.float32, copy=False)
    objects = add_objects(surface, int(rng.integers(1, 5) if kind == "frame-nosheet" else rng.random() < 0.25), rng)
    factors = {"kind": kind, "background": background, "surface": surface_name, "objects": objects}
    factors |= {"coverage": None, "rotation": None, "perspective": None, "digit_height": None, "corners": None}
    factors |= {"ink": None, "paper": None}
    to_work = work[1] / width
    if kind == "frame-nosheet":
        image, digit_at, digit_size = cv2.resize(surface, size, interpolation=cv2.INTER_LINEAR), None, 0.1 * max(work)
        held = np.float32([[width, height], [0, height]]) * [1, rng.uniform(0.9, 1.05)]  # a hand at the bottom
    else:
        sheet_name = (
            "sticky note" if kind == "frame-coloured" and rng.random() < 0.6 else str(rng.choice(list(SHEETS)[:3]))
        )
        long, portrait = SHEETS[sheet_name], rng.random() < 0.75
        shape = (1.0, long) if portrait else (long, 1.0)  # (width, height), shorter side 1
        coverage, rotation, tilt = rng.uniform(0.3, 0.95), rng.uniform(-15, 15), rng.uniform(0, 25)
        corners = place_sheet(size, shape, coverage, rotation, tilt, rng)
        short = int(np.clip(np.sqrt(coverage * width * height / long), 300, 1100))  # the sheet's pixels
        sheet_shape = (round(short * shape[1]), round(short * shape[0]))
        homography = cv2.getPerspectiveTransform(
            np.float32([[0, 0], [sheet_shape[1], 0], [sheet_shape[1], sheet_shape[0]], [0, sheet_shape[0]]]), corners
        )
        centre, digit_size = place_digit(sheet_shape, homography, size, rng)
        if digit is None:
            ink, slant = np.zeros(sheet_shape, np.float32), None
        else:
            ink, slant = draw_ink(digit, sheet_shape, centre, digit_size, rng)
        sheet, drawn = sheet_paper(kind.removeprefix("frame-"), ink, centre, digit_size, rng)
        ends = centre + np.array([[0, -digit_size / 2], [0, digit_size / 2]])
        seen = cv2.perspectiveTransform(ends[None].astype(np.float32), homography)[0]
        digit_at, digit_size = seen.mean(axis=0) * to_work, float(np.linalg.norm(seen[1] - seen[0]))
        outline = np.zeros(work, np.float32)
        cv2.fillPoly(outline, [(corners * to_work).astype(np.int32)], 1.0, cv2.LINE_AA)
        surface *= (1 - rng.uniform(0.2, 0.45) * cast_shadow(outline, rng))[..., None]  # the paper's thickness
        image = cv2.resize(surface, size, interpolation=cv2.INTER_LINEAR)
        laid = cv2.warpPerspective(np.ones(sheet_shape, np.float32), homography, size)
        image = cv2.blendLinear(cv2.warpPerspective(sheet, homography, size), image, laid, 1 - laid)
        side = int(rng.integers(4))
        held = corners[[side, (side + 1) % 4]]
        factors |= {"coverage": coverage, "rotation": rotation, "perspective": tilt, "sheet": sheet_name}
        factors |= {"corners": corners.round(1).tolist(), "slant": slant, **drawn}
        factors["digit_height"] = None if digit is None else round(digit_size, 1)
        digit_size *= to_work
    if digit_at is None:
        digit_at = rng.uniform(0.2, 0.8, 2) * work[::-1]
    light, shading = lighting(work, kind, digit_at, digit_size, rng)
    if background == "hand_at_edge":
        mask, skin = hand(work, held * to_work, rng)
        light *= 1 - 0.4 * cast_shadow(mask, rng) * (1 - mask)  # the hand's shadow, beside it
        laid = cv2.resize(mask, size)
        image = cv2.blendLinear(cv2.resize(skin, size), image, laid, 1 - laid)
    gains = rgb(rng.uniform(0.8, 1.05) * (1 + rng.uniform(-0.06, 0.06) * np.array([1, 0, -1])))  # white balance
    return cv2.multiply(image, cv2.resize(light[..., None] * gains, size)), factors | shading


def camera(image: np.ndarray, rng, unit: float) -> tuple[np.ndarray, dict]:
    """The camera's slight defocus and sensor noise (luminance, and coarser colour noise), as 8-bit RGB."""
    blur, noise = rng.uniform(0.3, 1.5) * unit, rng.uniform(0.004, 0.03)
    image = cv2.GaussianBlur(image, (0, 0), blur)
    chroma = rng.standard_normal((image.shape[0] // 2 + 1, image.shape[1] // 2 + 1, 3), np.float32) * noise / 2
    grain = cv2.resize(chroma, image.shape[1::-1]) + rng.standard_normal((*image.shape[:2], 1), np.float32) * noise
    pixels = cv2.multiply(cv2.add(image, grain), (255, 255, 255, 0), dtype=cv2.CV_8U)  # rounded and clipped
    return pixels, {"blur": round(blur, 2), "noise": round(noise, 4)}


def phone_jpeg(pixels: np.ndarray, rng) -> tuple[bytes, dict]:
    """The upright frame stored as a phone does: JPEG at quality 60-95, sometimes turned a quarter or
    half turn with the EXIF orientation that turns it upright."""
    tag = int(rng.choice([3, 6, 8])) if rng.random() < 0.3 else 1
    quality, exif = int(rng.integers(60, 96)), Image.Exif()
    exif[0x0112] = tag
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(np.rot90(pixels, EXIF_TURNS[tag]))).save(
        buffer, "JPEG", quality=quality, exif=exif
    )
    return buffer.getvalue(), {"exif": tag, "quality": quality}


def scan(digit: np.ndarray, kind: str, rng) -> tuple[bytes, dict]:
    """A crop or flatbed scan of one digit, 100-400 pixels a side: the paper only, as PNG or JPEG."""
    rows = int(rng.integers(100, 401))
    shape = (rows, int(np.clip(rows * rng.uniform(0.75, 1.3), 100, 400)))
    height = rng.uniform(0.45, 0.75) * min(shape)
    centre = np.array(shape[::-1]) / 2 + rng.uniform(-0.05, 0.05, 2) * shape[::-1]
    density, slant = draw_ink(digit, shape, centre, height, rng)
    level = rng.uniform(0.9, 1.0) - (rng.uniform(0.05, 0.12) if kind == "scan-pencil" else 0)
    sheet = paper.white(shape, level) * rgb(1 + rng.uniform(-0.02, 0.02, 3))
    sheet *= 1 + 0.008 * smooth(shape, (30, 30), rng)[..., None]  # paper fibres
    name, quality, factors = kind.removeprefix("scan-"), None, {"stroke": None}
    if name == "pencil":  # graphite: grainy, only 15-35% darker than the paper
        contrast, grain = rng.uniform(0.15, 0.35), np.clip(rng.normal(1, 0.3, shape), 0, 1.3).astype(np.float32)
        sheet = paper.on_paper(np.clip(density * 1.4, 0, 1) * grain * contrast, sheet, np.zeros(3, np.float32))
        ink, quality, factors["contrast"] = "pencil", int(rng.integers(60, 91)), round(contrast, 3)
    elif name == "marker":  # a felt marker several times a pen's width, its edges bleeding into the paper
        width = int(rng.uniform(0.06, 0.13) * height)
        nib = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * width + 1, 2 * width + 1))
        bled = cv2.GaussianBlur(cv2.dilate(density, nib), (0, 0), rng.uniform(0.5, 2.5))
        rough = 0.15 * smooth(shape, (rows // 6, rows // 6), rng) * np.clip(bled * 4, 0, 1)  # ragged edges only
        colour = rgb([(0.05, 0.05, 0.07), (0.1, 0.15, 0.6), (0.7, 0.1, 0.1), (0.1, 0.45, 0.2)][rng.integers(4)])
        sheet = paper.on_paper(np.clip((bled - 0.35 + rough) * 4, 0, 1), sheet, colour)
        ink, factors["stroke"] = "marker", width
        quality = int(rng.integers(70, 96)) if rng.random() < 0.5 else None
    else:
        pen = str(rng.choice(list(PENS)))
        colour, lowest = PENS[pen]
        if name == "lowres":  # an old scanner or camera: strokes thickened or thinned, then few pixels
            stroke = str(rng.choice(["thick", "thin"]))
            change = max(1, int(rng.uniform(0.03, 0.08) * height))
            nib = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * change + 1, 2 * change + 1))
            density = cv2.dilate(density, nib) if stroke == "thick" else cv2.erode(density, nib)
            lowest, factors["stroke"] = (0.1 if stroke == "thick" else 0.2), stroke
        sheet = paper.on_paper(pen_stroke(density, lowest, rng), sheet, rgb(colour))
        ink = pen
        if name == "lowres":
            box = int(rng.integers(8, 17))
            small = (max(2, round(shape[1] * box / height)), max(2, round(shape[0] * box / height)))
            enlarge = [cv2.INTER_NEAREST, cv2.INTER_LINEAR, cv2.INTER_CUBIC][rng.integers(3)]
            sheet = cv2.resize(
                cv2.resize(sheet, small, interpolation=cv2.INTER_AREA), shape[::-1], interpolation=enlarge
            )
            factors["box"] = box
            quality = int(rng.integers(60, 91)) if rng.random() < 0.5 else None
    blur = rng.uniform(0.3, 0.8) if name == "plain" else rng.uniform(0.5, 1.6)
    noise = rng.uniform(0.002, 0.01) if name == "plain" else rng.uniform(0.005, 0.02)
    image = cv2.GaussianBlur(sheet, (0, 0), blur) + rng.standard_normal((*shape, 1)).astype(np.float32) * noise
    buffer = io.BytesIO()
    pixels = Image.fromarray((np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8))
    pixels.save(buffer, "PNG") if quality is None else pixels.save(buffer, "JPEG", quality=quality)
    factors |= {"kind": kind, "background": None, "coverage": None, "rotation": slant, "exif": 1, "perspective": None}
    factors |= {"blur": round(blur, 2), "noise": round(noise, 4), "quality": quality, "digit_height": round(height, 1)}
    return buffer.getvalue(), factors | {"ink": ink, "corners": None, "size": list(shape[::-1])}


def render(
    digit: np.ndarray | None, kind: str, rng: np.random.Generator, size: tuple[int, int] = (1200, 1600)
) -> tuple[bytes, dict]:
    """One digit (None for the empty kinds) as the encoded file a phone or scanner stores, and the factors drawn."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; the kinds are {', '.join(KINDS)}")
    if (digit is None) != (kind in ("frame-empty", "frame-nosheet")):
        raise ValueError(f"kind {kind!r} takes {'a (28, 28) digit' if digit is None else 'no digit'}")
    if digit is not None and digit.shape != (28, 28):
        raise ValueError(f"a digit is a (28, 28) array, not {digit.shape}")
    if kind.startswith("scan-"):
        return scan(digit, kind, rng)
    image, factors = frame(digit, kind, rng, size)
    pixels, camera_factors = camera(image, rng, max(size) / 1600)
    data, stored = phone_jpeg(pixels, rng)
    return data, factors | camera_factors | stored | {"size": list(size)}
