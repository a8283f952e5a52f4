"""Keras networks for MNIST. Both take flat 784-value rows of pixels in [0, 1] and reshape them
inside the model, so the logged model serves the same tabular rows the baselines do."""

import keras
from keras import layers

from mnist_mlops.config import TrainConfig
from mnist_mlops.data import N_CLASSES, N_PIXELS

POOLING = {"max": layers.MaxPooling2D, "avg": layers.AveragePooling2D}


def batch_norm_layer() -> layers.BatchNormalization:
    """Batch normalisation whose moving statistics settle within a few hundred steps (momentum 0.9,
    not Keras' 0.99), so short and small-data runs also evaluate with sensible statistics."""
    return layers.BatchNormalization(momentum=0.9)


def augmentation(seed: int) -> list[layers.Layer]:
    """Small random shifts (up to 10% of the side, ~3 px) and rotations (up to 10 degrees);
    Keras applies them in training only, so inference sees the images as they are."""
    return [
        layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed),
        layers.RandomRotation(10 / 360, fill_mode="constant", seed=seed),
    ]


def build_mlp(
    hidden: tuple[int, ...], activation: str, dropout: float, batch_norm: bool, augment: bool, seed: int
) -> keras.Model:
    """A multilayer perceptron: Dense blocks, each optionally batch-normalised, then dropout."""
    blocks = []
    for units in hidden:
        # Batch norm sits between the linear layer and its activation, so Dense needs no bias.
        blocks += [layers.Dense(units, use_bias=not batch_norm)]
        blocks += [batch_norm_layer()] if batch_norm else []
        blocks += [layers.Activation(activation), layers.Dropout(dropout, seed=seed)]
    return keras.Sequential(
        [
            keras.Input(shape=(N_PIXELS,), name="pixels"),
            *([layers.Reshape((28, 28, 1)), *augmentation(seed), layers.Flatten()] if augment else []),
            *blocks,
            layers.Dense(N_CLASSES, activation="softmax", name="digit_probabilities"),
        ],
        name="mlp",
    )


def conv_block(filters: int, kernel_size: int, activation: str, batch_norm: bool, pool: str) -> list[layers.Layer]:
    """One same-padded convolution, then pooling that halves the image side: on a 2-core CPU this
    costs a third of the time of the two-convolution blocks of VGG-style nets."""
    block = [layers.Conv2D(filters, kernel_size, padding="same", use_bias=not batch_norm)]
    block += [batch_norm_layer()] if batch_norm else []
    return [*block, layers.Activation(activation), POOLING[pool](pool_size=2)]


def build_cnn(
    filters: tuple[int, ...],
    kernel_size: int,
    pool: str,
    dense: int,
    activation: str,
    dropout: float,
    batch_norm: bool,
    augment: bool,
    seed: int,
) -> keras.Model:
    """A convolutional network: conv blocks, then a dense head with dropout."""
    blocks = [layer for units in filters for layer in conv_block(units, kernel_size, activation, batch_norm, pool)]
    return keras.Sequential(
        [
            keras.Input(shape=(N_PIXELS,), name="pixels"),
            layers.Reshape((28, 28, 1)),
            *(augmentation(seed) if augment else []),
            *blocks,
            layers.Flatten(),
            layers.Dropout(dropout, seed=seed),
            layers.Dense(dense, use_bias=not batch_norm),
            *([batch_norm_layer()] if batch_norm else []),
            layers.Activation(activation),
            layers.Dropout(dropout, seed=seed),
            layers.Dense(N_CLASSES, activation="softmax", name="digit_probabilities"),
        ],
        name="cnn",
    )


def build_network(config: TrainConfig):
    """Return the uncompiled network the config describes."""
    if config.arch == "mlp":
        return build_mlp(
            config.hidden, config.activation, config.dropout, config.batch_norm, config.augment, config.seed
        )
    return build_cnn(
        config.filters,
        config.kernel_size,
        config.pool,
        config.dense,
        config.activation,
        config.dropout,
        config.batch_norm,
        config.augment,
        config.seed,
    )
