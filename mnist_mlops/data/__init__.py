"""MNIST data: IDX files, checksums, downloads and model-ready splits."""

from mnist_mlops.data.dataset import N_CLASSES, N_PIXELS, Mnist, Split, load_mnist

__all__ = ["N_CLASSES", "N_PIXELS", "Mnist", "Split", "load_mnist"]
