"""How much darker than its paper each pixel of a photo is: the paper's brightness (shadow, gradient,
grey or coloured paper) estimated by a grey closing that fills in anything as narrow as a stroke, or a
bold blot of ink by its sharp outline, and divided out; faint ink stretched to full contrast above the
paper's noise; salt-and-pepper noise taken out."""

import cv2
import numpy as np

NOISY = 0.03  # a photo whose pixel-to-pixel noise has a larger standard deviation is smoothed...
SMOOTHING = 1 / 160  # ...by a Gaussian blur this share of its side wide, finer than any stroke
NOISE_SIGMAS = 4  # ink less than this many robust standard deviations of the paper's noise is paper
MIN_INK = 0.05  # the least ink contrast taken for ink on clean paper
FAINTEST = 0.12  # the faintest strokes read: a pencil line this much darker than its paper
MAX_SPECKS = 0.01  # share of lone ink pixels above which an image is salt-and-pepper noise, despeckled
PAPER_DISC = 1 / 7  # of a photo's longer side: a closing this wide fills in strokes, not shadows
BLOT_DISC = 1 / 3  # of a photo's longer side: a closing this wide fills in a digit's boldest blot too...
BLOT = 0.1  # ...where it is this much darker than the wide closing and its outline mostly sharp
SHARP = 0.04  # of the paper's brightness per pixel: an ink's edge falls faster (pencil 0.05+, shadows 0.03-)
NEIGHBOURS = np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1]], np.float32)
LINE_SIDE = 48  # pixels; a smaller image (MNIST's 28x28) has one paper level and holds no printed lines


def noise_of(gray: np.ndarray) -> float:
    """The standard deviation of a photo's pixel-to-pixel noise (a robust estimate, from its
    difference to its 3x3 median)."""
    return 1.4826 * float(np.median(np.abs(gray - cv2.medianBlur(gray, 3))[::2, ::2]))  # every 4th pixel will do


def smoothed(gray: np.ndarray) -> np.ndarray:
    """A grainy photo (pixel-to-pixel noise above NOISY) blurred finer than any stroke; others as they are."""
    if min(gray.shape) >= LINE_SIDE and noise_of(gray) > NOISY:
        return cv2.GaussianBlur(gray, (0, 0), SMOOTHING * max(gray.shape))
    return gray


def border_level(gray: np.ndarray) -> float:
    """The median brightness of the image's outermost pixels: the paper's, around a digit."""
    return float(np.median(np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])))


def dark_on_light(gray: np.ndarray) -> np.ndarray:
    """The image as ink darker than paper: a light digit on a dark ground (MNIST's own form) inverted."""
    return 1.0 - gray if border_level(gray) < 0.5 else gray


def ink_of(gray: np.ndarray) -> np.ndarray:
    """How much darker than its paper each pixel is, 0 to 1. A photo's paper brightness is the grey
    closing of the image (which fills in strokes narrower than the kernel), divided out; a small
    image (MNIST's size, too small for uneven light) has one paper level, its border's median."""
    if min(gray.shape) < LINE_SIDE:
        paper = border_level(gray)
    else:
        half = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)  # the paper varies slowly
        paper = cv2.resize(paper_of(half), gray.shape[::-1], interpolation=cv2.INTER_LINEAR)
    return np.clip(1 - gray / np.maximum(paper, 1e-3), 0, 1)


def closing(gray: np.ndarray, share: float) -> np.ndarray:
    """The grey closing of an image by a disc this share of its longer side wide."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (round(max(gray.shape) * share) | 1,) * 2)
    return cv2.morphologyEx(gray, cv2.MORPH_CLOSE, kernel)


def steepness_of(gray: np.ndarray) -> np.ndarray:
    """How fast the brightness falls at each pixel, as a share of the paper's per pixel at a 160-pixel scale."""
    steepness = np.hypot(cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3))
    return steepness * (max(gray.shape) / 160 / 8 / max(float(np.median(gray)), 1e-3))  # Sobel's 3x3 weighs 8


def paper_of(gray: np.ndarray) -> np.ndarray:
    """The paper's brightness under a photo: its closing by a disc wider than a stroke. A bold blot of
    ink wider still would be kept as paper; a disc as wide as a digit's part fills it in where the
    outline of what it fills is mostly an ink's sharp edge (a shadow's fades softly)."""
    paper, wide = closing(gray, PAPER_DISC), closing(gray, BLOT_DISC)
    darker = ((wide - paper) > BLOT * wide).astype(np.uint8)
    count, labels = cv2.connectedComponents(darker)
    around = cv2.dilate(labels.astype(np.uint16), np.ones((3, 3), np.uint8)).ravel()  # each with its rim
    outline = (around > 0) & (cv2.erode(darker, np.ones((3, 3), np.uint8)).ravel() == 0)
    sharp = (steepness_of(gray) >= SHARP).ravel()
    edges = np.bincount(around[outline], minlength=count)
    sharp_edges = np.bincount(around[outline], weights=sharp[outline], minlength=count)
    blots = (sharp_edges > 0.5 * np.maximum(edges, 1)) & (np.arange(count) > 0)
    return np.where(blots[around.reshape(gray.shape)], wide, paper)


def full_contrast(ink: np.ndarray) -> np.ndarray:
    """Ink stretched so strokes reach 1 and the paper's noise stays 0: pencil and ballpoint alike."""
    sample = ink[::2, ::2]  # every 4th pixel will do for the paper's level and noise
    paper = np.median(sample)
    noise = 1.4826 * np.median(np.abs(sample - paper))  # the paper's, were it normal
    floor = min(max(NOISE_SIGMAS * noise + paper, MIN_INK), 0.5)  # a bold digit may cover the median
    strokes = ink[ink > floor]
    if strokes.size == 0:
        return np.zeros_like(ink)
    level = np.percentile(strokes, 95)
    if level < FAINTEST:  # the paper's own grain and shading, stretched, would look like ink
        return np.zeros_like(ink)
    return np.clip((ink - floor) / (level - floor), 0, 1)


def despeckle(ink: np.ndarray) -> np.ndarray:
    """Salt-and-pepper noise removed by a 3x3 median, when more than MAX_SPECKS of the pixels are lone
    ink (no inked neighbour): clean strokes have none, and a median would thin them."""
    inked = (ink > 0.5).astype(np.float32)
    specks = (inked > 0) & (cv2.filter2D(inked, -1, NEIGHBOURS, borderType=cv2.BORDER_CONSTANT) == 0)
    if specks.mean() <= MAX_SPECKS:
        return ink
    smooth = cv2.medianBlur(ink.astype(np.float32), 3)
    return smooth if smooth.max() > 0.5 else ink  # the noise was all there was: leave it to the verdict
