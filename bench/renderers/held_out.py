"""Held-out renderer: MNIST digits as the phone photos and scans of handwriting that users send."""

import io
import math

import cv2
import numpy as np
from PIL import Image

KINDS = (
    "frame-plain", "frame-pencil", "frame-form_box", "frame-squared", "frame-ruled", "frame-shadow",
    "frame-finger_shadow", "frame-coloured", "frame-crumpled", "frame-empty", "frame-nosheet",
    "scan-plain", "scan-lowres", "scan-pencil", "scan-marker",
)  # fmt: skip
BACKGROUNDS = ("dark_wood", "light_desk", "patterned_cloth", "hand_at_edge", "granite", "carpet", "keyboard_edge",
               "notebook_cover", "gingham")  # fmt: skip
PENS = {  # pen: (stroke radius as a share of the digit's height, the inks it comes in)
    "ballpoint": ((0.022, 0.04), ("blue", "black")),
    "biro_skips": ((0.02, 0.035), ("blue", "black")),
    "gel": ((0.03, 0.05), ("black", "blue", "red", "green", "purple")),
    "felt_tip": ((0.045, 0.075), ("black", "blue", "red", "green", "purple")),
    "fountain": ((0.02, 0.035), ("blue", "black")),
    "pencil": ((0.02, 0.035), ("graphite",)),
    "marker": ((0.09, 0.15), ("black", "blue", "red", "green")),
}
INKS = {"black": (0.1, 0.1, 0.12), "blue": (0.12, 0.16, 0.5), "red": (0.75, 0.12, 0.15), "green": (0.1, 0.45, 0.22),
        "purple": (0.38, 0.16, 0.5), "graphite": (0.32, 0.32, 0.34)}  # fmt: skip  # sRGB of a full stroke on white
NOTES = {"yellow": (0.98, 0.9, 0.42), "pink": (0.97, 0.62, 0.74), "green": (0.72, 0.93, 0.55),
         "blue": (0.58, 0.8, 0.95), "orange": (1.0, 0.7, 0.36), "lilac": (0.78, 0.7, 0.92)}  # fmt: skip
SKIN = ((0.9, 0.72, 0.6), (0.8, 0.58, 0.45), (0.6, 0.4, 0.28), (0.38, 0.25, 0.17), (0.95, 0.8, 0.72))
WORK = 192  # the height in pixels strokes are drawn at before scaling to the digit's height
F32 = np.float32


def _field(rng, shape, cells):
    """A smooth random field of `shape` with zero mean and unit spread, varying over about `cells` cells."""
    h, w = shape
    grid = rng.standard_normal((max(2, round(cells * h / max(h, w))), max(2, round(cells * w / max(h, w)))))
    field = cv2.resize(grid.astype(F32), (w, h), interpolation=cv2.INTER_CUBIC)
    return (field - field.mean()) / (field.std() + 1e-6)


def _thin(mask):
    """Zhang-Suen thinning of a boolean image to strokes one pixel wide."""
    img = np.pad(mask, 1).astype(np.uint8)
    changed = True
    while changed:
        changed = False
        for step in (0, 1):
            c = img[1:-1, 1:-1]
            n = [img[:-2, 1:-1], img[:-2, 2:], img[1:-1, 2:], img[2:, 2:], img[2:, 1:-1], img[2:, :-2], img[1:-1, :-2],
                 img[:-2, :-2]]  # fmt: skip
            count = sum(p.astype(np.int32) for p in n)
            turns = sum(((n[i] == 0) & (n[(i + 1) % 8] == 1)).astype(np.int32) for i in range(8))
            a, b = (n[0] * n[2] * n[4], n[2] * n[4] * n[6]) if step == 0 else (n[0] * n[2] * n[6], n[0] * n[4] * n[6])
            drop = (c == 1) & (count >= 2) & (count <= 6) & (turns == 1) & (a == 0) & (b == 0)
            if drop.any():
                c[drop] = 0
                changed = True
    return img[1:-1, 1:-1].astype(bool)


