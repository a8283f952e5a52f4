"""Things beside the sheet (a pen, a coin, a phone, an eraser) and the hand holding it, with their shadows."""

from collections.abc import Callable

import cv2
import numpy as np

from .fields import blend, rotated_box_coords

SKIN = ((0.88, 0.70, 0.60), (0.78, 0.58, 0.45), (0.58, 0.40, 0.28), (0.38, 0.25, 0.17))


def _rounded_box(u, v, length, width, corner):
    """Coverage (0-1) of a `length` x `width` rectangle with rounded corners, centred at u = v = 0."""
    dx = np.maximum(np.abs(u) - (length / 2 - corner), 0)
    dy = np.maximum(np.abs(v) - (width / 2 - corner), 0)
    return np.clip(corner - np.hypot(dx, dy) + 0.5, 0, 1)


def _cylinder(v, radius):
    """Brightness across a lit cylinder of `radius`: dark at the sides, a highlight off the middle."""
    across = np.clip(v / radius, -1, 1)
    return 0.55 + 0.45 * np.sqrt(1 - across**2) + 0.5 * np.exp(-(((across + 0.45) / 0.12) ** 2))


def _pen(rng, mm):
    """A ballpoint: a coloured barrel, a conical tip, a cap at the other end."""
    length, radius = rng.uniform(130, 150) * mm, rng.uniform(4, 5.5) * mm
    body = np.float32([[0.1, 0.2, 0.6], [0.1, 0.1, 0.1], [0.9, 0.9, 0.9], [0.8, 0.2, 0.2]][rng.integers(4)])

    def paint(u, v):
        taper = np.clip((length / 2 - u) / (18 * mm), 0.15, 1)
        alpha = np.clip(radius * taper - np.abs(v) + 0.5, 0, 1) * (np.abs(u) < length / 2)
        colour = np.where((u > length / 2 - 18 * mm)[..., None], np.float32([0.75, 0.72, 0.65]), body)
        return alpha, colour * _cylinder(v, radius * taper)[..., None]

    return length / 2, paint


def _coin(rng, mm):
    """A coin: a metal disc with a raised rim."""
    radius = rng.uniform(9, 13) * mm
    metal = np.float32([[0.78, 0.62, 0.32], [0.72, 0.72, 0.74], [0.7, 0.45, 0.3]][rng.integers(3)])

    def paint(u, v):
        r = np.hypot(u, v)
        alpha = np.clip(radius - r + 0.5, 0, 1)
        shade = 0.85 + 0.25 * (u - v) / radius * (r > radius * 0.85) + 0.05 * np.cos(r / mm * 2)
        return alpha, metal * shade[..., None]

    return radius, paint


def _phone(rng, mm):
    """A phone face down: a dark glass back with a camera block and a reflection across it."""
    length, width = rng.uniform(140, 165) * mm, rng.uniform(68, 78) * mm
    back = np.float32([[0.06, 0.06, 0.07], [0.75, 0.75, 0.78], [0.25, 0.3, 0.4]][rng.integers(3)])

    def paint(u, v):
        alpha = _rounded_box(u, v, length, width, 9 * mm)
        colour = back * (1 + 0.5 * np.exp(-(((u + v * 0.7) / (25 * mm)) ** 2)))[..., None]
        lens = np.hypot(u - (length / 2 - 20 * mm), v - (width / 2 - 18 * mm)) < 7 * mm
        return alpha, np.where(lens[..., None], np.float32([0.02, 0.02, 0.03]), colour)

    return np.hypot(length, width) / 2, paint


def _eraser(rng, mm):
    """An eraser half in its cardboard sleeve."""
    length, width = rng.uniform(35, 55) * mm, rng.uniform(16, 22) * mm

    def paint(u, v):
        alpha = _rounded_box(u, v, length, width, 2 * mm)
        sleeve = np.abs(u - length * 0.1) < length * 0.3
        colour = np.where(sleeve[..., None], np.float32([0.15, 0.35, 0.7]), np.float32([0.93, 0.75, 0.78]))
        return alpha, colour

    return np.hypot(length, width) / 2, paint


OBJECTS: dict[str, Callable] = {"pen": _pen, "coin": _coin, "phone": _phone, "eraser": _eraser}


