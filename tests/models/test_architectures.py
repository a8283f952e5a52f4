"""Every architecture: its input contract, its size, and the layers the mlp and cnn options ask for."""

import keras
import numpy as np
import pytest
from keras import layers

from mnist_mlops import models
from mnist_mlops.config import TrainConfig
from mnist_mlops.models.architectures import cnn, mlp
from mnist_mlops.models.arithmetic import choose
from mnist_mlops.models.precision import in_float32
from mnist_mlops.serving.litert import lite_forward, to_litert

ARCHITECTURES = ("mlp", "cnn", "fast", "lenet5", "deep", "resnet")


def layer_types(model) -> list[str]:
    return [type(layer).__name__ for layer in model.layers]


@pytest.fixture(scope="module")
def pixels():
    return np.random.default_rng(0).random((6, 784), dtype=np.float32)


def test_the_zoo_is_registered():
    assert models.names("keras") == ARCHITECTURES


def built(name: str):
    """An architecture's classifier as `train --arch name` builds it, before training."""
    family = models.family(name)
    return family.build(family.hyperparameters(TrainConfig(arch=name)), seed=0)


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_each_takes_flat_rows_and_answers_probabilities(name, pixels):
    classifier = built(name)
    network = classifier.estimator
    assert network.input_shape == (None, 784) and network.output_shape == (None, 10)
    proba = network.predict(pixels, verbose=0)
    assert np.allclose(proba.sum(axis=1), 1, atol=1e-5)
    assert np.array_equal(proba, network.predict(pixels, verbose=0)), "inference must not augment or drop out"
    size = classifier.size()
    assert size["parameters"] == network.count_params() and size["mflops"] > 0.5


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_each_saves_loads_and_converts_to_litert_with_the_same_answers(name, pixels, tmp_path):
    """What logging (Keras' format) and serving (LiteRT) do to every architecture, in float32 as trained
    networks are; the train job's own round trip through MLflow is tested in tests/jobs/test_train.py."""
    network = in_float32(built(name).estimator)
    expected = network.predict(pixels, verbose=0)
    network.save(tmp_path / "network.keras")
    np.testing.assert_allclose(keras.models.load_model(tmp_path / "network.keras").predict(pixels, verbose=0),
                               expected, atol=1e-6)  # fmt: skip
    np.testing.assert_allclose(lite_forward(to_litert(network))(pixels), expected, atol=1e-5)


def test_flops_are_counted_by_hand_for_the_fast_network():
    size = built("fast").size()
    # conv 5x5x1x24 on 24x24, conv 3x3x24x32 on 10x10, dense 800x256, dense 256x10; 2 FLOPs a multiply-add
    by_hand = 2 * (25 * 24 * 24 * 24 + 9 * 24 * 32 * 10 * 10 + 800 * 256 + 256 * 10)
    assert size["mflops"] == pytest.approx(by_hand / 1e6)


def test_mlp_layers_follow_the_options():
    model = mlp((64, 32), "gelu", 0.2, batch_norm=True, seed=0)
    assert [layer.units for layer in model.layers if isinstance(layer, layers.Dense)] == [64, 32, 10]
    assert layer_types(model).count("BatchNormalization") == 2


def test_cnn_layers_follow_the_options():
    model = cnn((8, 16), 5, "avg", 24, "relu", 0.1, batch_norm=False, seed=0)
    convolutions = [layer for layer in model.layers if isinstance(layer, layers.Conv2D)]
    assert [c.filters for c in convolutions] == [8, 16] and convolutions[0].kernel_size == (5, 5)
    assert layer_types(model).count("AveragePooling2D") == 2 and "BatchNormalization" not in layer_types(model)
    assert [layer.units for layer in model.layers if isinstance(layer, layers.Dense)] == [24, 10]


def test_an_unset_training_field_takes_the_recipe_and_a_set_one_wins():
    family = models.family("fast")
    assert family.hyperparameters(TrainConfig(arch="fast"))["epochs"] == 2
    assert family.hyperparameters(TrainConfig(arch="fast", epochs=3, augment=True))["augment"] is True


@pytest.mark.parametrize("precision", [None, "auto"])
def test_precision_auto_becomes_the_arithmetic_the_network_trains_in(precision):
    """What a run logs is what it trains with: auto is what choose() picked for this CPU (measured
    once, then cached in the user's cache)."""
    expected = choose().precision
    family = models.family("fast")
    params = family.hyperparameters(TrainConfig(arch="fast", precision=precision))
    assert params["precision"] == expected == family.build(params, seed=0).params()["precision"]
    assert family.hyperparameters(TrainConfig(arch="fast", precision="float32"))["precision"] == "float32"
