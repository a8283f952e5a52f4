"""`mnist-mlops server` as a real process: its options, and how it stops on a signal."""

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import mlflow
import psutil
import pytest

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]


def start_server(servers, tmp_path: Path) -> tuple[subprocess.Popen, str, list[int]]:
    """The server with a store and an artifact folder of our choosing; return it, its URL and its process tree."""
    port = servers.free_port()
    command = [sys.executable, "-m", "mnist_mlops", "server", "--port", str(port),
               "--backend-store-uri", f"sqlite:///{tmp_path / 'store' / 'runs.db'}",
               "--artifacts-destination", str(tmp_path / "artifacts")]  # fmt: skip
    (tmp_path / "store").mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = servers.start(command, f"http://127.0.0.1:{port}/health", env, tmp_path)
    tree = [process.pid, *(child.pid for child in psutil.Process(process.pid).children(recursive=True))]
    return process, f"http://127.0.0.1:{port}", tree


def log_a_run(url: str, tmp_path: Path) -> str:
    """Log a param, a metric and an artifact through the server; return the run id."""
    (tmp_path / "note.txt").write_text("kept")
    mlflow.set_tracking_uri(url)
    try:
        with mlflow.start_run(experiment_id=mlflow.create_experiment("signals")) as run:
            mlflow.log_param("kind", "check")
            mlflow.log_metric("val_accuracy", 0.5)
            mlflow.log_artifact(str(tmp_path / "note.txt"))
    finally:
        mlflow.set_tracking_uri(None)
    return run.info.run_id


def test_ctrl_c_stops_the_server_cleanly_and_keeps_what_it_recorded(servers, tmp_path):
    process, url, tree = start_server(servers, tmp_path)
    run_id = log_a_run(url, tmp_path)
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole foreground group
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0 and "Traceback" not in stderr, stderr[-3000:]
    assert not servers.still_running(tree)
    with sqlite3.connect(tmp_path / "store" / "runs.db") as store:
        status, value = store.execute(
            "SELECT status, value FROM runs JOIN metrics USING (run_uuid) WHERE run_uuid = ?", (run_id,)
        ).fetchone()
    assert (status, value) == ("FINISHED", 0.5)
    assert [path.read_text() for path in (tmp_path / "artifacts").rglob("note.txt")] == ["kept"]


def test_sighup_to_the_command_stops_the_server_too(servers, tmp_path):
    process, _, tree = start_server(servers, tmp_path)
    os.kill(process.pid, signal.SIGHUP)  # a closed terminal, or a supervisor stopping only the command
    process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGHUP
    assert not servers.still_running(tree)
