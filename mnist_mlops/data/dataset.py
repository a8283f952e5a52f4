"""MNIST as model-ready arrays: scaled pixels, a seeded stratified train/validation split."""

import functools
import hashlib
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

import mnist_mlops.data.files as files
from mnist_mlops.data.idx import IMAGE_SIDE, read_images, read_labels
from mnist_mlops.errors import MnistMlopsError

N_PIXELS = IMAGE_SIDE * IMAGE_SIDE
N_CLASSES = 10


@dataclass(frozen=True)
class Split:
    """One split: flat float32 pixels in [0, 1] and integer labels."""

    name: str  # train, val or test
    x: np.ndarray  # (n, 784) float32
    y: np.ndarray  # (n,) int64

    @cached_property
    def digest(self) -> str:
        """A short SHA-256 of its pixels and labels, computed once (every logged model's metrics name it)."""
        return digest_of(self.x, self.y)

    @property
    def images(self) -> np.ndarray:
        """The same pixels as (n, 28, 28, 1) images, without a copy."""
        return self.x.reshape(-1, IMAGE_SIDE, IMAGE_SIDE, 1)

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class Mnist:
    """The three splits a job works with, and where they came from."""

    train: Split
    val: Split
    test: Split
    source: str  # the data directory
    digest: str  # SHA-256 over every split's pixels and labels, shortened

    def splits(self) -> tuple[Split, Split, Split]:
        """Return train, validation and test, in that order."""
        return self.train, self.val, self.test


def scale(images: np.ndarray) -> np.ndarray:
    """Flatten uint8 images to (n, 784) float32 pixels in [0, 1]."""
    return images.reshape(len(images), N_PIXELS).astype(np.float32) / np.float32(255)


def read_pair(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read an images file and its labels file, checking that their counts agree; once per process
    while both files keep their size and time. The arrays are read-only: every job shares them."""
    return read_keyed_pair(files.file_key(images_path), files.file_key(labels_path))


@functools.lru_cache(maxsize=4)
def read_keyed_pair(
    images_key: tuple[str, int, int], labels_key: tuple[str, int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """read_pair of the files two file_key()s name."""
    images_path, labels_path = Path(images_key[0]), Path(labels_key[0])
    images, labels = read_images(images_path), read_labels(labels_path)
    images.flags.writeable = labels.flags.writeable = False
    if len(images) != len(labels):
        raise MnistMlopsError(
            f"{images_path.name} holds {len(images)} images but {labels_path.name} {len(labels)} labels"
        )
    return images, labels


def read_raw(data_dir: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return train images, train labels, test images and test labels as read from disk."""
    paths = files.ensure_files(data_dir)
    train = read_pair(paths[files.TRAIN_IMAGES], paths[files.TRAIN_LABELS])
    test = read_pair(paths[files.TEST_IMAGES], paths[files.TEST_LABELS])
    return *train, *test


def stratified_split(labels: np.ndarray, seed: int, **size) -> tuple[np.ndarray, np.ndarray]:
    """Split the indices of labels in two, stratified and seeded; size is train_size= or test_size=.
    scikit-learn loads here, not on import, so the command line and the model registry start fast."""
    from sklearn.model_selection import train_test_split

    first, second = train_test_split(np.arange(len(labels)), stratify=labels, random_state=seed, **size)
    return np.sort(first), np.sort(second)


def stratified_indices(labels: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Return the sorted indices of a stratified sample of `size` labels."""
    if size >= len(labels):
        return np.arange(len(labels))
    return stratified_split(labels, seed, train_size=size)[0]


def split_train_val(labels: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return disjoint, sorted, stratified train and validation indices into labels."""
    n_val = math.ceil(len(labels) * val_fraction)
    if min(n_val, len(labels) - n_val) < N_CLASSES:
        raise MnistMlopsError(
            f"{len(labels)} training images leave {n_val} for validation and {len(labels) - n_val} "
            f"for training; each split needs at least one image per digit: use a larger --limit"
        )
    return stratified_split(labels, seed, test_size=val_fraction)


def digest_of(*arrays: np.ndarray) -> str:
    """Return a short SHA-256 that changes when any byte or shape of the arrays changes."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(str(array.shape).encode())
        digest.update(np.ascontiguousarray(array).data)
    return digest.hexdigest()[:16]


def load_mnist(
    data_dir: str | Path | None = None, val_fraction: float = 0.1, limit: int | None = None, seed: int = 42
) -> Mnist:
    """Load MNIST: stratified train/validation split of the 60,000, optional subset, full test set."""
    if not 0 < val_fraction < 1:
        raise MnistMlopsError(f"val_fraction must be between 0 and 1, got {val_fraction}")
    if limit is not None and limit < 1:
        raise MnistMlopsError(f"--limit must be a positive number of images, got {limit}")
    source = files.resolve_data_dir(data_dir)
    train_images, train_labels, test_images, test_labels = read_raw(source)
    pool = stratified_indices(train_labels, limit, seed) if limit else np.arange(len(train_labels))
    train_idx, val_idx = split_train_val(train_labels[pool], val_fraction, seed)
    x, y = scale(train_images[pool]), train_labels[pool].astype(np.int64)
    train = Split("train", x[train_idx], y[train_idx])
    val = Split("val", x[val_idx], y[val_idx])
    test = Split("test", scale(test_images), test_labels.astype(np.int64))
    digest = digest_of(train.x, train.y, val.x, val.y, test.x, test.y)
    return Mnist(train, val, test, str(source), digest)
