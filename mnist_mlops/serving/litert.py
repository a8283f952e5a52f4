"""LiteRT (TensorFlow Lite) for served networks: a Keras network is converted once, when its
serving model is logged, and the flatbuffer runs without TensorFlow whenever the model is loaded."""

import os
import threading
from collections.abc import Callable

import numpy as np

from mnist_mlops.native_logs import import_tensorflow, native_output_silenced

CHUNK = 250  # rows per call of a network


def to_litert(network) -> bytes:
    """A Keras network as a LiteRT flatbuffer (the converter's SavedModel chatter kept off the console)."""
    import_tensorflow()
    import tensorflow as tf

    with native_output_silenced():
        return tf.lite.TFLiteConverter.from_keras_model(network).convert()


def lite_forward(flatbuffer: bytes) -> Callable[[np.ndarray], np.ndarray]:
    """A LiteRT network run on CHUNK rows at a time.

    LiteRT runs the whole network in its XNNPACK CPU kernels, with no per-call graph dispatch: for
    the default CNN on two cores, one image takes 0.2-0.4 ms (1.6 ms as a TensorFlow graph) and
    1,000 images 118-150 ms (204 ms); probabilities differ from Keras' by under 1e-7. Chunks keep
    the activations in cache. The interpreter is not thread-safe, so concurrent requests (the
    scoring server predicts in worker threads) take turns; it uses every core while it runs.
    """
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=flatbuffer, num_threads=len(os.sched_getaffinity(0)))
    with native_output_silenced():  # XNNPACK announces itself on the first allocation
        interpreter.allocate_tensors()  # for the converted input shape (1, 784); other shapes reallocate
    rows_in = interpreter.get_input_details()[0]["index"]
    probabilities_out = interpreter.get_output_details()[0]["index"]
    turn = threading.Lock()

    def forward(chunk: np.ndarray) -> np.ndarray:
        if tuple(interpreter.get_input_details()[0]["shape"]) != chunk.shape:
            interpreter.resize_tensor_input(rows_in, chunk.shape)
            interpreter.allocate_tensors()
        interpreter.set_tensor(rows_in, chunk)
        interpreter.invoke()
        return interpreter.get_tensor(probabilities_out)  # a copy: the next invoke overwrites its buffer

    def probabilities(rows: np.ndarray) -> np.ndarray:
        with turn:
            return np.concatenate([forward(rows[i : i + CHUNK]) for i in range(0, len(rows), CHUNK)])

    return probabilities
