"""Spark's Python daemon for local searches, started with a trial's modules already imported.

Hyperopt's SparkTrials runs each trial as a task that leaves its Python worker unusable (the task
never reads its input to the end), so Spark's daemon forks a new worker for every trial. Forked
from this daemon, a worker starts with MLflow, scikit-learn and TensorFlow loaded instead of
spending about 8 s importing them. TensorFlow's runtime is not started here: each worker still
sets its own thread limits before its first operation.
"""

import tensorflow  # noqa: F401
from pyspark import daemon

import mnist_mlops.jobs.tune  # noqa: F401

if __name__ == "__main__":
    daemon.manager()
