"""mnist-mlops: MLflow-tracked experiments for handwritten-digit classification on MNIST."""

__version__ = "0.1.0"

import os

# TensorFlow's C++ start-up chatter (no CUDA here, oneDNN notes) says nothing a user can act on.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
