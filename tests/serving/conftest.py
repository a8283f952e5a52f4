"""Digits as people send them: real MNIST test digits rendered on paper, in colour, with an alpha
channel, with thicker and thinner pens, under camera noise, off-centre and as chalk on a board."""

import base64
import io

import numpy as np
import pytest
from PIL import Image, ImageFilter

N_RENDERED = 60  # test digits per way of rendering them


def paper(digit: np.ndarray, side: int = 140) -> Image.Image:
    """A 28x28 digit in [0, 1] enlarged to side x side, black ink on white paper."""
    ink = Image.fromarray((digit * 255).astype(np.uint8)).resize((side, side), Image.Resampling.LANCZOS)
    return Image.eval(ink, lambda value: 255 - value)


def coloured(digit):
    """Blue ballpoint on cream paper, in RGB."""
    ink = np.asarray(paper(digit), np.float32)[..., None] / 255
    pen, cream = np.array([30, 60, 200]), np.array([250, 240, 205])
    return Image.fromarray((ink * cream + (1 - ink) * pen).astype(np.uint8), "RGB")


def transparent(digit):
    """Black strokes on a transparent canvas, as drawing apps export them (RGBA, alpha = ink)."""
    alpha = Image.eval(paper(digit), lambda value: 255 - value)
    black = Image.new("L", alpha.size, 0)
    return Image.merge("RGBA", (black, black, black, alpha))


def thick(digit):
    """A felt-tip pen: the dark strokes widened by 4 pixels on each side."""
    return paper(digit).filter(ImageFilter.MinFilter(9))


def thin(digit):
    """A fine pen: the dark strokes narrowed by 2 pixels on each side."""
    return paper(digit).filter(ImageFilter.MaxFilter(5))


def noisy(digit):
    """A phone photo: grey, noisy paper (sd 20 levels), saved as JPEG."""
    rng = np.random.default_rng(int(digit.sum() * 1000))
    page = np.asarray(paper(digit), np.float32) * 0.8 + 30 + rng.normal(0, 20, (140, 140))
    return Image.fromarray(np.clip(page, 0, 255).astype(np.uint8))


def off_centre(digit):
    """A small digit in the upper-left corner of a large sheet."""
    sheet = Image.new("L", (320, 240), 255)
    sheet.paste(paper(digit, 64), (12, 20))
    return sheet


def chalk(digit):
    """White chalk on a dark green board: already a light digit on a dark background."""
    board = np.asarray(paper(digit), np.float32)[..., None] / 255
    green, white = np.array([25, 60, 40]), np.array([235, 235, 225])
    return Image.fromarray(((1 - board) * white + board * green).astype(np.uint8), "RGB")


RENDERINGS = {f.__name__: f for f in (paper, coloured, transparent, thick, thin, noisy, off_centre, chalk)}


def base64_of(image: Image.Image, image_format: str = "PNG") -> str:
    """An image as a client sends it: base64 PNG or JPEG."""
    stream = io.BytesIO()
    image.save(stream, format=image_format)
    return base64.b64encode(stream.getvalue()).decode()


@pytest.fixture(scope="session")
def rendered(small_mnist) -> tuple[dict[str, list[str]], np.ndarray]:
    """{rendering: base64 images} of the first N_RENDERED test digits, and their labels."""
    digits = small_mnist.test.x[:N_RENDERED].reshape(-1, 28, 28)
    encoded = {
        name: [base64_of(render(digit), "JPEG" if name == "noisy" else "PNG") for digit in digits]
        for name, render in RENDERINGS.items()
    }
    return encoded, small_mnist.test.y[:N_RENDERED]
