"""The arithmetic a network trains in. On a CPU with bfloat16 instructions (Intel AMX or
AVX512-BF16), Keras' mixed_bfloat16 policy computes the layers in bfloat16 and keeps the weights in
float32, to the same accuracy; whether it is faster depends on the CPU, so `auto` takes the faster
of the two as measured on this CPU model (models/arithmetic.py). A trained network is copied into
float32 before it is evaluated, logged or served, so every later stage sees one full-precision model.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import keras

from mnist_mlops.models.recipe import resolve


@contextmanager
def computing_in(precision: str) -> Iterator[str]:
    """Layers built inside compute in the resolved precision, which it yields; the global
    policy is restored after."""
    resolved, previous = resolve(precision), keras.config.dtype_policy()
    keras.config.set_dtype_policy(resolved)
    try:
        yield resolved
    finally:
        keras.config.set_dtype_policy(previous)


def in_float32(network: keras.Model) -> keras.Model:
    """The same network with the same weights, every layer computing in float32."""
    if all(layer.dtype_policy.name == "float32" for layer in network.layers):
        return network

    def float32_layer(layer: keras.layers.Layer) -> keras.layers.Layer:
        return layer.__class__.from_config({**layer.get_config(), "dtype": "float32"})

    copy = keras.models.clone_model(network, clone_function=float32_layer)
    copy.set_weights(network.get_weights())
    return copy
