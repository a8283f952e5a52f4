"""IDX parsing against the real files and against each kind of corrupt file."""

import gzip

import numpy as np
import pytest

from mnist_mlops.data.dataset import read_pair
from mnist_mlops.data.idx import read_images, read_labels
from mnist_mlops.errors import MnistMlopsError


def test_reads_real_files_gzipped(offline_data):
    images = read_images(offline_data / "t10k-images-idx3-ubyte.gz")
    labels = read_labels(offline_data / "t10k-labels-idx1-ubyte.gz")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and set(np.unique(labels)) == set(range(10))


def test_training_label_counts(offline_data):
    labels = read_labels(offline_data / "train-labels-idx1-ubyte.gz")
    assert np.bincount(labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def test_reads_uncompressed_file_the_same(offline_data, tmp_path):
    raw = gzip.decompress((offline_data / "train-images-idx3-ubyte.gz").read_bytes())
    assert len(raw) == 47_040_016
    (tmp_path / "train-images-idx3-ubyte").write_bytes(raw)
    plain = read_images(tmp_path / "train-images-idx3-ubyte")
    assert np.array_equal(plain, read_images(offline_data / "train-images-idx3-ubyte.gz"))


@pytest.fixture
def label_bytes(offline_data) -> bytes:
    return gzip.decompress((offline_data / "t10k-labels-idx1-ubyte.gz").read_bytes())


def test_truncated_file_names_file_and_problem(label_bytes, tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte"
    path.write_bytes(label_bytes[:-100])
    with pytest.raises(MnistMlopsError, match=r"t10k-labels-idx1-ubyte: 9908 bytes, expected 10008.*truncated"):
        read_labels(path)


def test_truncated_header(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(b"\x00\x00\x08")
    with pytest.raises(MnistMlopsError, match="labels: truncated header"):
        read_labels(path)


def test_wrong_magic_number(label_bytes, tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte"
    path.write_bytes((2051).to_bytes(4, "big") + label_bytes[4:])
    with pytest.raises(MnistMlopsError, match="wrong magic number 2051, expected 2049"):
        read_labels(path)


def test_images_read_as_labels_is_rejected(offline_data):
    with pytest.raises(MnistMlopsError, match="t10k-images-idx3-ubyte.gz: wrong magic number 2051"):
        read_labels(offline_data / "t10k-images-idx3-ubyte.gz")


def test_corrupt_gzip_stream(offline_data, tmp_path):
    damaged = bytearray((offline_data / "t10k-labels-idx1-ubyte.gz").read_bytes())
    damaged[100:140] = b"\xff" * 40
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(bytes(damaged))
    with pytest.raises(MnistMlopsError, match="t10k-labels-idx1-ubyte.gz: corrupt gzip stream"):
        read_labels(path)


def test_truncated_gzip_stream(offline_data, tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes((offline_data / "t10k-labels-idx1-ubyte.gz").read_bytes()[:2000])
    with pytest.raises(MnistMlopsError, match="corrupt gzip stream"):
        read_labels(path)


def test_image_and_label_counts_must_agree(offline_data, label_bytes, tmp_path):
    fewer = (9000).to_bytes(4, "big")
    labels = tmp_path / "t10k-labels-idx1-ubyte"
    labels.write_bytes(label_bytes[:4] + fewer + label_bytes[8 : 8 + 9000])
    with pytest.raises(MnistMlopsError, match="holds 10000 images but t10k-labels-idx1-ubyte 9000 labels"):
        read_pair(offline_data / "t10k-images-idx3-ubyte.gz", labels)
