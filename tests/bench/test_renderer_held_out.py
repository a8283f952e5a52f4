"""The held-out renderer of phone photos and scans: every kind renders, decodes upright, and repeats for a seed."""

import io

import numpy as np
import pytest
from PIL import Image, ImageOps

from bench.renderers.held_out import KINDS, _encode, render
from mnist_mlops.data import load_mnist

EMPTY = ("frame-empty", "frame-nosheet")


@pytest.fixture(scope="module")
def digit() -> np.ndarray:
    """A real MNIST digit, (28, 28) in 0-1."""
    return load_mnist().train.images[0, ..., 0]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_upright_and_repeats(kind, digit):
    given = None if kind in EMPTY else digit
    data, factors = render(given, kind, np.random.default_rng(7), size=(300, 400))
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    assert factors["kind"] == kind
    if kind.startswith("frame-"):
        assert image.size == (300, 400)
        assert Image.open(io.BytesIO(data)).format == "JPEG" and 60 <= factors["quality"] <= 95
        assert (factors["corners"] is None) == (kind == "frame-nosheet")
    else:
        assert all(90 <= side <= 410 for side in image.size)
        assert factors["corners"] is None
    if given is not None:  # the ink shows: the darkest pixels are well below the paper's
        grey = np.asarray(image.convert("L"), np.float32)
        assert np.percentile(grey, 1) < np.percentile(grey, 60) - 25
    assert render(given, kind, np.random.default_rng(7), size=(300, 400))[0] == data
    assert render(given, kind, np.random.default_rng(8), size=(300, 400))[0] != data


def test_exif_orientation_turns_the_stored_pixels_back_upright():
    upright = np.zeros((40, 30, 3), np.uint8)
    upright[:10, :10] = 255  # a white top-left corner shows which way is up
    for tag, stored_size in ((1, (30, 40)), (3, (30, 40)), (6, (40, 30)), (8, (40, 30))):
        stored = Image.open(io.BytesIO(_encode(upright, 95, tag)))
        assert (stored.size, stored.getexif()[0x0112]) == (stored_size, tag)
        shown = np.asarray(ImageOps.exif_transpose(stored).convert("L"), np.float32)
        assert shown.shape == (40, 30) and shown[:8, :8].mean() > 200 and shown[12:, 12:].mean() < 40


def test_bad_input_is_refused_by_name(digit):
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="unknown kind 'frame-moon'"):
        render(digit, "frame-moon", rng)
    with pytest.raises(ValueError, match="needs a digit"):
        render(None, "scan-plain", rng)
    with pytest.raises(ValueError, match="28x28"):
        render(np.zeros((28, 28), np.float32), "frame-plain", rng)
