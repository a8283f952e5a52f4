"""The training loop's parts: the batch pipeline and its augmentation, the one-cycle schedule, the
stop at a target validation accuracy, and repeatability."""

import numpy as np
import pytest

from mnist_mlops import models
from mnist_mlops.config import TrainConfig
from mnist_mlops.models.batches import augment, batches
from mnist_mlops.models.keras_classifier import learning_rate


def test_one_cycle_rises_then_falls_to_near_zero():
    schedule = learning_rate(0.01, "onecycle", total_steps=400)
    rates = [float(schedule(step)) for step in range(0, 401, 20)]
    peak = int(np.argmax(rates))
    assert rates[0] == pytest.approx(0.01 / 25) and rates[peak] == pytest.approx(0.01, rel=0.05)
    assert 80 <= peak * 20 <= 120  # the first quarter
    assert all(np.diff(rates[: peak + 1]) > 0) and all(np.diff(rates[peak:]) <= 0)
    assert rates[-1] < 0.01 * 1e-3


def test_augmentation_keeps_shapes_and_labels_and_moves_the_ink(small_mnist):
    x, y = small_mnist.train.x[:500], small_mnist.train.y[:500]
    epoch = list(batches(x, y, 128, seed=1, train=True, augmented=True, smoothing=False))
    images = np.concatenate([batch[0].numpy() for batch in epoch])
    labels = np.concatenate([batch[1].numpy() for batch in epoch])
    assert images.shape == x.shape and sorted(labels) == sorted(y)
    assert images.min() >= 0 and images.max() <= 1 + 1e-6
    moved = augment(x[:64], np.array([3, 4], np.int64)).numpy()
    assert moved.shape == (64, 784) and not np.allclose(moved, x[:64])
    assert moved.sum() == pytest.approx(x[:64].sum(), rel=0.15)  # ink is moved, not lost


def test_validation_batches_are_the_images_as_they_are(small_mnist):
    x, y = small_mnist.val.x, small_mnist.val.y
    epoch = list(batches(x, y, 1024, seed=1, train=False, augmented=False, smoothing=True))
    np.testing.assert_array_equal(np.concatenate([batch[0].numpy() for batch in epoch]), x)
    np.testing.assert_array_equal(np.concatenate([batch[1].numpy() for batch in epoch]).argmax(axis=1), y)


def test_epochs_differ_and_a_seed_repeats_them(small_mnist):
    x, y = small_mnist.train.x[:300], small_mnist.train.y[:300]
    data = batches(x, y, 300, seed=5, train=True, augmented=True, smoothing=False)
    first, second = (next(iter(data))[0].numpy() for _ in range(2))
    again = next(iter(batches(x, y, 300, seed=5, train=True, augmented=True, smoothing=False)))[0].numpy()
    assert not np.allclose(first, second) and np.array_equal(first, again)


def test_batches_are_not_autotuned_so_a_new_epoch_does_not_wait_for_the_last_ones_autotuner(small_mnist):
    x, y = small_mnist.train.x[:300], small_mnist.train.y[:300]
    for train in (True, False):
        data = batches(x, y, 100, seed=1, train=train, augmented=train, smoothing=False)
        assert data.options().autotune.enabled is False


def test_training_stops_at_the_target_validation_accuracy(small_mnist):
    family = models.family("fast")
    params = family.hyperparameters(TrainConfig(arch="fast", epochs=8, target_accuracy=0.6, quiet=True))
    epochs = family.build(params, seed=0).fit(small_mnist.train, small_mnist.val, lambda epoch, logs: None)
    reached = epochs.history["val_accuracy"]
    assert len(reached) < 8 and reached[-1] >= 0.6 and all(value < 0.6 for value in reached[:-1])
