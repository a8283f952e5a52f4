"""The served model's LiteRT forward pass against Keras itself, for every architecture."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from mnist_mlops import models
from mnist_mlops.config import TrainConfig
from mnist_mlops.models.precision import in_float32
from mnist_mlops.serving.litert import CHUNK, lite_forward, to_litert


def network(name: str):
    """An untrained network as training hands one over: computing in float32 (it trains in bfloat16 where it can)."""
    family = models.family(name)
    return in_float32(family.build(family.hyperparameters(TrainConfig(arch=name, filters=(8, 16))), seed=0).estimator)


@pytest.mark.parametrize("arch", models.names("keras"))
def test_lite_forward_equals_keras_for_any_batch_size(arch, small_mnist):
    keras_network = network(arch)
    forward = lite_forward(to_litert(keras_network))
    for count in (1, 3, CHUNK + 7, 1):  # one image first: the interpreter's converted shape
        rows = small_mnist.test.x[:count]
        np.testing.assert_allclose(forward(rows), keras_network.predict(rows, verbose=0), atol=1e-6)


def test_lite_forward_serves_concurrent_callers(small_mnist):
    keras_network = network("cnn")
    forward = lite_forward(to_litert(keras_network))
    batches = [small_mnist.test.x[start : start + size] for start, size in enumerate([1, 40, 300, 2, 1, 90] * 4)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(forward, batches))
    for rows, answer in zip(batches, answers, strict=True):
        np.testing.assert_allclose(answer, keras_network.predict(rows, verbose=0), atol=1e-6)
