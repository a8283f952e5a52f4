"""Spark's Python daemon for local searches, started with a trial's modules already imported.

Hyperopt's SparkTrials runs each trial as a task that leaves its Python worker unusable (the task
never reads its input to the end), so Spark's daemon forks a new worker for every trial. Forked
from this daemon, a worker starts with scikit-learn, TensorFlow, the search engine and the module
that records trials (named by the search in PRELOAD: MLflow's, for the tune job) loaded, instead
of spending about 8 s importing them. TensorFlow's runtime is not started here: each worker still
sets its own thread limits before its first operation.
"""

import importlib
import os

import tensorflow  # noqa: F401
from pyspark import daemon

import mnist_mlops.tuning.search  # noqa: F401
from mnist_mlops.tuning.spark import PRELOAD

if __name__ == "__main__":
    for module in filter(None, os.environ.get(PRELOAD, "").split(",")):
        importlib.import_module(module)
    daemon.manager()