def _strokes(digit, height, pen, rng):
    """The ink density (0-1) of the digit written with `pen`, `height` pixels tall, slanted; and the slant."""
    ys, xs = np.nonzero(digit > 0.15)
    crop = digit[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(F32)
    up = cv2.resize(crop, (max(1, round(crop.shape[1] * WORK / crop.shape[0])), WORK), interpolation=cv2.INTER_CUBIC)
    pad = WORK // 4
    up = cv2.copyMakeBorder(up, pad, pad, pad + WORK // 6, pad + WORK // 6, cv2.BORDER_CONSTANT, value=0)
    h, w = up.shape
    slant, turn = rng.uniform(-14, 14), rng.uniform(-6, 6)
    shear = np.array([[1, math.tan(math.radians(slant)), -math.tan(math.radians(slant)) * h / 2], [0, 1, 0], [0, 0, 1]])
    matrix = np.vstack([cv2.getRotationMatrix2D((w / 2, h / 2), turn, 1.0), [0, 0, 1]]) @ shear
    up = cv2.warpAffine(up, matrix[:2], (w, h), flags=cv2.INTER_CUBIC)
    skeleton = _thin(cv2.GaussianBlur(up, (0, 0), 2.5) > 0.4)
    dist = cv2.distanceTransform((~skeleton).astype(np.uint8), cv2.DIST_L2, 5)
    radius = rng.uniform(*PENS[pen][0]) * WORK
    # the pen presses where MNIST's ink is dense; the hand's pressure also drifts along the stroke
    pressure = np.clip(cv2.GaussianBlur(up, (0, 0), 3) * 1.5, 0.35, 1) * (1 + 0.15 * _field(rng, (h, w), 5))
    if pen == "fountain":  # a cut nib: broad across one direction of travel, a hairline along the other
        size = int(4.4 * radius) | 1
        nib, angle, c = np.zeros((size, size), np.uint8), rng.uniform(0.3, 0.9), size // 2
        dx, dy = round(math.cos(angle) * c), round(math.sin(angle) * c)
        cv2.line(nib, (c - dx, c + dy), (c + dx, c - dy), 1, max(1, round(0.5 * radius)))
        ink = cv2.GaussianBlur(cv2.dilate(skeleton.astype(np.uint8), nib).astype(F32), (0, 0), 0.8)
        ink *= 0.75 + 0.25 * pressure
    else:
        reach = radius * (0.75 + 0.35 * pressure)
        if pen == "marker":  # felt soaks into the paper's fibres: a ragged, swollen edge
            reach += radius * (0.12 * _field(rng, (h, w), 40) + rng.uniform(0, 0.25))
        ink = np.clip(reach - dist + 0.5, 0, 1)
        if pen in ("felt_tip", "marker"):
            ink = cv2.GaussianBlur(ink, (0, 0), 0.1 * radius + 0.5)
        ink *= {
            "ballpoint": 0.8 + 0.2 * pressure,
            "biro_skips": 0.75 + 0.25 * pressure,
            "pencil": 0.3 + 0.5 * pressure,
        }.get(pen, 0.95)
        if pen == "biro_skips":  # a drying ball leaves gaps and faint stretches
            ink *= np.clip((_field(rng, (h, w), 14) + 1.1) * 1.5, 0.15, 1)
    scale = height / WORK
    out = cv2.resize(ink, (max(1, round(w * scale)), max(1, round(h * scale))),
                     interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)  # fmt: skip
    if pen == "pencil":  # graphite catches only the tops of the paper's grain
        grain = cv2.GaussianBlur(rng.standard_normal(out.shape).astype(F32), (0, 0), 0.7)
        out *= np.clip(0.65 + 1.2 * grain, 0, 1)
    return np.clip(out, 0, 1), slant


def _mask_capsules(shape, segments, width):
    """A uint8 mask of thick anti-aliased segments ((x0, y0), (x1, y1)) with round ends."""
    mask = np.zeros(shape, np.uint8)
    for p, q in segments:
        cv2.line(mask, tuple(map(round, p)), tuple(map(round, q)), 255, max(1, round(width)), cv2.LINE_AA)
    return mask


def _lay(img, mask, colour, rng, shadow=0.4):
    """Lay a rounded opaque object (uint8 mask) of `colour` on img, lit from above with a soft contact shadow."""
    x, y, w, h = cv2.boundingRect(mask)
    if not w:
        return
    solid = (mask[y : y + h, x : x + w] > 127).astype(np.uint8)
    reach = max(2.0, float(cv2.distanceTransform(solid, cv2.DIST_L2, 3).max()))  # half its width
    pad = int(2 * reach)
    ya, yb, xa, xb = max(0, y - pad), min(img.shape[0], y + h + pad), max(0, x - pad), min(img.shape[1], x + w + pad)
    m, region = mask[ya:yb, xa:xb].astype(F32) / 255, img[ya:yb, xa:xb]
    under = cv2.GaussianBlur(np.roll(m, (round(0.4 * reach), round(0.2 * reach)), (0, 1)), (0, 0), 0.5 * reach)
    region *= (1 - shadow * under)[..., None]
    body = cv2.distanceTransform((m > 0.5).astype(np.uint8), cv2.DIST_L2, 3) / reach  # 0 at its rim, 1 mid-way
    shade = (0.55 + 0.55 * np.sqrt(np.clip(body, 0, 1))) * (1 + 0.03 * _field(rng, m.shape, 80))
    region[:] = region * (1 - m)[..., None] + np.asarray(colour, F32) * (shade * m)[..., None]


def _surface(name, w, h, rng, objects):
    """What the sheet lies on, as sRGB albedo (h, w, 3); drawn at up to 1600 pixels and scaled up."""
    s = min(1.0, 1600 / max(w, h))
    sw, sh = round(w * s), round(h * s)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(F32)
    angle = rng.uniform(0, math.pi)
    along, across = xx * math.cos(angle) + yy * math.sin(angle), -xx * math.sin(angle) + yy * math.cos(angle)
    tone = 1 + 0.04 * _field(rng, (sh, sw), 3)
    if name == "dark_wood":
        rings = np.sin(across / rng.uniform(8, 25) + 2.5 * _field(rng, (sh, sw), 4)) * 0.5 + 0.5
        streak = cv2.resize(rng.standard_normal((4, 400)).astype(F32), (sw * 2, sh * 2))
        centre = cv2.getRotationMatrix2D((sw, sh), math.degrees(angle) + 90, 1.0)
        centre[:, 2] -= (sw / 2, sh / 2)
        streak = cv2.warpAffine(streak, centre, (sw, sh))
        seams = (np.abs((across % rng.uniform(180, 400)) - 2) < 1.5).astype(F32)
        base = np.array(rng.choice([(0.33, 0.19, 0.1), (0.22, 0.13, 0.08), (0.42, 0.26, 0.14)]), F32)
        img = base * (0.75 + 0.25 * rings + 0.06 * streak)[..., None] * (1 - 0.5 * seams)[..., None]
    elif name == "light_desk":
        base = np.array(rng.choice([(0.85, 0.83, 0.78), (0.9, 0.9, 0.9), (0.8, 0.72, 0.6), (0.72, 0.74, 0.76)]), F32)
        img = base * (1 + 0.03 * _field(rng, (sh, sw), 300) + 0.02 * _field(rng, (sh, sw), 25))[..., None]
    elif name in ("patterned_cloth", "gingham"):
        period = rng.uniform(30, 90)
        cols = np.array(rng.uniform(0.15, 0.9, (3, 3)), F32)
        a, b = (along % period) < period * 0.45, (across % period) < period * 0.45
        if name == "gingham":
            cols[0] = (0.93, 0.92, 0.9)
            img = cols[0] * (1 - 0.45 * a - 0.45 * b)[..., None] + cols[1] * (0.45 * a + 0.45 * b)[..., None]
        else:
            fine = ((along % (period / 5)) < period / 14) | ((across % (period / 5)) < period / 14)
            img = cols[0] * (1 - 0.5 * a - 0.3 * b)[..., None] + cols[1] * (0.5 * a)[..., None]
            img += cols[2] * (0.3 * b)[..., None] - 0.12 * fine[..., None] * cols[0]
        weave = 1 + 0.07 * np.sin(xx * 2.3) * np.sin(yy * 2.3) + 0.1 * _field(rng, (sh, sw), 3)
        img = img * weave[..., None]
    elif name == "granite":
        base = np.array(rng.choice([(0.45, 0.44, 0.43), (0.2, 0.2, 0.21), (0.6, 0.5, 0.47)]), F32)
        img = base * (1 + 0.1 * _field(rng, (sh, sw), 60))[..., None]
        for cells, colour, cut in (
            (250, (0.05, 0.05, 0.06), 1.2),
            (120, (0.9, 0.88, 0.85), 1.5),
            (400, (0.6, 0.3, 0.25), 1.8),
        ):
            spots = np.clip((_field(rng, (sh, sw), cells) - cut) * 3, 0, 1)[..., None]
            img = img * (1 - spots) + np.array(colour, F32) * spots
    elif name == "carpet":
        base = np.array(rng.choice([(0.45, 0.42, 0.38), (0.25, 0.3, 0.45), (0.5, 0.25, 0.2), (0.3, 0.3, 0.3)]), F32)
        fibres = cv2.GaussianBlur(rng.standard_normal((sh, sw)).astype(F32), (0, 0), 0.8)
        img = base * (1 + 0.35 * fibres + 0.1 * _field(rng, (sh, sw), 30))[..., None]
    elif name == "keyboard_edge":
        img = np.array((0.12, 0.12, 0.13), F32) * (1 + 0.05 * _field(rng, (sh, sw), 100))[..., None] * np.ones(3, F32)
        img = np.ascontiguousarray(img)
        key, depth = rng.uniform(40, 70), rng.uniform(0.15, 0.3)
        keys = np.zeros((sh, sw), np.uint8)
        for row in range(int(depth * sh / key) + 1):
            for col in range(int(sw / key) + 2):
                x, y = (col - 0.5 * (row % 2)) * key, sh - (row + 1) * key
                cv2.rectangle(keys, (round(x + 4), round(y + 4)), (round(x + key - 4), round(y + key - 4)), 255, -1)
        _lay(img, cv2.GaussianBlur(keys, (0, 0), 2), rng.uniform(0.15, 0.8) * np.ones(3), rng, shadow=0.5)
    else:  # notebook_cover
        base = np.array(rng.choice([(0.1, 0.14, 0.3), (0.08, 0.08, 0.08), (0.4, 0.08, 0.1), (0.55, 0.42, 0.28)]), F32)
        img = base * (1 + 0.08 * _field(rng, (sh, sw), 200) + 0.05 * _field(rng, (sh, sw), 15))[..., None]
    img = np.ascontiguousarray(img * tone[..., None], dtype=F32)
    if name == "notebook_cover" and rng.random() < 0.6:  # its elastic band
        band = _mask_capsules(
            (sh, sw), [((rng.uniform(0.1, 0.9) * sw, -50), (rng.uniform(0.1, 0.9) * sw, sh + 50))], 12
        )
        _lay(img, band, 0.7 * img[sh // 2, sw // 2], rng)
    for _ in range(rng.integers(1, 4) if objects else int(rng.random() < 0.25)):
        _object(img, rng)
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_CUBIC) if s < 1 else img


def _object(img, rng):
    """Lay a pen, a coin or an eraser somewhere on the surface."""
    h, w = img.shape[:2]
    x, y, a = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0, math.pi)
    thing = rng.choice(["pen", "coin", "eraser"])
    if thing == "pen":
        length, width = rng.uniform(0.3, 0.6) * max(w, h), rng.uniform(0.015, 0.025) * min(w, h)
        ends = ((x, y), (x + length * math.cos(a), y + length * math.sin(a)))
        _lay(img, _mask_capsules((h, w), [ends], width), rng.uniform(0.05, 0.9, 3), rng)
    elif thing == "coin":
        mask = np.zeros((h, w), np.uint8)
        cv2.circle(mask, (round(x), round(y)), round(rng.uniform(0.03, 0.05) * min(w, h)), 255, -1, cv2.LINE_AA)
        _lay(img, mask, rng.choice([(0.75, 0.6, 0.3), (0.7, 0.7, 0.72), (0.6, 0.35, 0.2)]), rng, shadow=0.5)
    else:
        box = cv2.boxPoints(((x, y), (rng.uniform(0.05, 0.1) * w, rng.uniform(0.03, 0.05) * w), math.degrees(a)))
        mask = np.zeros((h, w), np.uint8)
        cv2.fillConvexPoly(mask, np.round(box).astype(np.int32), 255, cv2.LINE_AA)
        _lay(img, mask, rng.choice([(0.92, 0.9, 0.88), (0.85, 0.4, 0.5), (0.3, 0.45, 0.8)]), rng)


def _rule(img, lines, colour, alpha, width):
    """Print straight lines ((x0, y0), (x1, y1)) of `colour` on the paper, as a printer's ink would take."""
    mask = _mask_capsules(img.shape[:2], lines, width).astype(F32) * (alpha / 255)
    img *= 1 - mask[..., None] * (1 - np.asarray(colour, F32))


def _paper(style, w, h, rng, digit_height=0.0):
    """A sheet of `style` paper (h, w, 3) in sRGB, and where a digit goes on it: (x, y, height) or None."""
    base = NOTES[rng.choice(list(NOTES))] if style == "coloured" else (0.93, 0.93, 0.9) + rng.uniform(-0.03, 0.03, 3)
    fibre = (
        1
        + 0.015 * _field(rng, (h, w), 90)
        + 0.01 * cv2.GaussianBlur(rng.standard_normal((h, w)).astype(F32), (0, 0), 1)
    )
    img = np.ascontiguousarray(np.asarray(base, F32) * fibre[..., None])
    t = max(1, round(w / 700))
    if style == "squared":
        step, colour = w / rng.uniform(30, 42), rng.choice([(0.55, 0.7, 0.9), (0.6, 0.6, 0.6), (0.5, 0.8, 0.6)])
        grid = [((i * step, 0), (i * step, h)) for i in range(int(w / step) + 1)]
        _rule(img, grid + [((0, j * step), (w, j * step)) for j in range(int(h / step) + 1)], colour, 0.55, t)
    elif style == "ruled":
        step = w / rng.uniform(20, 28)
        _rule(img, [((0, j * step), (w, j * step)) for j in range(3, int(h / step) + 1)], (0.45, 0.65, 0.9), 0.7, t)
        if rng.random() < 0.7:
            margin = rng.uniform(0.08, 0.15) * w
            _rule(img, [((margin, 0), (margin, h))], (0.9, 0.3, 0.3), 0.7, t)
    side, spot = min(w, h), None
    if style == "form":
        count = int(rng.integers(4, 9))
        box = min(digit_height * rng.uniform(1.3, 1.7), 0.85 * w / count)
        x0, y0 = rng.uniform(0.07 * w, 0.93 * w - count * box), rng.uniform(0.2 * h, 0.8 * h - box)
        _form_text(img, rng, y0 - 0.06 * h, y0 + box + 0.04 * h, t)
        edges = [((x0 + i * box, y0), (x0 + i * box, y0 + box)) for i in range(count + 1)]
        edges += [((x0, y0), (x0 + count * box, y0)), ((x0, y0 + box), (x0 + count * box, y0 + box))]
        _rule(img, edges, rng.choice([(0.1, 0.1, 0.1), (0.9, 0.35, 0.3), (0.35, 0.5, 0.85)]), 0.85, 2 * t)
        k = rng.integers(count)
        spot = (x0 + (k + 0.5) * box + rng.normal(0, 0.04) * box, y0 + box * rng.uniform(0.45, 0.55), box / 1.3)
    elif digit_height:
        margin = 0.08 * side + 0.6 * digit_height
        spot = (rng.uniform(margin, w - margin), rng.uniform(margin, h - margin), digit_height)
    return img, spot


def _form_text(img, rng, above, below, t):
    """Print a form's lines of small text around a row of boxes (rows between `above` and `below` stay clear)."""
    h, w = img.shape[:2]
    mask, scale = np.zeros((h, w), np.uint8), w / rng.uniform(1400, 2200)
    step, y = 45 * scale, 0.06 * h + rng.uniform(0, 30 * scale)
    letters = "abcdefghijklmnoprstuvwy"
    while y < 0.94 * h:
        if not above - step < y < below:
            words = ["".join(rng.choice(list(letters), rng.integers(2, 9))) for _ in range(rng.integers(2, 12))]
            origin = (round(0.07 * w), round(y))
            cv2.putText(
                mask, " ".join(words).capitalize(), origin, cv2.FONT_HERSHEY_SIMPLEX, scale, 255, t, cv2.LINE_AA
            )
        y += step * (2.2 if rng.random() < 0.15 else 1)
    label = rng.choice(["Account number", "Postcode", "Member no.", "Date of birth", "Reference"])
    cv2.putText(mask, label, (round(0.07 * w), round(above)), cv2.FONT_HERSHEY_DUPLEX, scale * 1.2, 255, t, cv2.LINE_AA)
    img *= 1 - 0.85 * (mask.astype(F32) / 255)[..., None]


def _crumple(img, rng):
    """Crumple and flatten the sheet again: bent lines, facets lit differently, and creases."""
    h, w = img.shape[:2]
    side = min(h, w)
    bend = [0.006 * side * _field(rng, (h, w), 5) for _ in range(2)]
    yy, xx = np.mgrid[0:h, 0:w].astype(F32)
    img = cv2.remap(img, xx + bend[0], yy + bend[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    shade = 1 + 0.05 * _field(rng, (h, w), 6)
    for _ in range(rng.integers(5, 14)):
        a, cx, cy = rng.uniform(0, math.pi), rng.uniform(0, w), rng.uniform(0, h)
        across = (xx - cx) * -math.sin(a) + (yy - cy) * math.cos(a)
        reach = np.exp(-((((xx - cx) * math.cos(a) + (yy - cy) * math.sin(a)) / (rng.uniform(0.2, 0.7) * side)) ** 2))
        shade += reach * (rng.uniform(-0.12, 0.12) * np.tanh(across / (0.004 * side)) - 0.08 * np.exp(-(across**2)))
    return img * np.clip(shade, 0.5, 1.2)[..., None]


def _place(sw, sh, size, cover, rng):
    """The sheet's corners in the upright frame (tilted, turned, scaled to `cover`, shifted) and the factors."""
    tilt, axis, turn = rng.uniform(0, 25), rng.uniform(0, math.pi), rng.uniform(-15, 15)
    flat = np.array([[0, 0], [sw, 0], [sw, sh], [0, sh]], np.float64) - (sw / 2, sh / 2)
    spin, _ = cv2.Rodrigues(np.array([math.cos(axis), math.sin(axis), 0.0]) * math.radians(tilt))
    tilted = np.c_[flat, np.zeros(4)] @ spin.T
    distance = rng.uniform(1.1, 2.0) * max(sw, sh)  # the phone's height above the sheet, a wide-angle lens
    quad = tilted[:, :2] * (distance / (distance + tilted[:, 2:]))
    c, s = math.cos(math.radians(turn)), math.sin(math.radians(turn))
    quad = quad @ np.array([[c, s], [-s, c]])
    x, y = quad.T
    quad *= math.sqrt(cover * size[0] * size[1] / (0.5 * abs(x @ np.roll(y, 1) - y @ np.roll(x, 1))))
    slack = 0.5 * (1 - math.sqrt(cover))
    quad += (size[0] * (0.5 + rng.uniform(-slack, slack)), size[1] * (0.5 + rng.uniform(-slack, slack)))
    return quad, {"rotation": round(turn, 2), "perspective": round(tilt, 2), "tilt_axis": round(math.degrees(axis))}


def _hand(img, rng, tip, inward, u):
    """A thumb (and the fingers beside it) reaching in from beyond the frame to `tip`, pointing along `inward`."""
    h, w = img.shape[:2]
    width, inward = rng.uniform(80, 120) * u, inward / (np.linalg.norm(inward) + 1e-9)
    beside = np.array([-inward[1], inward[0]])
    start = tip - inward * 3 * max(w, h)
    _lay(img, _mask_capsules((h, w), [(start, tip)], width), SKIN[rng.integers(len(SKIN))], rng, shadow=0.45)
    skin = img[int(np.clip(tip[1], 0, h - 1)), int(np.clip(tip[0], 0, w - 1))].copy()
    nail = np.zeros((h, w), np.uint8)
    centre = tip - inward * width * 0.45
    cv2.ellipse(nail, tuple(map(round, centre)), (round(width * 0.3), round(width * 0.22)),
                math.degrees(math.atan2(inward[1], inward[0])), 0, 360, 255, -1, cv2.LINE_AA)  # fmt: skip
    _lay(img, nail, np.minimum(skin * (1.1, 1.0, 1.05) + 0.04, 1), rng, shadow=0.0)
    for k in range(rng.integers(0, 3)):  # fingers under the sheet, their tips peeping out beside the thumb
        side = beside * width * (1.3 + 1.05 * k) * rng.choice([-1, 1])
        finger = tip + side - inward * width * rng.uniform(1.0, 2.0)
        _lay(img, _mask_capsules((h, w), [(start + side, finger)], width * 0.9), skin * 0.95, rng, shadow=0.35)


def _light(kind, size, rng, spot, factors):
    """The light on the scene at each pixel (h, w) and its colour; shades for the shadow kinds."""
    w, h = max(16, size[0] // 8), max(16, size[1] // 8)
    yy, xx = np.mgrid[0:h, 0:w].astype(F32)
    x, y = xx / w, yy / h
    name = rng.choice(["window", "warm_lamp", "flash", "overhead"])
    if name == "window":
        a = rng.uniform(0, 2 * math.pi)
        gain, colour = 1 + rng.uniform(0.2, 0.7) * ((x - 0.5) * math.cos(a) + (y - 0.5) * math.sin(a)), (0.93, 1.0, 1.1)
    elif name == "warm_lamp":
        r2 = (x - rng.uniform(-0.3, 1.3)) ** 2 + (y - rng.uniform(-0.3, 1.3)) ** 2
        gain, colour = 1 / (1 + r2 / rng.uniform(0.2, 1.0) ** 2), (1.0, 0.84, 0.62)
    elif name == "flash":  # a hot spot near the middle, the corners falling off fast
        r2 = (x - rng.uniform(0.35, 0.65)) ** 2 + (y - rng.uniform(0.35, 0.65)) ** 2
        gain, colour = 0.45 + 0.7 * np.exp(-r2 / (2 * rng.uniform(0.15, 0.3) ** 2)), (1.0, 1.0, 0.98)
    else:
        gain, colour = 1 + 0.08 * _field(rng, (h, w), 2), (1.0, 0.97, 0.93)
    gain = gain * (1 + 0.06 * _field(rng, (h, w), 3))
    sx, sy = (spot[0] / size[0], spot[1] / size[1]) if spot is not None else (0.5, 0.5)
    if kind == "frame-shadow":  # the edge of a shade across the sheet, one side far darker
        a, depth, soft = rng.uniform(0, 2 * math.pi), rng.uniform(0.6, 0.9), rng.uniform(0.01, 0.12)
        edge = (x - sx - rng.uniform(-0.15, 0.15)) * math.cos(a) + (y - sy - rng.uniform(-0.15, 0.15)) * math.sin(a)
        gain = gain * (1 - depth / (1 + np.exp(-edge / soft)))
        factors["shade"] = round(depth, 2)
    elif kind == "frame-finger_shadow":
        a, depth = rng.uniform(0, 2 * math.pi), rng.uniform(0.35, 0.7)
        tip = np.array([sx * w, sy * h]) + rng.normal(0, 0.04, 2) * (w, h)
        way, thing = np.array([math.cos(a), math.sin(a)]), rng.choice(["finger", "hand", "phone"])
        mask = np.zeros((h, w), np.uint8)
        if thing == "phone":
            box = cv2.boxPoints((tuple(tip + way * 0.4 * h), (0.8 * h, 0.4 * w), math.degrees(a)))
            cv2.fillConvexPoly(mask, np.round(box).astype(np.int32), 255)
        else:
            reach = 1 if thing == "finger" else 4
            tips = [
                tip - way * abs(k - 1.5) * 0.04 * h + np.array([-way[1], way[0]]) * k * 0.06 * w for k in range(reach)
            ]
            mask = _mask_capsules((h, w), [(t + way * 2 * h, t) for t in tips], 0.05 * w)
        blur = rng.uniform(0.02, 0.08) * w
        gain = gain * (1 - depth * cv2.GaussianBlur(mask.astype(F32) / 255, (0, 0), blur))
        factors |= {"shade": round(depth, 2), "shadow_of": str(thing)}
    factors["lighting"] = str(name)
    return cv2.resize(gain.astype(F32), size, interpolation=cv2.INTER_LINEAR), np.array(colour, F32) ** 0.5


def _camera(linear, rng, u, factors):
    """The camera's 8-bit sRGB picture of linear light: exposure, lens, blur, noise, tone, sharpening."""
    h, w = linear.shape[:2]
    linear *= rng.uniform(0.8, 1.05) / max(1e-3, float(np.percentile(linear[::7, ::7], 99)))
    yy, xx = np.ogrid[0:h, 0:w]
    r2 = ((xx - w / 2) ** 2 + (yy - h / 2) ** 2) / ((w / 2) ** 2 + (h / 2) ** 2)
    vignette = rng.uniform(0, 0.4)
    linear *= (1 - vignette * r2).astype(F32)[..., None]
    fringe = rng.uniform(0, 0.002)  # red and blue focused at slightly different sizes
    for channel, grow in ((0, 1 + fringe), (2, 1 - fringe)):
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), 0, grow)
        linear[..., channel] = cv2.warpAffine(linear[..., channel], matrix, (w, h), borderMode=cv2.BORDER_REFLECT)
    blur = rng.uniform(0, 2.0) * u
    if blur > 0.3:
        linear = cv2.GaussianBlur(linear, (0, 0), blur)
    shake = rng.uniform(3, 14) * u if rng.random() < 0.25 else 0.0
    if shake:
        size = int(shake) | 1
        kernel = _mask_capsules((size, size), [((0, size / 2), (size - 1, size / 2))], 1).astype(F32)
        kernel = cv2.warpAffine(
            kernel, cv2.getRotationMatrix2D((size / 2, size / 2), rng.uniform(0, 180), 1), (size, size)
        )
        linear = cv2.filter2D(linear, -1, kernel / max(kernel.sum(), 1e-6))
    pixels = np.sqrt(np.clip(linear, 0, 1))
    noise = rng.uniform(0.004, 0.035)
    grain = rng.standard_normal((h, w), dtype=F32)[..., None]
    chroma = cv2.resize(rng.standard_normal((h // 2, w // 2, 3), dtype=F32), (w, h))
    pixels += noise * (grain + 0.6 * chroma) * np.sqrt(pixels + 0.05)
    sharpen = rng.uniform(0, 0.8)  # phones sharpen, leaving halos along edges
    pixels += sharpen * (pixels - cv2.GaussianBlur(pixels, (0, 0), 1.5 * u))
    factors |= {"blur": round(blur, 2), "motion_blur": round(shake, 1), "noise": round(noise, 4)}
    factors |= {"vignette": round(vignette, 2), "chroma_shift": round(fringe, 4), "sharpen": round(sharpen, 2)}
    return (np.clip(pixels, 0, 1) * 255 + 0.5).astype(np.uint8)


def _encode(pixels, quality, exif_tag=None, subsampling=2):
    """The file's bytes: PNG when quality is None, else JPEG with pixels stored turned as EXIF `exif_tag` says."""
    buffer = io.BytesIO()
    if quality is None:
        Image.fromarray(pixels).save(buffer, "PNG")
        return buffer.getvalue()
    stored = np.ascontiguousarray(np.rot90(pixels, {None: 0, 1: 0, 3: 2, 6: 1, 8: 3}[exif_tag]))
    exif = Image.Exif()
    if exif_tag is not None:
        exif[0x0112] = exif_tag
    Image.fromarray(stored).save(buffer, "JPEG", quality=int(quality), subsampling=subsampling, exif=exif)
    return buffer.getvalue()


def _ink(paper, density, spot, colour):
    """Write the stroke density centred at spot (x, y, ...) onto the paper, the ink absorbing as `colour` says."""
    h, w = density.shape
    x0, y0 = round(spot[0] - w / 2), round(spot[1] - h / 2)
    xa, ya, xb, yb = max(0, x0), max(0, y0), min(paper.shape[1], x0 + w), min(paper.shape[0], y0 + h)
    strokes = density[ya - y0 : yb - y0, xa - x0 : xb - x0, None]
    paper[ya:yb, xa:xb] *= 1 - strokes * (1 - np.asarray(colour, F32))


def _pen(kind, rng):
    """The pen and ink a writer uses for `kind`: (pen, ink colour name, ink family)."""
    if kind in ("frame-pencil", "scan-pencil"):
        return "pencil", "graphite", "pencil"
    if kind == "scan-marker" or (kind == "frame-coloured" and rng.random() < 0.3):
        pen = "marker"
    else:
        pen = rng.choice(
            ["gel", "felt_tip"]
            if kind == "frame-coloured"
            else ["ballpoint", "biro_skips", "gel", "felt_tip", "fountain"]
        )
    inks = PENS[pen][1] if kind in ("frame-coloured", "scan-marker") else ("blue", "black")
    return str(pen), str(rng.choice(inks)), "marker" if pen == "marker" else "pen"


FRAME_PAPER = {"frame-plain": "plain", "frame-pencil": "plain", "frame-form_box": "form", "frame-squared": "squared",
               "frame-ruled": "ruled", "frame-shadow": "plain", "frame-finger_shadow": "plain",
               "frame-coloured": "coloured", "frame-crumpled": "plain"}  # fmt: skip
SHEETS = {"A4": 1.414, "letter": 1.294, "A5": 1.414, "note": 1.0, "card": 0.6}  # height over width, lying upright


def _frame(digit, kind, rng, size):
    """A phone's photo of a sheet (or of the bare surface) as its JPEG bytes and the factors drawn."""
    w, h = size
    u = min(w, h) / 1200  # lengths in pixels are chosen for a frame 1200 pixels across
    background = str(BACKGROUNDS[rng.integers(len(BACKGROUNDS))])
    surface = (
        background if background != "hand_at_edge" else str(rng.choice([b for b in BACKGROUNDS if b != background]))
    )
    img = _surface(surface, w, h, rng, objects=kind == "frame-nosheet")
    factors = {"kind": kind, "background": background, "surface": surface, "coverage": None, "rotation": None,
               "perspective": None, "digit_height": None, "ink": None, "corners": None}  # fmt: skip
    centre = None
    if kind != "frame-nosheet":
        style = FRAME_PAPER.get(kind) or str(rng.choice(["plain", "squared", "ruled", "form", "coloured"]))
        shape = str(
            rng.choice(["note", "card"] if style == "coloured" and rng.random() < 0.7 else ["A4", "letter", "A5"])
        )
        ratio = SHEETS[shape] if rng.random() < 0.75 else 1 / SHEETS[shape]
        cover = rng.uniform(0.3, 0.95)
        sw = round(math.sqrt(cover * w * h / ratio))
        sh = round(sw * ratio)
        written = digit is not None and kind != "frame-empty"
        sheet, spot = _paper(
            style, sw, sh, rng, rng.uniform(0.08, 0.3) * min(sw, sh) if written or style == "form" else 0
        )
        if written:
            pen, ink, family = _pen(kind, rng)
            strokes, slant = _strokes(digit, max(8, round(spot[2])), pen, rng)
            _ink(sheet, strokes, spot, INKS[ink])
            factors |= {"ink": family, "pen": pen, "ink_colour": ink, "slant": round(slant, 1)}
        if kind == "frame-crumpled":
            sheet = _crumple(sheet, rng)
        quad, placed = _place(sw, sh, size, cover, rng)
        flat = np.float32([[0, 0], [sw, 0], [sw, sh], [0, sh]])
        if written:  # the photographer keeps the digit in view, whatever else the frame cuts
            box = np.float32(
                [[spot[0] + dx * spot[2], spot[1] + dy * spot[2]] for dx in (-0.5, 0.5) for dy in (-0.6, 0.6)]
            )
            seen = cv2.perspectiveTransform(box[None], cv2.getPerspectiveTransform(flat, quad.astype(F32)))[0]
            margin = 0.03 * min(w, h)
            quad += np.maximum(0, margin - seen.min(0)) - np.maximum(0, seen.max(0) - (w - margin, h - margin))
        homography = cv2.getPerspectiveTransform(flat, quad.astype(F32))
        warped = cv2.warpPerspective(sheet, homography, size, flags=cv2.INTER_LINEAR)
        alpha = cv2.warpPerspective(np.ones((sh, sw), F32), homography, size, flags=cv2.INTER_LINEAR)
        lift = cv2.GaussianBlur(np.roll(alpha, (round(4 * u), round(3 * u)), (0, 1)), (0, 0), 5 * u)
        img *= (1 - 0.35 * lift * (1 - alpha))[..., None]  # the sheet's edge casts a thin shadow on the surface
        img = img * (1 - alpha)[..., None] + warped
        del warped
        factors |= placed | {"coverage": round(cover, 3), "corners": np.round(quad, 1).tolist(), "paper": style,
                             "sheet": shape if ratio >= 1 or shape == "card" else shape + "-landscape"}  # fmt: skip
        if written:
            x, y, tall = spot
            ends = cv2.perspectiveTransform(np.float32([[(x, y), (x, y - tall / 2), (x, y + tall / 2)]]), homography)[0]
            centre = ends[0]
            factors |= {"digit_height": round(float(np.linalg.norm(ends[2] - ends[1])), 1),
                        "digit_centre": np.round(centre, 1).tolist()}  # fmt: skip
    if background == "hand_at_edge":
        _hand(img, rng, *_grip(factors["corners"], size, rng, u), u)
    gain, colour = _light(kind, size, rng, centre, factors)
    img *= img  # sRGB albedo to linear light, with a gamma of 2
    img *= gain[..., None]
    img *= colour
    pixels = _camera(img, rng, u, factors)
    quality, exif = int(rng.integers(60, 96)), int(rng.choice([1, 3, 6, 8], p=[0.7, 0.1, 0.1, 0.1]))
    subsampling = int(rng.choice([2, 1, 0], p=[0.7, 0.2, 0.1]))  # 4:2:0, 4:2:2, 4:4:4
    factors |= {"quality": quality, "exif": exif, "chroma_subsampling": ("4:4:4", "4:2:2", "4:2:0")[subsampling]}
    return _encode(pixels, quality, exif, subsampling), factors


def _grip(corners, size, rng, u):
    """Where a thumb holding the sheet rests (a point on a visible edge, pushed in) and which way it points."""
    w, h = size
    if corners is not None:
        quad = np.array(corners)
        for i in rng.permutation(4):
            point = quad[i] + rng.uniform(0.2, 0.8) * (quad[(i + 1) % 4] - quad[i])
            if 0 < point[0] < w and 0 < point[1] < h:
                inward = quad.mean(0) - point
                return point + inward / np.linalg.norm(inward) * rng.uniform(30, 90) * u, inward
    edge = rng.integers(4)  # no sheet edge in view: the hand comes in over a frame edge
    point = np.array([rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.9) * h])
    point[edge % 2] = (0.0, w, 0.0, h)[edge] + (1, -1, 1, -1)[edge] * rng.uniform(0.1, 0.25) * min(w, h)
    return point, np.array([w / 2, h / 2]) - point


def _scan(digit, kind, rng):
    """A crop or flatbed scan of one digit on paper, as PNG or JPEG bytes, and the factors drawn."""
    w = int(rng.integers(100, 401))
    h = int(np.clip(round(w * rng.uniform(0.8, 1.25)), 100, 400))
    pen, ink, family = _pen(kind, rng)
    paper, _ = _paper("plain", w, h, rng)
    paper = np.minimum(paper * rng.uniform(1.0, 1.06), 1)  # a scanner's lamp makes the paper nearly white
    height = round(rng.uniform(0.45, 0.75) * h)
    strokes, slant = _strokes(digit, height, pen, rng)
    colour, factors = INKS[ink], {"kind": kind, "background": "paper", "coverage": 1.0, "rotation": 0.0, "exif": 1,
                                  "perspective": 0.0, "digit_height": height, "ink": family, "pen": pen,
                                  "ink_colour": ink, "slant": round(slant, 1), "corners": None}  # fmt: skip
    if kind == "scan-pencil":  # faint: the darkest strokes only 15-35% darker than the paper
        contrast = rng.uniform(0.15, 0.35)
        strokes = np.clip(strokes / max(1e-3, float(np.percentile(strokes[strokes > 0.1], 95))), 0, 1)
        colour, factors["contrast"] = (1 - contrast) * np.ones(3), round(contrast, 3)
    if kind == "scan-lowres":  # the strokes swell or shrink in an old device's processing
        grow = str(rng.choice(["thickened", "thinned"]))
        reach = 0.03 if grow == "thickened" else 0.012  # thinned strokes must survive the shrinking to 8 pixels
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * max(1, round(reach * height)) + 1,) * 2)
        strokes = (cv2.dilate if grow == "thickened" else cv2.erode)(strokes, kernel)
        factors["strokes"] = grow
    _ink(paper, strokes, (w / 2 + rng.normal(0, 0.04) * w, h / 2 + rng.normal(0, 0.04) * h), colour)
    paper *= 1 - rng.uniform(0, 0.08) * np.linspace(0, 1, w, dtype=F32)[None, :: -1 if rng.random() < 0.5 else 1, None]
    if kind == "scan-lowres":
        box = int(rng.integers(8, 17))
        small = cv2.resize(
            paper, (max(2, round(w * box / height)), max(2, round(h * box / height))), interpolation=cv2.INTER_AREA
        )
        paper = cv2.resize(
            small, (w, h), interpolation=int(rng.choice([cv2.INTER_NEAREST, cv2.INTER_LINEAR, cv2.INTER_CUBIC]))
        )
        factors["box"] = box
    blur = rng.uniform(0.6, 1.6) if kind == "scan-lowres" else rng.uniform(0.2, 0.8)
    noise = rng.uniform(0.002, 0.012)
    paper = cv2.GaussianBlur(paper, (0, 0), blur) + noise * rng.standard_normal((h, w, 1), dtype=F32)
    quality = {"scan-plain": None, "scan-pencil": int(rng.integers(60, 91))}.get(
        kind, None if rng.random() < 0.5 else int(rng.integers(40 if kind == "scan-lowres" else 70, 91))
    )
    factors |= {"blur": round(blur, 2), "noise": round(noise, 4), "quality": quality}
    return _encode((np.clip(paper, 0, 1) * 255 + 0.5).astype(np.uint8), quality), factors


def render(digit: np.ndarray | None, kind: str, rng: np.random.Generator,
           size: tuple[int, int] = (1200, 1600)) -> tuple[bytes, dict]:  # fmt: skip
    """Render an MNIST digit (28x28, ink in 0-1; None for the empty kinds) as the file a user sends, and its factors."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; the kinds are {', '.join(KINDS)}")
    empty = kind in ("frame-empty", "frame-nosheet")
    if digit is None and not empty:
        raise ValueError(f"kind {kind!r} needs a digit; only frame-empty and frame-nosheet take None")
    if digit is not None and not empty:
        digit = np.asarray(digit, F32)
        if digit.shape != (28, 28) or not (digit > 0.15).any():
            raise ValueError(
                f"a digit must be a 28x28 image with ink in 0-1, got shape {digit.shape}, max {digit.max()}"
            )
    return _scan(digit, kind, rng) if kind.startswith("scan-") else _frame(digit, kind, rng, tuple(size))
