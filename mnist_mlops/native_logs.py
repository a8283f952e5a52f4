"""Quiet start-up of TensorFlow and LiteRT.

Their C++ libraries write INFO lines straight to the process's standard error: oneDNN, CPU
features, CUDA probing ("failed call to cuInit" on a machine without a GPU), SavedModel reading
during a LiteRT conversion, the XNNPACK delegate. Until absl's logging is initialised it writes
every level, and TensorFlow 2.21 no longer reads TF_CPP_MIN_LOG_LEVEL at that point, so no
setting reaches them. These windows point the two file descriptors at /dev/null around the few
calls that print; Python errors still raise, with their messages, once the window closes.

TensorFlow also warns, through Python logging, when recent calls of one traced function retraced it.
A search or an ensemble builds a network per trial or member, and each new network's predict
function is traced once, which TensorFlow counts as retracing of one function: that warning is dropped.
"""

import contextlib
import logging
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def native_output_silenced() -> Iterator[None]:
    """Send what native code writes to stdout and stderr to /dev/null for the block."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for descriptor in (*saved, null):
            os.close(descriptor)


def not_retracing(record: logging.LogRecord) -> bool:
    """A logging filter: False for TensorFlow's retracing warning, which each new network's first predict triggers."""
    return "triggered tf.function retracing" not in record.getMessage()


def import_tensorflow() -> None:
    """Import TensorFlow and Keras and let TensorFlow look for devices, without their start-up lines."""
    logging.getLogger("tensorflow").addFilter(not_retracing)  # once: a logger keeps one of each filter
    if "keras" in sys.modules and "tensorflow" in sys.modules:
        return
    with native_output_silenced():
        import keras  # noqa: F401
        import tensorflow as tf

        tf.config.list_physical_devices()  # the CUDA probe, on a machine without a GPU an error line
