"""A writer's style that an MNIST-trained model misreads: continental 1s (a long flag down to the left)
and 7s (a bar across the stem), every digit in a thick marker. MNIST digits are redrawn so, and both
styles are sent as a client sends a crop: a 28x28 PNG, dark ink on white paper."""

import cv2
import numpy as np

SCALE = 4  # drawn at 112x112, so the added strokes and the marker are smooth when brought back to 28x28
SIDE = 28
MARKER = 2  # the marker's extra width, pixels at 28x28 (MNIST's strokes are 2-3 wide)


def png(gray: np.ndarray) -> bytes:
    """A 28x28 digit in [0, 1] (1 = ink) as PNG bytes, dark ink on white."""
    return cv2.imencode(".png", np.round(255 - gray * 255).astype(np.uint8))[1].tobytes()


def continental(gray: np.ndarray, label: int, marker: int = MARKER) -> np.ndarray:
    """A 28x28 MNIST digit in [0, 1] as the writer draws it: a 1 with a long flag, a 7 with a bar, and
    every stroke `marker` pixels wider."""
    side = SIDE * SCALE
    ink = (cv2.resize(gray.astype(np.float32), (side, side), interpolation=cv2.INTER_LINEAR) > 0.4).astype(np.uint8)
    ys, xs = np.nonzero(ink)
    top, height = ys.min(), ys.max() - ys.min() + 1
    width = max(2, round(0.09 * height))  # the added strokes are as wide as the digit's own
    if label == 1:  # from the top of the stem, a third of the height down and to the left
        x = xs[ys <= top + 2].mean()
        cv2.line(ink, (round(x), int(top)), (round(x - 0.38 * height), round(top + 0.35 * height)), 1, width)
    elif label == 7:  # across the stem a little below half height
        at = round(top + 0.55 * height)
        near = xs[np.abs(ys - at) <= 2]
        x = near.mean() if len(near) else xs.mean()
        half = 0.22 * height
        cv2.line(ink, (round(x - half), at), (round(x + half), at), 1, width)
    if marker:
        ink = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (marker * SCALE, marker * SCALE)))
    return cv2.resize(ink.astype(np.float32), (SIDE, SIDE), interpolation=cv2.INTER_AREA)


def styled_pngs(images: np.ndarray, labels: np.ndarray) -> list[bytes]:
    """MNIST digits, (n, 28, 28[, 1]) in [0, 1], redrawn in the continental style, as PNGs."""
    return [
        png(continental(image.reshape(SIDE, SIDE), int(label))) for image, label in zip(images, labels, strict=True)
    ]


def mnist_pngs(images: np.ndarray) -> list[bytes]:
    """MNIST digits as they are, as PNGs."""
    return [png(image.reshape(SIDE, SIDE)) for image in images]
