"""Preprocessing and the train/validation split."""

import numpy as np
import pytest

from mnist_mlops.data import load_mnist
from mnist_mlops.data.dataset import split_train_val, stratified_indices
from mnist_mlops.errors import MnistMlopsError


@pytest.fixture(scope="module")
def full():
    return load_mnist()


def test_full_split_sizes_dtypes_and_range(full):
    assert (len(full.train), len(full.val), len(full.test)) == (54000, 6000, 10000)
    for split in full.splits():
        assert split.x.dtype == np.float32 and split.x.shape[1] == 784
        assert split.x.min() == 0.0 and split.x.max() == 1.0
        assert split.images.shape == (len(split), 28, 28, 1)
        assert np.shares_memory(split.images, split.x)


def test_train_and_val_together_are_the_60000_training_images(full):
    counts = np.bincount(np.concatenate([full.train.y, full.val.y]))
    assert counts.tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def test_validation_is_stratified(full):
    train_share = np.bincount(full.train.y) / len(full.train)
    val_share = np.bincount(full.val.y) / len(full.val)
    assert np.abs(train_share - val_share).max() < 0.001


def test_split_is_disjoint_and_deterministic():
    labels = np.random.default_rng(0).integers(0, 10, 5000)
    train, val = split_train_val(labels, 0.1, seed=3)
    assert len(np.intersect1d(train, val)) == 0 and len(train) + len(val) == 5000
    again_train, again_val = split_train_val(labels, 0.1, seed=3)
    assert np.array_equal(train, again_train) and np.array_equal(val, again_val)
    _, other_val = split_train_val(labels, 0.1, seed=4)
    assert not np.array_equal(val, other_val)


def test_limit_takes_a_stratified_subset(small_mnist):
    assert (len(small_mnist.train), len(small_mnist.val), len(small_mnist.test)) == (900, 100, 10000)
    assert np.bincount(small_mnist.val.y).min() >= 9


def test_digest_depends_on_seed_and_limit(small_mnist):
    assert load_mnist(limit=1000, seed=7).digest == small_mnist.digest
    assert load_mnist(limit=1000, seed=8).digest != small_mnist.digest
    assert load_mnist(limit=1001, seed=7).digest != small_mnist.digest


def test_stratified_indices_keep_class_shares():
    labels = np.repeat(np.arange(10), [100, 200, 100, 100, 100, 100, 100, 100, 100, 100])
    chosen = stratified_indices(labels, 110, seed=0)
    assert np.bincount(labels[chosen]).tolist() == [10, 20, 10, 10, 10, 10, 10, 10, 10, 10]


@pytest.mark.parametrize("limit", [0, -5, 50])
def test_bad_limits_are_refused(limit):
    with pytest.raises(MnistMlopsError, match="limit"):
        load_mnist(limit=limit)
