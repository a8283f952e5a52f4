"""The third renderer: every kind decodes to a picture of the right size, reproducibly, with the digit on the sheet."""

import io

import numpy as np
import pytest
from PIL import Image, ImageOps

from bench.renderers.third import KINDS, render
from bench.renderers.third.camera import encode_jpeg
from bench.renderers.third.frames import render_frame
from mnist_mlops.data import load_mnist

SIZE = (1200, 1600)


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    """A few MNIST test digits as 28x28 floats, ink 1.0 on 0.0."""
    images = load_mnist().test.images[:10, ..., 0].astype(np.float32)
    assert images.min() >= 0 and 0.9 <= images.max() <= 1.0  # floats 0-1, as render expects
    return images


def _opened(data: bytes) -> Image.Image:
    """The picture as a reader shows it: decoded and turned upright by its EXIF orientation."""
    return ImageOps.exif_transpose(Image.open(io.BytesIO(data)))


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_decodes_to_a_picture_of_the_right_size(kind, digits):
    digit = None if kind in ("frame-empty", "frame-nosheet") else digits[KINDS.index(kind) % len(digits)]
    data, factors = render(digit, kind, np.random.default_rng(KINDS.index(kind)), SIZE)
    picture = _opened(data)
    picture.load()
    assert all(type(value) in (str, int, float) for value in factors.values())
    if kind.startswith("frame-"):
        assert data[:2] == b"\xff\xd8" and picture.size == SIZE
        assert Image.open(io.BytesIO(data)).getexif()[0x0112] == factors["exif"]
        assert 60 <= factors["quality"] <= 95
    else:
        assert min(picture.size) >= 100 and max(picture.size) <= 400


def test_a_large_frame_is_a_portrait_frame_of_that_size(digits):
    data, factors = render(digits[0], "frame-ruled", np.random.default_rng(3), (3000, 4000))
    assert _opened(data).size == (3000, 4000)
    assert 0.3 <= factors["coverage"] <= 0.95


@pytest.mark.parametrize("kind", ["frame-crumpled", "scan-lowres"])
def test_the_same_seed_gives_the_same_bytes(kind, digits):
    first = render(digits[1], kind, np.random.default_rng(7), SIZE)
    assert render(digits[1], kind, np.random.default_rng(7), SIZE) == first


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_the_orientation_tag_turns_the_stored_pixels_upright(orientation):
    upright = np.zeros((160, 120, 3), np.uint8)
    upright[:40, :30] = 255  # a bright top-left corner
    data = encode_jpeg(upright, 95, orientation)
    stored = Image.open(io.BytesIO(data))
    assert stored.size == ((120, 160) if orientation in (1, 3) else (160, 120))
    shown = np.asarray(_opened(data).convert("L"), np.float32)
    assert shown.shape == (160, 120) and shown[:40, :30].mean() > 200 and shown[40:, 30:].mean() < 20


@pytest.mark.parametrize(
    ("digit", "kind", "message"),
    [
        (np.zeros((28, 28)), "frame-unknown", "unknown kind"),
        (np.ones((28, 29)), "frame-plain", "28x28"),
        (np.ones((784,)), "scan-plain", "28x28"),
        (np.full((28, 28), 255.0), "frame-plain", "0-1"),
        (np.zeros((28, 28)), "frame-plain", "no ink"),
        (None, "frame-plain", "needs a digit"),
    ],
)
def test_bad_requests_raise_value_error(digit, kind, message):
    with pytest.raises(ValueError, match=message):
        render(digit, kind, np.random.default_rng(0), SIZE)


def test_the_digit_is_ink_on_the_sheet(digits):
    # The same seed with and without a digit: only the ink differs, and it is dark on bright paper.
    with_digit, factors = render_frame(digits[3], "frame-plain", np.random.default_rng(5), SIZE)
    without, other = render_frame(None, "frame-plain", np.random.default_rng(5), SIZE)
    assert factors["objects"] == other["objects"] and factors["background"] != "hand"
    a = np.asarray(_opened(with_digit).convert("L"), np.float32)
    b = np.asarray(_opened(without).convert("L"), np.float32)
    ink = (b - a) > 40
    assert ink.sum() > 50
    ys, xs = np.nonzero(ink)
    # One digit, a small part of the sheet: its ink fits in a box well inside the frame.
    assert np.ptp(ys) < 0.5 * SIZE[1] and np.ptp(xs) < 0.5 * SIZE[0]
    assert np.median(b[ink]) > np.median(b) - 20  # drawn where the picture is paper-bright, not on the table
    assert np.abs(a - b)[~ink].mean() < 2
