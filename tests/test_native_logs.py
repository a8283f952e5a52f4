"""TensorFlow's start-up and tracing noise stays off the console."""

import logging

import numpy as np

from mnist_mlops.native_logs import import_tensorflow


def test_new_networks_predicting_once_each_log_no_retracing_warning(caplog):
    import_tensorflow()
    import keras

    with caplog.at_level(logging.WARNING):
        for _ in range(8):  # a search's trials: TensorFlow warns from the fifth new network on
            network = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
            network.predict(np.zeros((3, 4)), verbose=0)
    assert not [record for record in caplog.records if "retracing" in record.getMessage()]
