"""What the 28x28 images a model saw look like, in three cheap numbers each: ink mass, stroke width and
size in frame (0 = paper, 255 = ink, as the inference log keeps them)."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SIDE = 28
FEATURES = ("ink", "stroke", "size")  # the columns features() makes
INK = 128  # a pixel at least this dark is ink, for the stroke's area and outline
TOUCHED = 32  # a pixel at least this dark counts for the digit's extent in the frame
CHUNK = 50_000  # images measured at a time: bounds the temporaries (about 40 MB)


def features(images: np.ndarray) -> np.ndarray:
    """Per (n, 28, 28) uint8 image: ink mass (the sum of its pixels as fractions of full ink), stroke width
    (2 x area / outline of its ink: a stroke of width w and length l has area wl and outline about 2l;
    NaN without ink) and size (the area of the box around every touched pixel, 0 when blank: MNIST and the
    serving image path both scale a digit's longer side to 20 pixels, so the area is its width's measure)."""
    found = [measured(images[start : start + CHUNK]) for start in range(0, len(images), CHUNK)]
    return np.concatenate(found) if found else np.zeros((0, len(FEATURES)), np.float32)


def measured(images: np.ndarray) -> np.ndarray:
    """features() of up to CHUNK images."""
    mass = images.sum(axis=(1, 2), dtype=np.float64) / 255
    ink = images >= INK
    area = ink.sum(axis=(1, 2))
    inside = (ink[:, :, 1:] != ink[:, :, :-1]).sum(axis=(1, 2)) + (ink[:, 1:, :] != ink[:, :-1, :]).sum(axis=(1, 2))
    border = ink[:, 0, :].sum(1) + ink[:, -1, :].sum(1) + ink[:, :, 0].sum(1) + ink[:, :, -1].sum(1)
    outline = inside + border
    stroke = np.divide(2.0 * area, outline, out=np.full(len(images), np.nan), where=outline > 0)
    touched = images >= TOUCHED
    size = extent(np.any(touched, axis=2)) * extent(np.any(touched, axis=1))
    return np.stack([mass, stroke, size], axis=1).astype(np.float32)


def extent(lines: np.ndarray) -> np.ndarray:
    """Per image, how many lines lie from its first touched line to its last (0 when none is touched)."""
    first, last = lines.argmax(axis=1), SIDE - 1 - lines[:, ::-1].argmax(axis=1)
    return np.where(lines.any(axis=1), last - first + 1, 0)


def seen_features(seen: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """features() of every 28x28 in the inference log's `seen` column (a list of them per record), in order."""
    flat = pc.list_flatten(seen)
    chunks = flat.chunks if isinstance(flat, pa.ChunkedArray) else [flat]
    found = [features(pixels(chunk)) for chunk in chunks if len(chunk)]
    return np.concatenate(found) if found else np.zeros((0, len(FEATURES)), np.float32)


def pixels(chunk: pa.Array) -> np.ndarray:
    """A binary array of 784-byte images as (n, 28, 28) uint8, without a copy."""
    offsets = np.frombuffer(chunk.buffers()[1], np.int32)[chunk.offset : chunk.offset + len(chunk) + 1]
    data = np.frombuffer(chunk.buffers()[2], np.uint8)[offsets[0] : offsets[-1]]
    return data.reshape(-1, SIDE, SIDE)
