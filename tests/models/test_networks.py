"""The Keras networks: input contract, layers the options ask for, inference without augmentation."""

import numpy as np
import pytest
from keras import layers

from mnist_mlops.models.networks import cnn, mlp


def layer_types(model) -> list[str]:
    return [type(layer).__name__ for layer in model.layers]


@pytest.fixture(scope="module")
def pixels():
    return np.random.default_rng(0).random((6, 784), dtype=np.float32)


@pytest.mark.parametrize("augment", [True, False])
def test_mlp_takes_flat_rows_and_returns_probabilities(pixels, augment):
    model = mlp((64, 32), "gelu", 0.2, batch_norm=True, augment=augment, seed=0)
    assert model.input_shape == (None, 784) and model.output_shape == (None, 10)
    dense = [layer.units for layer in model.layers if isinstance(layer, layers.Dense)]
    assert dense == [64, 32, 10]
    assert layer_types(model).count("BatchNormalization") == 2
    assert ("RandomRotation" in layer_types(model)) == augment
    proba = model.predict(pixels, verbose=0)
    assert np.allclose(proba.sum(axis=1), 1, atol=1e-5)
    assert np.array_equal(proba, model.predict(pixels, verbose=0)), "inference must not augment or drop out"


def test_cnn_layers_follow_the_options(pixels):
    model = cnn((8, 16), 5, "avg", 24, "relu", 0.1, batch_norm=False, augment=False, seed=0)
    convolutions = [layer for layer in model.layers if isinstance(layer, layers.Conv2D)]
    assert [c.filters for c in convolutions] == [8, 16] and convolutions[0].kernel_size == (5, 5)
    assert layer_types(model).count("AveragePooling2D") == 2 and "BatchNormalization" not in layer_types(model)
    assert [layer.units for layer in model.layers if isinstance(layer, layers.Dense)] == [24, 10]
    assert model.predict(pixels, verbose=0).shape == (6, 10)
