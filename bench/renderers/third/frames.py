"""A phone photo of a sheet on a surface: the scene laid out, lit and taken with a phone's camera.

The smooth scene (surface, paper, objects, light) is drawn at a reduced size and enlarged; the sharp marks
on the sheet (printing and ink) are then warped onto the full-size frame, so a 12 MP frame stays fast.
"""

from dataclasses import dataclass

import cv2
import numpy as np

from . import camera, lighting, marks, objects, paper, pens, surfaces
from .fields import grain

# Each stage draws from its own generator, so a different digit moves nothing but the ink.
STAGES = ("surface", "sheet", "place", "ink", "objects", "light")


def _streams(rng: np.random.Generator) -> dict[str, np.random.Generator]:
    """One generator per stage, seeded from `rng`."""
    seeds = rng.integers(0, 2**63, len(STAGES))
    return {stage: np.random.default_rng(int(seed)) for stage, seed in zip(STAGES, seeds, strict=True)}


def _work_scale(size: tuple[int, int]) -> float:
    """The smooth scene's size relative to the frame: half, at most 1600 pixels long."""
    return min(0.5, 1600 / max(size))


def _pen_for(kind: str, rng: np.random.Generator) -> pens.Pen:
    """Pencils for pencil frames, coloured inks for coloured paper, blue or black pens otherwise."""
    names = {"frame-pencil": pens.PENCILS, "frame-coloured": pens.COLOURED_PENS}.get(kind, pens.DARK_PENS)
    return pens.PENS[str(rng.choice(names))]


def _ink(digit, kind, rng, mm, factors):
    """The digit's pen as a callable giving its ink drawn at a height; the pen's name goes in `factors`."""
    pen = _pen_for(kind, rng)
    line = pens.centre_line(digit, rng)
    width_px = max(0.6, rng.uniform(*pen.width_mm) * mm)
    factors.update(ink=pen.name, stroke_px=round(width_px, 2))
    aspect = (line.box[2] - line.box[0]) / max(line.box[3] - line.box[1], 1.0)

    def ink(height_px):
        alpha, corner = pens.stroke_alpha(line, height_px, width_px, pen, rng)
        return alpha, corner, aspect, pen.colour

    return ink