def _stamp(img: np.ndarray, cover: np.ndarray, centre, angle: float, reach: float, paint, lift_px: float) -> None:
    """Draw `paint`'s object at `centre` turned by `angle` with a soft shadow `lift_px` off; note it in `cover`."""
    h, w = img.shape[:2]
    margin = reach + 3 * lift_px
    x0, y0 = int(max(centre[0] - margin, 0)), int(max(centre[1] - margin, 0))
    x1, y1 = int(min(centre[0] + margin, w)), int(min(centre[1] + margin, h))
    if x1 <= x0 or y1 <= y0:
        return
    u, v = rotated_box_coords((y1 - y0, x1 - x0), (centre[0] - x0, centre[1] - y0), angle)
    alpha, colour = paint(u, v)
    alpha = alpha.astype(np.float32)
    shadow = cv2.GaussianBlur(alpha, (0, 0), max(lift_px, 0.5))
    # The light comes from above and a little behind: the shadow falls down and to the right.
    shift = np.float32([[1, 0, lift_px * 0.6], [0, 1, lift_px]])
    shadow = cv2.warpAffine(shadow, shift, (x1 - x0, y1 - y0))
    region = img[y0:y1, x0:x1]
    region *= 1 - 0.5 * shadow[..., None]
    blend(region, colour.astype(np.float32), alpha)
    np.maximum(cover[y0:y1, x0:x1], alpha, out=cover[y0:y1, x0:x1])


def scatter(img, cover, rng, mm, keep_clear: Callable) -> list[str]:
    """Lay 0-3 objects on the surface where `keep_clear(x, y, reach)` allows, noted in `cover`; their names."""
    h, w = img.shape[:2]
    placed = []
    for _ in range(int(rng.choice([0, 0, 1, 1, 2, 3]))):
        name = str(rng.choice(list(OBJECTS)))
        reach, paint = OBJECTS[name](rng, mm)
        x, y, angle = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0, np.pi)
        if keep_clear(x, y, reach):
            _stamp(img, cover, (x, y), angle, reach, paint, 2 * mm)
            placed.append(name)
    return placed


def _thumb_paint(skin: np.ndarray, length: float, width: float, mm: float):
    """Paint for a thumb along +u, tip at u = length / 2: it widens towards the hand, a nail near the tip."""
    tip = length / 2 - width / 2

    def paint(u, v):
        half = width / 2 * (1 + 0.35 * np.clip((tip - u) / length, 0, 1))
        beyond = np.maximum(u - tip, 0)
        alpha = np.clip(half - np.hypot(beyond, v) + 0.5, 0, 1) * (u > -length / 2)
        across = np.clip(np.abs(v) / half, 0, 1)
        # Skin is matte and reddens where it turns away: darker, warmer sides, a soft sheen on top.
        shade = 0.7 + 0.3 * np.sqrt(1 - across**2) + 0.08 * np.exp(-((((v / half) + 0.3) / 0.3) ** 2))
        colour = skin * shade[..., None] * (1 - across[..., None] ** 3 * np.float32([0.0, 0.15, 0.2]))
        crease = np.exp(-(((u - tip + 28 * mm) / (0.8 * mm)) ** 2)) * (1 - across) * 0.25
        colour *= (1 - crease)[..., None]
        nail = _rounded_box(u - (tip - 2 * mm), v, 14 * mm, width * 0.62, width * 0.3)
        nail_colour = np.float32([0.95, 0.8, 0.78]) * (0.9 + 0.15 * np.sqrt(1 - across**2))[..., None]
        return alpha, colour * (1 - nail[..., None]) + nail[..., None] * nail_colour

    return paint


def thumb(img: np.ndarray, cover: np.ndarray, rng: np.random.Generator, mm: float, edge_point, inward) -> None:
    """A hand holding the sheet: the palm off the edge at `edge_point`, the thumb reaching `inward` over it."""
    skin = np.float32(SKIN[rng.integers(len(SKIN))])
    width, inside = rng.uniform(19, 24) * mm, rng.uniform(15, 30) * mm
    angle = float(np.arctan2(inward[1], inward[0])) + rng.uniform(-0.5, 0.5)
    direction = np.array([np.cos(angle), np.sin(angle)])
    length = 75 * mm
    centre = np.asarray(edge_point) + direction * (inside - length / 2)
    # The ball of the thumb and the palm, off the sheet's edge, turned a little to one side.
    palm_centre = (
        centre - direction * length * 0.6 + np.array([-direction[1], direction[0]]) * rng.uniform(-15, 15) * mm
    )

    def palm(u, v):
        alpha = np.clip((1 - np.hypot(u / (45 * mm), v / (38 * mm))) * 20, 0, 1)
        return alpha, skin * (0.75 + 0.25 * np.clip(1 - np.abs(v) / (38 * mm), 0, 1))[..., None]

    _stamp(img, cover, palm_centre, angle, 50 * mm, palm, 4 * mm)
    _stamp(img, cover, centre, angle, length / 2 + width, _thumb_paint(skin, length, width, mm), 3 * mm)
