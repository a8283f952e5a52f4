"""Trials on Apache Spark through Hyperopt's SparkTrials: checks that say what is missing before a
search starts, a session that the search starts and stops, and trials held to their task's cores.

pyspark is an optional extra (`pip install -e '.[spark]'` in a clone), imported only here and only
when a search asks for Spark.
"""

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from mnist_mlops.errors import MnistMlopsError

INSTALL_PYSPARK = "pip install -e '.[spark]' in the mnist-mlops folder (docs/tuning.md, Spark)"
INSTALL_JAVA = "install a JDK (Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
MIN_JAVA = 17  # pyspark 4 runs on Java 17 or newer
CONNECT_SECONDS = 5
PACKAGE = Path(__file__).resolve().parents[1]  # mnist_mlops/, as its workers import it
PRELOAD = "MNIST_MLOPS_SPARK_PRELOAD"  # modules the local workers' daemon imports before forking


def master_url(parallelism: int, master: str | None) -> str:
    """The master a search runs on: the one given, else local[parallelism] (this machine)."""
    return master or f"local[{parallelism}]"


def on_this_machine(master: str) -> bool:
    """Whether Spark's workers run on this machine, where they can import this package as it is."""
    return master.startswith("local") or master.removeprefix("spark://").startswith(("127.0.0.1:", "localhost:"))


def check_spark(master: str) -> None:
    """Fail with what to install or fix when pyspark, Java or a standalone master is missing."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise MnistMlopsError(f"--backend spark needs pyspark: {INSTALL_PYSPARK}") from None
    check_java()
    if master.startswith("spark://"):
        check_reachable(master)


def java_command() -> str | None:
    """The java that pyspark will start: $JAVA_HOME/bin/java if JAVA_HOME is set, else java on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        java = Path(home) / "bin" / "java"
        return str(java) if java.is_file() else None
    return shutil.which("java")


def check_java() -> None:
    """Fail unless a Java that pyspark accepts is installed."""
    java = java_command()
    if java is None:
        raise MnistMlopsError(f"--backend spark needs Java {MIN_JAVA} or newer and found none: {INSTALL_JAVA}")
    banner = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30).stderr
    found = re.search(r'version "(\d+)', banner)
    if found is None or int(found.group(1)) < MIN_JAVA:
        raise MnistMlopsError(f"--backend spark needs Java {MIN_JAVA} or newer; {java} is {banner.splitlines()[:1]}")


def check_reachable(master: str) -> None:
    """Fail unless one of a standalone master's addresses (spark://h1:7077,h2:7077) accepts connections."""
    errors = []
    for address in master.removeprefix("spark://").split(","):
        host, _, port = address.rpartition(":")
        try:
            socket.create_connection((host, int(port)), timeout=CONNECT_SECONDS).close()
            return
        except (OSError, ValueError) as error:
            errors.append(f"{address}: {error}")
    raise MnistMlopsError(f"cannot reach the Spark master {master} ({'; '.join(errors)})")


@contextlib.contextmanager
def spark_session(master: str, app: str, preload: tuple[str, ...] = ()) -> Iterator:
    """Yield a Spark session on master whose workers run this package's code; stop it after. Local
    workers start with the modules in preload already imported."""
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(master)
        .appName(app)
        .config("spark.ui.enabled", "false")  # no web UI port to collide with other jobs
        .config("spark.ui.showConsoleProgress", "false")  # the jobs draw their own progress
    )
    if on_this_machine(master):  # local[N], or a standalone cluster on 127.0.0.1 (`mnist-mlops spark-cluster`)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # this interpreter, with this package
        builder = builder.config("spark.executorEnv.PYTHONPATH", str(PACKAGE.parent))
    if on_this_machine(master) and preload:  # a search's workers: TensorFlow and the trial's modules
        builder = builder.config(f"spark.executorEnv.{PRELOAD}", ",".join(preload)).config(
            "spark.python.daemon.module", "mnist_mlops.tuning.spark_daemon"
        )
    try:
        session = builder.getOrCreate()
    except Exception as error:
        raise MnistMlopsError(f"Spark did not start on {master}: {error}") from error
    session.sparkContext.setLogLevel("ERROR")
    try:
        with tempfile.TemporaryDirectory() as folder:
            # The workers run this very code, whether or not (and whichever version) they have installed.
            session.sparkContext.addPyFile(package_zip(Path(folder)))
            yield session
    finally:
        session.stop()


@contextlib.contextmanager
def spark_trials(parallelism: int, master: str, preload: tuple[str, ...] = ()) -> Iterator:
    """Yield SparkTrials that run up to `parallelism` trials at once on master; stop Spark after."""
    from hyperopt import SparkTrials

    with spark_session(master, "mnist-mlops tune", preload) as session:
        yield SparkTrials(parallelism=parallelism, spark_session=session)


def package_zip(folder: Path) -> str:
    """Zip this package into folder, for Spark to put on its workers' Python path; return the path."""
    return shutil.make_archive(str(folder / PACKAGE.name), "zip", root_dir=PACKAGE.parent, base_dir=PACKAGE.name)


def on_task_cores(objective: Callable[[dict], dict]) -> Callable[[dict], dict]:
    """Wrap a trial so that on a Spark executor it uses its task's cores (spark.task.cpus, 1 by
    default), not every core of a machine it shares with the other trials."""

    def limited(sample: dict) -> dict:
        from pyspark import TaskContext

        context = TaskContext.get()
        if context is not None:
            limit_threads(context.cpus())
        return objective(sample)

    return limited


def limit_threads(cores: int) -> None:
    """Hold scikit-learn's n_jobs=-1, BLAS/OpenMP and TensorFlow to `cores` threads in this process."""
    from threadpoolctl import threadpool_limits

    # joblib counts LOKY_MAX_CPU_COUNT for n_jobs=-1 at each fit; BLAS, OpenMP and TensorFlow read
    # theirs when they start: the libraries loaded later, and TensorFlow at its first operation.
    for name in ("LOKY_MAX_CPU_COUNT", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(cores)
    os.environ["TF_NUM_INTRAOP_THREADS"] = os.environ["TF_NUM_INTEROP_THREADS"] = str(cores)
    threadpool_limits(cores)  # the BLAS and OpenMP libraries already loaded
