"""What the images look like: ink mass, stroke width and size in frame of drawn strokes and MNIST digits,
and the same numbers read from the inference log's `seen` column."""

import cv2
import numpy as np
import pyarrow as pa
import pytest

from mnist_mlops.monitoring.images import features, seen_features


def bar(width: int, length: int = 20) -> np.ndarray:
    """A 28x28 image of one horizontal stroke of full ink."""
    image = np.zeros((28, 28), np.uint8)
    image[10 : 10 + width, 4 : 4 + length] = 255
    return image


def test_a_strokes_ink_width_and_box_are_measured():
    thin, thick, blank = features(np.stack([bar(1), bar(3), np.zeros((28, 28), np.uint8)]))
    assert thin[0] == 20 and thick[0] == 60  # ink mass: full-ink pixels
    assert thin[1] == pytest.approx(2 * 20 / 42) and thick[1] == pytest.approx(2 * 60 / 46)  # 2 area / outline
    assert thin[2] == 20 and thick[2] == 60  # the box: 20 x 1 and 20 x 3
    assert blank[0] == 0 and np.isnan(blank[1]) and blank[2] == 0


def test_marker_strokes_on_mnist_digits_are_thicker_and_inkier(small_mnist):
    digits = np.round(small_mnist.val.x * 255).astype(np.uint8).reshape(-1, 28, 28)
    thick = np.stack([cv2.dilate(digit, np.ones((3, 3), np.uint8)) for digit in digits])
    plain, marker = features(digits), features(thick)
    assert 1.5 < np.nanmedian(plain[:, 1]) < 2.5 and np.nanmedian(marker[:, 1]) > np.nanmedian(plain[:, 1]) + 1
    assert (marker[:, 0] > plain[:, 0]).all() and (marker[:, 2] >= plain[:, 2]).all()


def test_the_logs_seen_column_is_measured_image_by_image():
    images = np.stack([bar(1), bar(2), bar(3)])
    column = pa.chunked_array([pa.array([[images[0].tobytes(), images[1].tobytes()], None, [images[2].tobytes()]],
                                        pa.list_(pa.binary()))])  # fmt: skip
    assert np.array_equal(seen_features(column), features(images))
    assert np.array_equal(seen_features(column[1:]), features(images[2:]))  # a slice: its offset is kept
