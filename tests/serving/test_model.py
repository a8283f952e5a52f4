"""The served model's LiteRT forward pass against Keras itself."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from mnist_mlops.models.networks import cnn, mlp
from mnist_mlops.serving.model import CHUNK, lite_forward

NETWORKS = {
    "cnn": lambda: cnn((8, 16), 3, "max", 32, "relu", 0.3, batch_norm=True, augment=True, seed=0),
    "mlp": lambda: mlp((64, 32), "relu", 0.2, batch_norm=True, augment=True, seed=0),
}


@pytest.mark.parametrize("arch", sorted(NETWORKS))
def test_lite_forward_equals_keras_for_any_batch_size(arch, small_mnist):
    network = NETWORKS[arch]()
    forward = lite_forward(network)
    for count in (1, 3, CHUNK + 7, 1):  # one image first: the interpreter's converted shape
        rows = small_mnist.test.x[:count]
        np.testing.assert_allclose(forward(rows), network.predict(rows, verbose=0), atol=1e-6)


def test_lite_forward_serves_concurrent_callers(small_mnist):
    network = NETWORKS["cnn"]()
    forward = lite_forward(network)
    batches = [small_mnist.test.x[start : start + size] for start, size in enumerate([1, 40, 300, 2, 1, 90] * 4)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(forward, batches))
    for rows, answer in zip(batches, answers, strict=True):
        np.testing.assert_allclose(answer, network.predict(rows, verbose=0), atol=1e-6)
