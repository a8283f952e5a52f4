"""What the sheet lies on: desks, wood, cloth, newspaper, bedding, stone, cork, car seats, laptops, a room."""

import cv2
import numpy as np

from .fields import enlarge, fractal_noise, grain, random_words, rotated_box_coords, smooth_noise

LIGHT = ("white_desk", "marble", "bedsheet")
DARK = ("dark_wood", "black_desk", "granite", "car_seat")
BUSY = ("tablecloth", "newspaper")
OTHER = ("light_wood", "cork", "laptop")
HELD = "hand"  # a sheet held up in a hand, an out-of-focus room behind it
WITHOUT_SHEET = LIGHT + DARK + BUSY + OTHER


def _tinted(rng: np.random.Generator, level: float, spread: float = 0.03) -> np.ndarray:
    """A near-grey RGB colour of brightness `level`, each channel nudged by up to `spread`."""
    return np.float32(level) * (1 + rng.uniform(-spread, spread, 3).astype(np.float32))


def _paint(shade: np.ndarray, colour) -> np.ndarray:
    """An HxWx3 image: a shading field times an RGB colour."""
    return shade[..., None] * np.asarray(colour, np.float32)


def white_desk(rng, shape, mm):
    """A white laminate desk, nearly as bright as paper, with faint mottling."""
    return _paint(1 + 0.015 * fractal_noise(rng, shape, 3, 3), _tinted(rng, rng.uniform(0.84, 0.95), 0.02))


def black_desk(rng, shape, mm):
    """A matte black or charcoal desk."""
    return _paint(1 + 0.06 * fractal_noise(rng, shape, 3, 3), _tinted(rng, rng.uniform(0.06, 0.16)))


