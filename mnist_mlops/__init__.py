"""mnist-mlops: MLflow-tracked experiments for handwritten-digit classification on MNIST."""

__version__ = "0.1.0"
