"""Corruptions: deterministic for a seed, shape and range kept, the digit still there."""

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier

from mnist_mlops.evaluate.corruptions import CORRUPTIONS, SEVERITIES, corrupt
from mnist_mlops.evaluate.robustness import REFUSED, robustness_report
from mnist_mlops.serving.images import InputError, read_digits

# Corruptions that draw nothing at random: the same for every seed.
FIXED = {"gaussian_blur", "thicken", "thin", "brightness_contrast", "invert"}


@pytest.fixture(scope="module")
def digits(small_mnist) -> np.ndarray:
    return small_mnist.test.images[:200, ..., 0]


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_a_corruption_is_deterministic_for_a_seed_and_keeps_shape_and_range(name, digits):
    first, again = corrupt(name, digits, 3, seed=1), corrupt(name, digits, 3, seed=1)
    assert first.shape == digits.shape and first.dtype == np.float32
    assert first.min() >= 0 and first.max() <= 1
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, digits), "it changes the images"
    other_seed = corrupt(name, digits, 3, seed=2)
    assert np.array_equal(first, other_seed) == (name in FIXED)


@pytest.mark.parametrize("name", sorted(set(CORRUPTIONS) - {"invert"}))
def test_a_higher_severity_changes_the_images_more(name, digits):
    change = [np.abs(corrupt(name, digits, severity, seed=1) - digits).mean() for severity in SEVERITIES]
    assert change[0] < change[2] < change[4]


def served_form_knn(small_mnist):
    """A 1-nearest-neighbour model over the training images, fed images as the serving path forms them."""
    model = KNeighborsClassifier(1).fit(small_mnist.train.x, small_mnist.train.y)

    def digits_of(images: np.ndarray) -> np.ndarray:
        rows, answered = [], []
        for image in images:
            try:
                found = read_digits(image)
            except InputError:
                found = []
            answered.append(len(found) == 1)
            rows.extend(digit.pixels.ravel() for digit in found[:1] if answered[-1])
        digits = np.full(len(images), REFUSED)
        digits[np.array(answered)] = model.predict(np.array(rows))
        return digits

    return digits_of


def test_the_digit_survives_every_mild_corruption(small_mnist):
    """At severity 1 a plain nearest-neighbour model, trained on 900 clean images, still reads most
    digits: the corruptions keep the label."""
    test = small_mnist.test
    report = robustness_report(served_form_knn(small_mnist), test.images[:300, ..., 0], test.y[:300], 1, seed=3)
    accuracies = {key: value for key, value in report.metrics.items() if key.endswith("_accuracy")}
    assert len(accuracies) == len(CORRUPTIONS) + 2  # each corruption, clean and the mean
    assert accuracies["robust_clean_accuracy"] > 0.8
    assert min(accuracies.values()) > 0.5, accuracies


def test_a_model_perfect_on_clean_images_is_not_perfect_under_corruption(small_mnist):
    """The report can fail a model: one that remembers the clean test images scores 1.0 on them."""
    test = small_mnist.test
    images, labels = test.images[:300, ..., 0], test.y[:300]
    memory = KNeighborsClassifier(1).fit(images.reshape(300, -1), labels)
    report = robustness_report(lambda batch: memory.predict(batch.reshape(len(batch), -1)), images, labels, 3, 0)
    table = report.tables["robustness.csv"]
    assert report.metrics["robust_clean_accuracy"] == 1.0
    assert report.metrics["robust_mean_accuracy"] < 0.9
    assert table.loc["invert", "accuracy"] < 0.5
    assert report.metrics["robust_mean_accuracy"] == pytest.approx(table.drop(index="clean")["accuracy"].mean())
    assert set(report.figures) == {"robustness_accuracy.png", "robustness_examples.png"}