def _plan_sheet(digit, kind, streams, size, factors):
    """The drawn sheet, its homography into the frame, its corners there and its px per mm in the frame."""
    spec = paper.choose(kind, streams["sheet"])
    width_mm, height_mm = spec.size_mm
    quad, geometry = camera.place_sheet(streams["sheet"], width_mm / height_mm, size)
    factors.update(geometry, sheet=spec.sheet, paper=spec.paper, printing=spec.printing)
    edges = np.linalg.norm(np.roll(quad, -1, axis=0) - quad, axis=1) / [width_mm, height_mm, width_mm, height_mm]
    # Sheet pixels per mm: as fine as its nearest (largest) side needs in the frame.
    mm = float(edges.max())
    shape = (int(round(height_mm * mm)), int(round(width_mm * mm)))
    corners = np.float32([[0, 0], [shape[1], 0], [shape[1], shape[0]], [0, shape[0]]])
    homography = cv2.getPerspectiveTransform(corners, quad.astype(np.float32))
    ink = None if digit is None else _ink(digit, kind, streams["ink"], mm, factors)
    w, h = size

    def fits(box):
        x0, y0, x1, y1 = box
        pts = marks.to_frame(homography, [[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
        pad = 0.03 * w
        return bool(np.all((pts > pad) & (pts < np.array([w, h]) - pad)))

    sheet = paper.draw_sheet(spec, shape, mm, (streams["sheet"], streams["place"]), ink, fits)
    return sheet, homography, quad, float(edges.mean())


def _lay_paper(canvas, sheet, homography, quad, scale, rng) -> np.ndarray:
    """Composite the paper (colour, shading, grain) onto the small `canvas`; its coverage there."""
    h, w = canvas.shape[:2]
    mask8 = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(mask8, np.int32(np.round(quad * scale * 16)), 255, cv2.LINE_AA, 4)
    mask = mask8.astype(np.float32) / 255
    # The sheet lifts a little off the surface: a thin soft shadow around its edge.
    contact = cv2.warpAffine(cv2.GaussianBlur(mask, (0, 0), 2.0), np.float32([[1, 0, 1.5], [0, 1, 2]]), (w, h))
    small_h, small_w = sheet.shading.shape
    to_sheet = np.diag([sheet.shape[1] / small_w, sheet.shape[0] / small_h, 1.0])
    shading = cv2.warpPerspective(
        sheet.shading, marks.shifted(homography, scale=scale) @ to_sheet, (w, h), borderMode=cv2.BORDER_REPLICATE
    )
    shading *= (1 + sheet.roughness * grain(rng, (h, w), 1.0)) * mask
    canvas *= ((1 - 0.3 * contact) * (1 - mask))[..., None]
    canvas += shading[..., None] * sheet.colour
    return mask


def _hold(canvas, cover, rng, quad, box, mm):
    """A thumb over the sheet's edge farthest from the digit, the hand off that edge."""
    middles = (quad + np.roll(quad, -1, axis=0)) / 2
    target = quad.mean(0) if box is None else box.mean(0)
    far = int(np.argmax(np.linalg.norm(middles - target, axis=1)))
    edge = middles[far] + (quad[(far + 1) % 4] - quad[far]) * rng.uniform(-0.3, 0.3)
    objects.thumb(canvas, cover, rng, mm, edge, quad.mean(0) - middles[far])


def _shadows(kind, rng, shape, target, mm, factors) -> np.ndarray:
    """The small shadow field of a frame-shadow (phone, hand) or frame-finger_shadow (fingertips) frame."""
    if kind == "frame-shadow":
        mask = lighting.hard_shadow(rng, shape, target)
        blur = float(rng.choice([rng.uniform(0, 1.5), rng.uniform(2, 12)]))
    elif kind == "frame-finger_shadow":
        mask = lighting.finger_shadow(rng, shape, target, rng.uniform(14, 20) * mm)
        blur = float(rng.uniform(1, 5) * mm)
    else:
        return np.zeros(shape, np.float32)
    depth = float(rng.uniform(0.3, 0.7))
    factors.update(shadow_depth=round(depth, 3), shadow_softness=round(blur / mm, 2))
    return lighting.soften(mask, blur) * depth


@dataclass
class Scene:
    """A lit scene: smooth parts drawn small, the sheet's marks at full size, and the factors so far."""

    small: np.ndarray
    marks: list[marks.Ink]
    size: tuple[int, int]
    factors: dict


def compose(digit, kind: str, rng: np.random.Generator, size: tuple[int, int]) -> Scene:
    """The upright lit scene of frame `kind` before the camera."""
    w, h = size
    streams = _streams(rng)
    scale = _work_scale(size)
    work = (int(h * scale), int(w * scale))
    names = surfaces.WITHOUT_SHEET if kind == "frame-nosheet" else surfaces.WITHOUT_SHEET + (surfaces.HELD,)
    background = str(streams["surface"].choice(names))
    factors = {"background": background, "coverage": 0.0}
    frame_mm = w / float(streams["surface"].uniform(250, 500))
    sheet, box, mask = None, None, np.zeros(work, np.float32)
    if kind != "frame-nosheet":
        sheet, homography, quad, frame_mm = _plan_sheet(digit, kind, streams, size, factors)
        if sheet.digit_box is not None:
            box = marks.to_frame(homography, np.reshape(sheet.digit_box, (2, 2)))
    canvas = surfaces.draw_surface(background, streams["surface"], work, frame_mm * scale)
    if sheet is not None:
        mask = _lay_paper(canvas, sheet, homography, quad, scale, streams["sheet"])
    target = np.array([w / 2, h / 2]) * scale if box is None else box.mean(0) * scale
    reach = 0.0 if box is None else float(np.linalg.norm(box[1] - box[0]) * scale / 2)

    def keep_clear(x, y, r):
        on_sheet = mask[int(np.clip(y, 0, work[0] - 1)), int(np.clip(x, 0, work[1] - 1))] > 0.5
        return not on_sheet and np.hypot(x - target[0], y - target[1]) > r + reach

    cover = np.zeros(work, np.float32)
    factors["objects"] = ",".join(objects.scatter(canvas, cover, streams["objects"], frame_mm * scale, keep_clear))
    if background == surfaces.HELD and sheet is not None:
        _hold(canvas, cover, streams["objects"], quad * scale, None if box is None else box * scale, frame_mm * scale)
    light, small, shrink = streams["light"], lighting.field_shape(work), lighting.FIELD_SCALE
    field, glare, light_factors = lighting.illumination(light, small)
    shadow = _shadows(kind, light, small, target * shrink, frame_mm * scale * shrink, factors)
    balance = str(light.choice(list(lighting.WHITE_BALANCE)))
    factors.update(light_factors, white_balance=balance)
    lit = lighting.light(canvas, field, shadow, glare, lighting.WHITE_BALANCE[balance])
    warped = [] if sheet is None else marks.warp_marks(sheet, homography, cover, size)
    return Scene(lit, warped, size, factors)


def photograph(scene: Scene, rng: np.random.Generator) -> bytes:
    """The phone's camera on a lit scene: focus, shake, noise, tone, sharpening and the JPEG."""
    w, h = scene.size
    scale = scene.small.shape[1] / w
    unit = w / 1200  # blur and shake lengths are chosen for a 1200-pixel-wide frame and scaled
    sigma = float(rng.choice([0.0, rng.uniform(0.3, 1.0), rng.uniform(1.0, 2.5)])) * unit
    motion = float(rng.uniform(2, 9)) * unit if rng.random() < 0.25 else 0.0
    angle = rng.uniform(0, np.pi)
    # The smooth scene is already soft from its enlargement; its blur is the rest of `sigma`.
    small = camera.optics(scene.small, np.sqrt(max(sigma**2 - 1, 0)) * scale, motion * scale, angle)
    small = camera.sensor_noise(small, rng, rng.uniform(0.004, 0.03))
    img = cv2.resize(camera.to_8bit(small, rng.uniform(0.85, 1.15)), (w, h), interpolation=cv2.INTER_LINEAR)
    for mark in scene.marks:
        marks.darken(img, camera.optics(mark.alpha, sigma, motion, angle), mark.corner, mark.colour)
    sharpened = rng.random() < 0.5
    if sharpened:
        img = camera.sharpen(img, rng.uniform(1.0, 2.5) * unit, rng.uniform(0.3, 1.2))
    quality = int(rng.integers(60, 96))
    orientation = int(rng.choice([1, 1, 6, 6, 3, 8]))
    scene.factors.update(
        blur=round(sigma, 3), motion=round(motion, 3), sharpened=int(sharpened), quality=quality, exif=orientation
    )
    return camera.encode_jpeg(img, quality, orientation)


def render_frame(digit, kind: str, rng: np.random.Generator, size: tuple[int, int]) -> tuple[bytes, dict]:
    """JPEG bytes of a phone photo of frame `kind` and the factors it was drawn with."""
    scene_rng = np.random.default_rng(int(rng.integers(0, 2**63)))
    camera_rng = np.random.default_rng(int(rng.integers(0, 2**63)))
    scene = compose(digit, kind, scene_rng, size)
    return photograph(scene, camera_rng), scene.factors
