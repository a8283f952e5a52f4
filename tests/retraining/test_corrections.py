"""Corrections as training images: the held-out split, their digits as the served model sees them, and
their weighted, augmented copies among MNIST's training images."""

import numpy as np
import pytest

from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.retraining.corrections import correction_digits, held_out_split, with_corrections
from mnist_mlops.serving.inputs import IMAGE_COLUMN, image_requests, images_to_rows
from mnist_mlops.tracking.feedback import Correction
from tests.conftest import photo_png


def numbered(count: int) -> list[Correction]:
    """count corrections, oldest first, with no image."""
    return [Correction(f"{index:03d}-is-7.png", b"", "7") for index in range(count)]


def test_the_most_recent_share_is_held_out():
    training, held_out = held_out_split(numbered(50), 0.2, 10)
    assert [c.name for c in held_out] == [f"{index:03d}-is-7.png" for index in range(40, 50)]
    assert [c.name for c in training] == [f"{index:03d}-is-7.png" for index in range(40)]


@pytest.mark.parametrize(
    ("count", "share", "least", "message"),
    [
        (0, 0.2, 10, "the feedback set holds no corrections: nothing to retrain from"),
        (45, 0.2, 10, "too few corrections to hold out: the newest 20% of the feedback set's 45 are 9, fewer than "
                      "--min-held-out 10"),
        (3, 0.9, 1, "too few corrections to hold out: holding out 3 leaves none of the feedback set's 3 to train on"),
    ],
)  # fmt: skip
def test_too_few_corrections_are_refused(count, share, least, message):
    with pytest.raises(MnistMlopsError, match="^" + message):
        held_out_split(numbered(count), share, least)


def test_digits_are_what_the_served_model_sees_and_mismatches_are_skipped(small_mnist):
    seven, two = (photo_png(small_mnist.test.images[index, ..., 0]) for index in (0, 1))  # a 7 and a 2
    blank = photo_png(np.zeros((28, 28), np.float32))
    found = [Correction("a-is-7.png", seven, "7"), Correction("b-is-2.png", two, "2"),
             Correction("c-is-42.png", seven, "42"), Correction("d-is-5.png", blank, "5")]  # fmt: skip
    x, y, skipped = correction_digits(found)
    assert y.tolist() == [7, 2] and skipped == ["c-is-42.png", "d-is-5.png"]
    seen = images_to_rows(list(image_requests([seven, two])[IMAGE_COLUMN])).pixels
    assert x.shape == (2, 784) and np.array_equal(x, seen)


def test_an_unreadable_image_is_refused_and_nothing_to_learn_from_too(small_mnist):
    seven = photo_png(small_mnist.test.images[0, ..., 0])
    with pytest.raises(MnistMlopsError, match="^the correction b-is-3.png cannot be read: the bytes are not an image"):
        correction_digits([Correction("a-is-7.png", seven, "7"), Correction("b-is-3.png", b"not a png", "3")])
    with pytest.raises(MnistMlopsError, match="none of the 1 corrections to train on has as many digits found"):
        correction_digits([Correction("a-is-77.png", seven, "77")])


def test_each_correction_is_among_the_training_images_copies_times_moved(small_mnist):
    x, y = small_mnist.test.x[:2], np.array([3, 8])
    data = with_corrections(small_mnist, x, y, copies=4, seed=5)
    before = len(small_mnist.train)
    assert len(data.train) == before + 8 and data.train.y[before:].tolist() == [3, 8, 3, 3, 3, 8, 8, 8]
    assert np.array_equal(data.train.x[:before], small_mnist.train.x) and np.array_equal(data.train.x[before:][:2], x)
    moved = data.train.x[before + 2 :]
    assert moved.dtype == np.float32 and not any(np.array_equal(copy, x[0]) for copy in moved[:3])
    ink = moved.sum(axis=1) / np.repeat(x.sum(axis=1), 3)  # a rotation, a zoom of at most 10% and a shift keep it
    assert np.all((ink > 0.7) & (ink < 1.3)), ink
    assert data.val is small_mnist.val and data.test is small_mnist.test and data.digest != small_mnist.digest
    again = with_corrections(small_mnist, x, y, copies=4, seed=5)
    assert np.array_equal(again.train.x, data.train.x)  # seeded
