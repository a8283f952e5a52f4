"""`mnist-mlops server` as a real process: its options, and how it stops on a signal."""

import glob
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mlflow
import psutil
import psycopg
import pytest
from click.testing import CliRunner

from mnist_mlops.cli import cli
from mnist_mlops.config import TuneConfig
from mnist_mlops.jobs.registry import version_table
from mnist_mlops.jobs.tune import run_search

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]


def start_server(servers, tmp_path: Path, store: str = "") -> tuple[subprocess.Popen, str, list[int]]:
    """The server with a store (default: a SQLite file in tmp_path/store) and an artifact folder of
    our choosing; return it, its URL and its process tree."""
    port = servers.free_port()
    command = [sys.executable, "-m", "mnist_mlops", "server", "--port", str(port),
               "--backend-store-uri", store or f"sqlite:///{tmp_path / 'store' / 'runs.db'}",
               "--artifacts-destination", str(tmp_path / "artifacts")]  # fmt: skip
    (tmp_path / "store").mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = servers.start(command, f"http://127.0.0.1:{port}/health", env, tmp_path)
    return process, f"http://127.0.0.1:{port}", servers.tree_of(process)


def log_a_run(url: str, tmp_path: Path) -> str:
    """Log a param, a metric and an artifact through the server; return the run id."""
    (tmp_path / "note.txt").write_text("kept")
    client = mlflow.MlflowClient(url)  # no global tracking URI: mlflow.set_tracking_uri() rewrites os.environ
    run_id = client.create_run(client.create_experiment("signals")).info.run_id
    client.log_param(run_id, "kind", "check")
    client.log_metric(run_id, "val_accuracy", 0.5)
    client.log_artifact(run_id, str(tmp_path / "note.txt"))
    client.set_terminated(run_id)
    return run_id


def test_ctrl_c_stops_the_server_cleanly_and_keeps_what_it_recorded(servers, tmp_path):
    process, url, tree = start_server(servers, tmp_path)
    # the command, `mlflow server` and uvicorn: no job runner (huey consumers), which nothing here uses
    assert len(tree) == 3 and not [pid for pid in tree if "huey" in " ".join(psutil.Process(pid).cmdline())]
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


def postgres_programs() -> Path:
    """The folder of PostgreSQL's server programs; skip the test if PostgreSQL is not installed."""
    found = shutil.which("initdb") or max(glob.glob("/usr/lib/postgresql/*/bin/initdb"), default=None)
    if found is None:
        pytest.skip("PostgreSQL is not installed (no initdb): `make test` installs Debian's postgresql")
    return Path(found).resolve().parent


@pytest.fixture
def postgres(servers):
    """A throwaway PostgreSQL cluster on a free port with an empty database; yield its URI."""
    programs = postgres_programs()
    folder = Path(tempfile.mkdtemp(prefix="mnist-postgres-"))  # not pytest's folder: 0700 and root's
    as_owner = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(folder, "postgres")
        as_owner = ["runuser", "-u", "postgres", "--"]
    port = str(servers.free_port())
    subprocess.run([*as_owner, programs / "initdb", "-D", folder / "data", "-U", "mlflow", "--auth=trust"],
                   check=True, capture_output=True)  # fmt: skip
    server = subprocess.Popen(
        [*as_owner, programs / "postgres", "-D", folder / "data", "-p", port, "-k", folder,
         "-c", "listen_addresses=127.0.0.1"],
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        address = ["-h", "127.0.0.1", "-p", port, "-U", "mlflow"]
        deadline = time.monotonic() + 60
        while subprocess.run([programs / "pg_isready", *address], capture_output=True).returncode != 0:
            assert server.poll() is None and time.monotonic() < deadline, "PostgreSQL did not start"
            time.sleep(0.3)
        subprocess.run([programs / "createdb", *address, "mnist"], check=True)
        yield f"postgresql://mlflow@127.0.0.1:{port}/mnist"
    finally:
        os.killpg(server.pid, signal.SIGINT)  # PostgreSQL's fast shutdown
        server.wait(timeout=60)
        shutil.rmtree(folder)


def test_a_postgresql_store_works_unchanged(servers, postgres, tmp_path, monkeypatch):
    process, url, _ = start_server(servers, tmp_path, store=postgres)
    run_id = log_a_run(url, tmp_path)
    previous = mlflow.get_tracking_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", url)  # the jobs read it, as on a user's machine
    try:
        search = run_search(TuneConfig(family="logreg", max_evals=1, limit=300, quiet=True, experiment="postgres"))
        table = version_table()
    finally:
        mlflow.set_tracking_uri(previous)
    assert table[["version", "aliases", "family"]].values.tolist() == [[1, "challenger,champion", "logreg"]]
    assert mlflow.MlflowClient(url).get_run(search.parent_run_id).info.status == "FINISHED"
    servers.stop(process)
    with psycopg.connect(postgres) as database:
        value = database.execute("SELECT value FROM metrics WHERE run_uuid = %s", (run_id,)).fetchone()[0]
        aliases = database.execute("SELECT alias FROM registered_model_aliases ORDER BY alias").fetchall()
    assert value == 0.5 and aliases == [("challenger",), ("champion",)]


def test_a_missing_postgresql_driver_is_a_clear_error():
    result = CliRunner().invoke(cli, ["server", "--backend-store-uri", "postgresql+nodriver://u@127.0.0.1/db"])
    assert result.exit_code == 1
    assert "the backend store postgresql+nodriver:// needs the nodriver package" in result.output