def _wood(rng, shape, mm, colour):
    """Planks with gently wavy growth rings, fibre streaks along the grain and dark seams between boards."""
    h, w = shape
    along_x = bool(rng.random() < 0.5)
    u, v = rotated_box_coords(shape, (0, 0), (0 if along_x else np.pi / 2) + rng.uniform(-0.05, 0.05))
    plank = rng.uniform(80, 180) * mm
    board = np.floor(v / plank)
    phase = np.sin(board * 12.9898) * 43758.5453 % 1  # a fixed pseudo-random tone per board
    rings = np.sin(2 * np.pi * v / (rng.uniform(3, 8) * mm) + 2 * smooth_noise(rng, shape, 3) + 9 * phase)
    streak_shape = (h, max(2, w // 30)) if along_x else (max(2, h // 30), w)
    streaks = cv2.resize(rng.standard_normal(streak_shape).astype(np.float32), (w, h))
    shade = 1 + 0.06 * rings + 0.1 * (phase - 0.5) + 0.05 * streaks + 0.04 * smooth_noise(rng, shape, 6)
    seam = np.abs(v - np.round(v / plank) * plank) < 0.6 * mm
    shade = np.where(seam, shade * 0.55, shade)
    return _paint(shade.astype(np.float32), colour)


def light_wood(rng, shape, mm):
    """An oak or pine table."""
    return _wood(rng, shape, mm, np.float32([0.76, 0.58, 0.38]) * rng.uniform(0.85, 1.05))


def dark_wood(rng, shape, mm):
    """A walnut or stained table."""
    return _wood(rng, shape, mm, np.float32([0.30, 0.18, 0.10]) * rng.uniform(0.7, 1.1))


def tablecloth(rng, shape, mm):
    """A gingham tablecloth: checks of a colour and white, a fine weave, soft folds."""
    u, v = rotated_box_coords(shape, (0, 0), rng.uniform(-0.4, 0.4))
    pitch = rng.uniform(6, 25) * mm
    stripes = ((u % pitch) < pitch / 2).astype(np.float32) + ((v % pitch) < pitch / 2)
    colour = np.float32([[0.75, 0.1, 0.12], [0.12, 0.25, 0.65], [0.15, 0.5, 0.25], [0.1, 0.1, 0.1]][rng.integers(4)])
    white = np.float32([0.93, 0.92, 0.9])
    mix = (stripes / 2)[..., None] * rng.uniform(0.7, 1.0)
    img = white * (1 - mix) + colour * mix
    folds = 1 + 0.07 * fractal_noise(rng, shape, 3, 2) + 0.04 * grain(rng, shape, 1.0)
    return img * folds[..., None]


def newspaper(rng, shape, mm):
    """A newspaper page: columns of small print, a headline and a grey photo, turned at some angle."""
    h, w = shape
    side = int(np.hypot(h, w)) + 2
    page = np.full((side, side), 205 + rng.integers(-15, 15), np.uint8)
    line, column, top = max(3, int(3.2 * mm)), int(55 * mm), int(30 * mm)
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(page, random_words(rng, 4).upper(), (int(5 * mm), int(20 * mm)), font, 12 * mm / 22, 30, 2)
    # A few lines of print set once and stacked in random order fill the columns quickly.
    bank = np.zeros((8, line, column), np.uint8)
    for printed in bank:
        cv2.putText(printed, random_words(rng, 14), (0, int(line * 0.8)), font, line * 0.7 / 22, 255, 1)
    rows = (side - top) // line
    for x in range(int(5 * mm), side, column + int(4 * mm)):
        block = bank[rng.integers(0, len(bank), rows)].reshape(rows * line, column)
        target = page[top : top + rows * line, x : x + column]
        target[block[: target.shape[0], : target.shape[1]] > 100] = 40
    photo = (int(rng.uniform(0.1, 0.6) * side), int(rng.uniform(0.2, 0.7) * side))
    cv2.rectangle(page, photo, (photo[0] + column, photo[1] + int(40 * mm)), int(rng.integers(60, 140)), -1)
    turn = cv2.getRotationMatrix2D((side / 2, side / 2), rng.uniform(-30, 30), 1.0)
    turn[:, 2] -= [(side - w) / 2, (side - h) / 2]
    page = cv2.warpAffine(page, turn, (w, h), borderMode=cv2.BORDER_REFLECT)
    return _paint(page.astype(np.float32) / 255, [1.0, 0.98, 0.9])


def bedsheet(rng, shape, mm):
    """Bedding in a soft colour, rumpled into broad folds."""
    colour = np.float32([[0.9, 0.9, 0.92], [0.7, 0.8, 0.92], [0.92, 0.8, 0.82], [0.75, 0.85, 0.75]][rng.integers(4)])
    folds = fractal_noise(rng, shape, 3, 3)
    ridges = (1 - np.abs(fractal_noise(rng, shape, 4, 2)).clip(0, 1)) ** 6
    return _paint(1 + 0.08 * folds - 0.15 * ridges + 0.03 * grain(rng, shape, 1.0), colour)


def marble(rng, shape, mm):
    """White marble: cloudy, crossed by a few thin grey veins wandering from edge to edge."""
    h, w = shape
    veins = np.zeros(shape, np.float32)
    steps = 60
    for _ in range(int(rng.integers(3, 8))):
        # A random walk with momentum: veins bend gently and never close into loops that could read as digits.
        heading = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.12, steps))
        path = np.cumsum(np.stack([np.cos(heading), np.sin(heading)], axis=1), axis=0) * 1.5 * max(h, w) / steps
        path += rng.uniform(0, 1, 2) * [w, h] - path[steps // 2]
        width = max(1, int(rng.uniform(0.3, 1.5) * mm))
        cv2.polylines(veins, [np.int32(path * 16)], False, float(rng.uniform(0.3, 1)), width, cv2.LINE_AA, 4)
    veins = cv2.GaussianBlur(veins, (0, 0), max(0.5, 0.5 * mm))
    shade = 1 + 0.03 * fractal_noise(rng, shape, 3, 4) - 0.25 * veins
    return _paint(shade, _tinted(rng, rng.uniform(0.82, 0.92), 0.02))


def cork(rng, shape, mm):
    """A cork board or cork mat: brown with dense light and dark granules."""
    coarse = max(1.0, 1.2 * mm)
    speckle = grain(rng, shape, coarse) + 0.6 * grain(rng, shape, coarse * 2)
    return _paint(1 + 0.18 * np.tanh(speckle), np.float32([0.66, 0.47, 0.29]) * rng.uniform(0.8, 1.1))


def car_seat(rng, shape, mm):
    """Dark woven upholstery in padded panels with stitched seams."""
    u, v = rotated_box_coords(shape, (0, 0), rng.uniform(-0.3, 0.3) + rng.choice([0, np.pi / 2]))
    panel = rng.uniform(50, 90) * mm
    offset = (v % panel) / panel
    shade = 0.85 + 0.2 * np.sin(np.pi * offset) + 0.12 * grain(rng, shape, max(1.0, 0.6 * mm))
    seam = np.abs(offset - 0.5) > 0.48
    stitch = seam & (((u / (3 * mm)) % 1) < 0.5)
    shade = np.where(seam, 0.5, shade) + np.where(stitch, 0.5, 0)
    return _paint(shade.astype(np.float32), _tinted(rng, rng.uniform(0.1, 0.2), 0.05))


def laptop(rng, shape, mm):
    """A laptop's palm rest: brushed metal, the keyboard's dark keys above, a trackpad outline."""
    h, w = shape
    level = rng.choice([0.75, 0.3])
    streaks = cv2.resize(rng.standard_normal((h, max(2, w // 40))).astype(np.float32), (w, h))
    img = _paint(1 + 0.02 * streaks, _tinted(rng, level, 0.02))
    pitch, key = 19 * mm, 16 * mm
    top = rng.uniform(0.1, 0.3) * h
    for row in range(int(top // pitch) + 1):
        for col in range(int(w // pitch) + 1):
            x, y = col * pitch + pitch / 3 * (row % 2), top - (row + 1) * pitch
            cv2.rectangle(img, (int(x), int(y)), (int(x + key), int(y + key)), (0.08, 0.08, 0.09), -1)
    pad = (int(w / 2 - 55 * mm), int(top + 25 * mm), int(w / 2 + 55 * mm), int(top + 95 * mm))
    cv2.rectangle(img, pad[:2], pad[2:], tuple(float(c) for c in img[0, 0] * 0.85), max(1, int(0.7 * mm)))
    return img


def granite(rng, shape, mm):
    """A dark granite counter: black with white and pink flecks."""
    img = _paint(1 + 0.15 * grain(rng, shape, max(1.0, mm)), _tinted(rng, rng.uniform(0.12, 0.22)))
    flecks = grain(rng, shape, max(1.0, 1.5 * mm)) > 1.9
    img[flecks] = rng.choice([[0.8, 0.78, 0.75], [0.7, 0.5, 0.5]])
    return img


def hand(rng, shape, mm):
    """An out-of-focus room behind a sheet held up: wall, floor, furniture; drawn small, blurred, enlarged."""
    h, w = shape
    small_h, small_w = max(8, h // 8), max(8, w // 8)
    img = np.empty((small_h, small_w, 3), np.float32)
    img[:] = _tinted(rng, rng.uniform(0.35, 0.8), 0.12)
    img[int(rng.uniform(0.3, 0.9) * small_h) :] = _tinted(rng, rng.uniform(0.15, 0.5), 0.2)
    for _ in range(rng.integers(1, 4)):
        x, y = rng.integers(0, small_w), rng.integers(0, small_h)
        corner = (int(x + rng.uniform(0.1, 0.5) * small_w), int(y + rng.uniform(0.1, 0.5) * small_h))
        colour = tuple(float(c) for c in _tinted(rng, rng.uniform(0.1, 1), 0.3))
        cv2.rectangle(img, (int(x), int(y)), corner, colour, -1)
    return enlarge(cv2.GaussianBlur(img, (0, 0), 0.03 * small_w), (h, w))


DRAW = {
    "white_desk": white_desk,
    "marble": marble,
    "bedsheet": bedsheet,
    "dark_wood": dark_wood,
    "black_desk": black_desk,
    "granite": granite,
    "car_seat": car_seat,
    "tablecloth": tablecloth,
    "newspaper": newspaper,
    "light_wood": light_wood,
    "cork": cork,
    "laptop": laptop,
    "hand": hand,
}


def draw_surface(name: str, rng: np.random.Generator, shape: tuple[int, int], mm: float) -> np.ndarray:
    """Surface `name` as an HxWx3 float image of `shape`, with `mm` pixels to a millimetre."""
    return np.clip(DRAW[name](rng, shape, mm), 0, 1).astype(np.float32)
