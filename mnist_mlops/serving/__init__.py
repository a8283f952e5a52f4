"""Serving: turning any accepted request into MNIST pixel rows, and the registered pyfunc model."""
