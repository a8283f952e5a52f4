"""The tuning renderer: every kind renders a decodable file of the stated size, the same for a seed."""

import io

import numpy as np
import pytest
from PIL import Image, ImageOps

from bench.renderers.tuning import KINDS, render

EMPTY = ("frame-empty", "frame-nosheet")
SIZE = (300, 400)  # a small phone frame keeps the test fast; the drawing scales with the frame


@pytest.fixture(scope="module")
def digit(small_mnist) -> np.ndarray:
    return small_mnist.test.images[0, ..., 0]


def rendered(kind: str, digit: np.ndarray, seed: int, size=SIZE) -> tuple[bytes, dict]:
    return render(None if kind in EMPTY else digit, kind, np.random.default_rng(seed), size)


@pytest.mark.parametrize("kind", KINDS)
def test_kind_renders_its_size_the_same_for_a_seed(kind, digit):
    data, factors = rendered(kind, digit, 3)
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    assert factors["kind"] == kind
    if kind.startswith("frame-"):
        assert data[:2] == b"\xff\xd8" and image.size == SIZE
        assert 60 <= factors["quality"] <= 95 and factors["exif"] in (1, 3, 6, 8)
        assert (factors["corners"] is None) == (kind == "frame-nosheet")
    else:
        assert image.size == tuple(factors["size"]) and 100 <= min(image.size) <= max(image.size) <= 400
    pixels = np.asarray(image.convert("L"), np.float32)
    assert pixels.std() > 3  # something was drawn, not a flat grey
    assert rendered(kind, digit, 3)[0] == data
    assert rendered(kind, digit, 4)[0] != data


def test_frames_store_every_exif_orientation_upright(digit):
    small, seen = (240, 320), set()
    for seed in range(30):
        data, factors = rendered("frame-plain", digit, seed, small)
        stored = Image.open(io.BytesIO(data))
        assert stored.getexif()[0x0112] == factors["exif"]
        assert stored.size == (small if factors["exif"] in (1, 3) else small[::-1])
        seen.add(factors["exif"])
    assert seen == {1, 3, 6, 8}


def test_the_digit_is_a_tenth_to_a_third_of_the_sheet_and_the_corners_go_clockwise(digit):
    for seed in range(5):
        factors = rendered("frame-ruled", digit, seed)[1]
        corners = np.array(factors["corners"])
        sides = np.linalg.norm(corners - np.roll(corners, -1, axis=0), axis=1)
        assert 0.05 < factors["digit_height"] / sides.min() < 0.45
        edges = np.roll(corners, -1, axis=0) - corners
        assert np.all(np.cross(edges, np.roll(edges, -1, axis=0)) > 0)  # clockwise with y pointing down
        assert corners[0].sum() == corners.sum(axis=1).min()  # the top-left corner first


@pytest.mark.parametrize("kind", EMPTY)
def test_empty_kinds_take_no_digit(kind, digit):
    assert rendered(kind, digit, 1)[1]["digit_height"] is None
    with pytest.raises(ValueError, match="takes no digit"):
        render(digit, kind, np.random.default_rng(0), SIZE)


def test_unknown_kinds_and_missing_digits_are_refused(digit):
    with pytest.raises(ValueError, match="unknown kind 'frame-moon'"):
        render(digit, "frame-moon", np.random.default_rng(0))
    with pytest.raises(ValueError, match="takes a \\(28, 28\\) digit"):
        render(None, "scan-plain", np.random.default_rng(0))
