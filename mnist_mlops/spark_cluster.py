"""A standalone Spark cluster on this machine: a master and its workers as separate processes,
started with pyspark's own launch classes (`spark-class ...Master`, `...Worker`), for `tune` and
`score --backend spark --spark-master spark://127.0.0.1:PORT`. `mnist-mlops spark-cluster` runs one
until Ctrl-C; the tests start one as a fixture.
"""

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import requests

from mnist_mlops import processes
from mnist_mlops.errors import MnistMlopsError

HOST = "127.0.0.1"
START_SECONDS = 120  # a JVM's start on a busy 2-core machine


@dataclass(frozen=True)
class Cluster:
    """A running cluster: its master URL, its web UI and its processes (the master first)."""

    master: str
    ui: str
    processes: list[subprocess.Popen]


def spark_class(name: str, *arguments: str, log: Path, env: dict) -> subprocess.Popen:
    """Start one of Spark's launch classes (org.apache.spark.deploy.*) from pyspark's own install."""
    import pyspark

    home = Path(pyspark.__file__).parent
    command = [str(home / "bin" / "spark-class"), f"org.apache.spark.deploy.{name}", *arguments]
    with log.open("w") as output:  # the process keeps its own copy of the descriptor
        return processes.start(command, env={**env, "SPARK_HOME": str(home)}, stdout=output, stderr=output)


def alive_workers(ui: str) -> int:
    """The workers the master lists as alive (its web UI's JSON), 0 while it does not answer."""
    try:
        return int(requests.get(f"{ui}/json/", timeout=5).json().get("aliveworkers", 0))
    except (requests.RequestException, ValueError):
        return 0


def wait_for(cluster: Cluster, workers: int, logs: Path) -> None:
    """Wait until every worker has registered with the master; a clear error with the logs if not."""
    deadline = time.monotonic() + START_SECONDS
    while alive_workers(cluster.ui) < workers:
        ended = [cast(list[str], process.args)[1] for process in cluster.processes if process.poll() is not None]
        if ended or time.monotonic() > deadline:
            said = "\n".join(f"{log.name}: {log.read_text()[-800:]}" for log in sorted(logs.glob("*.log")))
            why = f"{', '.join(ended)} exited" if ended else f"not all {workers} workers joined in {START_SECONDS} s"
            raise MnistMlopsError(f"the Spark cluster did not start: {why}\n{said}")
        time.sleep(0.5)


@contextlib.contextmanager
def spark_cluster(workers: int = 2, cores: int = 1, memory: str = "2g", folder: Path | None = None) -> Iterator:
    """Run a master and `workers` workers of `cores` task slots each on 127.0.0.1; stop them after.
    Their executors run this interpreter (PYSPARK_PYTHON); logs and work files go to folder."""
    with tempfile.TemporaryDirectory() as temporary:
        logs = Path(folder or temporary)
        env = {**os.environ, "PYSPARK_PYTHON": os.environ.get("PYSPARK_PYTHON", sys.executable),
               "SPARK_LOG_DIR": str(logs), "SPARK_LOCAL_IP": HOST}  # fmt: skip
        port, ui_port = processes.free_port(), processes.free_port()
        master = spark_class("master.Master", "--host", HOST, "--port", str(port), "--webui-port", str(ui_port),
                             log=logs / "master.log", env=env)  # fmt: skip
        cluster = Cluster(f"spark://{HOST}:{port}", f"http://{HOST}:{ui_port}", [master])
        try:
            for number in range(1, workers + 1):
                work = logs / f"worker-{number}"
                work.mkdir(exist_ok=True)
                arguments = ("--host", HOST, "--cores", str(cores), "--memory", memory, "--webui-port",
                             str(processes.free_port()), "--work-dir", str(work), cluster.master)  # fmt: skip
                cluster.processes.append(spark_class("worker.Worker", *arguments, log=work / "worker.log", env=env))
            wait_for(cluster, workers, logs)
            yield cluster
        finally:
            processes.stop(*cluster.processes)
