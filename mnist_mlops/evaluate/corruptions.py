"""Corruptions of digit images in the spirit of MNIST-C (Mu and Gilmer, 2019): each takes (n, 28, 28)
pixels in [0, 1], a random generator and a severity from 1 to 5, and returns new pixels of the same
shape in [0, 1]. Geometric ones draw a strength per image between half and all of the severity's."""

from collections.abc import Callable

import numpy as np
from scipy import ndimage

SEVERITIES = (1, 2, 3, 4, 5)
CENTRE = 13.5  # of a 28-pixel side
LINE_LENGTH = 18  # pixels: the middle of the 20x20 box MNIST centres its digits in
MOTION_DIRECTIONS = 16  # a motion blur smears along one of these, evenly spread over 180 degrees


def pick(table: tuple, severity: int) -> float:
    """A corruption's strength at a severity."""
    return table[severity - 1]


def strengths(rng: np.random.Generator, n: int, most: float) -> np.ndarray:
    """Per image: a strength between most/2 and most, with a random sign."""
    return rng.uniform(most / 2, most, n) * rng.choice((-1.0, 1.0), n)


def affine(images: np.ndarray, matrices: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Per image i, the output pixel p takes the input at matrices[i] @ (p - centre) + centre - shifts[i]
    (bilinear, black outside): one vectorised resampling of the whole batch."""
    n = len(images)
    grid = np.stack(list(np.indices((28, 28))), axis=-1).reshape(-1, 2) - CENTRE  # (784, 2) as (row, column)
    source = np.einsum("nij,pj->npi", matrices, grid) + CENTRE - shifts[:, None, :]  # (n, 784, 2)
    plane = np.repeat(np.arange(n, dtype=np.float64), 784)
    coordinates = np.stack([plane, source[..., 0].ravel(), source[..., 1].ravel()])
    return ndimage.map_coordinates(images, coordinates, order=1, cval=0.0).reshape(images.shape)


def identity(n: int) -> np.ndarray:
    """n 2x2 identity matrices."""
    return np.repeat(np.eye(2)[None], n, axis=0)


def shot_noise(images, rng, severity):
    """Photon noise: each pixel a Poisson count at a light level that falls with severity."""
    light = pick((60, 25, 12, 5, 3), severity)
    return rng.poisson(images * light) / light


def impulse_noise(images, rng, severity):
    """Salt and pepper: a share of pixels turned white or black."""
    share = pick((0.03, 0.06, 0.09, 0.17, 0.27), severity)
    hit = rng.random(images.shape) < share
    return np.where(hit, rng.integers(0, 2, images.shape), images)


def gaussian_blur(images, rng, severity):
    """An out-of-focus camera: a Gaussian blur of growing width."""
    sigma = pick((0.6, 0.8, 1.0, 1.3, 1.6), severity)
    return ndimage.gaussian_filter(images, sigma=(0, sigma, sigma))


def line_kernel(length: int, angle: float) -> np.ndarray:
    """A normalised anti-aliased line of a length through the centre of a square kernel."""
    rows, columns = np.indices((length, length)) - (length - 1) / 2
    across = np.abs(rows * np.cos(angle) - columns * np.sin(angle))
    along = np.abs(rows * np.sin(angle) + columns * np.cos(angle))
    kernel = np.clip(1 - across, 0, 1) * (along <= (length - 1) / 2 + 0.5)
    return kernel / kernel.sum()


def motion_blur(images, rng, severity):
    """A moving camera: each image smeared along a line of 3-11 pixels in one of 16 directions."""
    length = pick((3, 5, 7, 9, 11), severity)
    direction = rng.integers(0, MOTION_DIRECTIONS, len(images))
    blurred = np.empty_like(images)
    for index in np.unique(direction):
        kernel = line_kernel(length, np.pi * index / MOTION_DIRECTIONS)
        chosen = direction == index
        blurred[chosen] = ndimage.convolve(images[chosen], kernel[None], mode="constant")
    return blurred


def rotate(images, rng, severity):
    """Rotation about the centre, by up to 10-50 degrees."""
    angle = np.radians(strengths(rng, len(images), pick((10, 20, 30, 40, 50), severity)))
    cos, sin = np.cos(angle), np.sin(angle)
    return affine(images, np.stack([np.stack([cos, -sin], 1), np.stack([sin, cos], 1)], 1), np.zeros((len(images), 2)))


def shear(images, rng, severity):
    """Horizontal shear: each row slides in proportion to its height."""
    factor = strengths(rng, len(images), pick((0.15, 0.3, 0.45, 0.6, 0.75), severity))
    matrices = identity(len(images))
    matrices[:, 1, 0] = factor
    return affine(images, matrices, np.zeros((len(images), 2)))


def scale(images, rng, severity):
    """Zoom about the centre, in or out at random, by up to 10-50%."""
    factor = 1 + np.abs(strengths(rng, len(images), pick((0.1, 0.2, 0.3, 0.4, 0.5), severity)))
    factor = np.where(rng.random(len(images)) < 0.5, factor, 1 / factor)
    return affine(images, identity(len(images)) / factor[:, None, None], np.zeros((len(images), 2)))


def translate(images, rng, severity):
    """A shift by 2-6 pixels in a random direction; ink shifted past the border is lost."""
    distance = pick((2, 3, 4, 5, 6), severity)
    angle = rng.uniform(0, 2 * np.pi, len(images))
    return affine(images, identity(len(images)), distance * np.stack([np.sin(angle), np.cos(angle)], axis=1))


def disk(radius: float) -> np.ndarray:
    """A round footprint for grey morphology."""
    side = int(np.ceil(radius))
    rows, columns = np.mgrid[-side : side + 1, -side : side + 1]
    return rows**2 + columns**2 <= radius**2


def thicken(images, rng, severity):
    """A broader pen: grey dilation with a disk of growing radius."""
    footprint = disk(pick((1, 1.5, 2, 2.3, 2.9), severity))
    return ndimage.grey_dilation(images, footprint=footprint[None])


def thin(images, rng, severity):
    """A finer pen: only the core of each stroke kept (pixels under a threshold dropped), eroded by a
    pixel more at the highest severity."""
    threshold = pick((0.3, 0.45, 0.6, 0.7, 0.75), severity)
    cores = np.clip((images - threshold) / (1 - threshold), 0, 1)
    return ndimage.grey_erosion(cores, footprint=np.ones((1, 1, 2), bool)) if severity == 5 else cores


def brightness_contrast(images, rng, severity):
    """Grey paper and faded ink: the background lifted, the range between ink and paper narrowed."""
    floor, span = pick((0.1, 0.2, 0.3, 0.35, 0.4), severity), pick((0.8, 0.6, 0.45, 0.35, 0.25), severity)
    return floor + span * images


def invert(images, rng, severity):
    """A dark digit on white paper, as people write (the same at every severity)."""
    return 1.0 - images


def line(images, rng, severity):
    """A stroke through the digit: a straight anti-aliased segment, 18 pixels long, across the middle
    of the frame where the digit is."""
    width = pick((1.0, 1.4, 1.8, 2.2, 2.6), severity)
    n = len(images)
    angle = rng.uniform(0, np.pi, n)[:, None, None]
    offset = rng.uniform(-3, 3, n)[:, None, None]
    rows, columns = np.indices((28, 28)) - CENTRE
    across = np.abs(rows * np.cos(angle) - columns * np.sin(angle) - offset)
    inside = np.abs(rows * np.sin(angle) + columns * np.cos(angle)) <= LINE_LENGTH / 2
    return np.maximum(images, np.clip(width / 2 + 0.5 - across, 0, 1) * inside)


Corruption = Callable[[np.ndarray, np.random.Generator, int], np.ndarray]
CORRUPTIONS: dict[str, Corruption] = {
    corruption.__name__: corruption
    for corruption in (shot_noise, impulse_noise, gaussian_blur, motion_blur, rotate, shear, scale, translate,
                       thicken, thin, brightness_contrast, invert, line)
}  # fmt: skip


def corrupt(name: str, images: np.ndarray, severity: int, seed: int) -> np.ndarray:
    """images (n, 28, 28) under one corruption: the same result for the same seed, whatever else ran."""
    rng = np.random.default_rng([seed, list(CORRUPTIONS).index(name)])
    corrupted = CORRUPTIONS[name](images.astype(np.float64), rng, severity)
    return np.clip(corrupted, 0, 1).astype(np.float32)
