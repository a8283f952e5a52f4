"""The Spark backend's checks and thread limits (searches on Spark are in tests/jobs/test_tune.py)."""

import subprocess
import sys

import pytest

from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.tuning import spark


def test_the_default_master_is_this_machine_with_one_slot_per_trial():
    assert spark.master_url(3, None) == "local[3]"
    assert spark.master_url(3, "spark://head:7077") == "spark://head:7077"


def test_missing_pyspark_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspark", None)  # what `import pyspark` sees when it is not installed
    with pytest.raises(MnistMlopsError, match=r"needs pyspark: pip install -e '\.\[spark\]' in the mnist-mlops folder"):
        spark.check_spark("local[2]")


def test_an_old_java_is_refused(monkeypatch, tmp_path):
    java = tmp_path / "bin" / "java"
    java.parent.mkdir()
    java.write_text("#!/bin/sh\necho 'openjdk version \"11.0.2\" 2019-01-15' >&2\n")
    java.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(MnistMlopsError, match=r"needs Java 17 or newer; .* is \['openjdk version \"11"):
        spark.check_spark("local[2]")


def test_an_unreachable_standalone_master_is_refused_at_once():
    # Nothing listens on the discard port of the loopback address.
    with pytest.raises(MnistMlopsError, match=r"cannot reach the Spark master spark://127.0.0.1:9,127.0.0.1:9 "):
        spark.check_spark("spark://127.0.0.1:9,127.0.0.1:9")


def test_limit_threads_holds_blas_joblib_and_tensorflow_to_the_task_cores():
    # As in a Spark worker: the libraries are imported before the trial limits its threads.
    program = """
import time
import joblib, numpy, tensorflow as tf
from threadpoolctl import threadpool_info
from mnist_mlops.tuning.spark import limit_threads

limit_threads(1)
blas = max(pool["num_threads"] for pool in threadpool_info())
matrix = tf.random.uniform((600, 600))
wall, cpu = time.perf_counter(), time.process_time()
for _ in range(100):
    matrix = tf.linalg.matmul(matrix, matrix) / 600.0
cores_used = (time.process_time() - cpu) / (time.perf_counter() - wall)
print(joblib.cpu_count(), blas, round(cores_used, 2))
"""
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    jobs, blas, cores_used = result.stdout.split()
    assert (jobs, blas) == ("1", "1")
    assert float(cores_used) < 1.3  # one busy thread (about 1.9 without the limit on two cores)
