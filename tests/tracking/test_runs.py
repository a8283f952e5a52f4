"""The tracking module's store handling, on a real SQLite file."""

import contextlib
import sqlite3

import mlflow
from mlflow import MlflowClient

from mnist_mlops import tracking


def test_an_open_read_does_not_keep_a_run_from_ending(tmp_path, monkeypatch):
    path = tmp_path / "store" / "mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{path}")
    tracking.use_tracking_uri()
    client = MlflowClient()
    run_id = client.create_run(experiment_id="0").info.run_id
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as reader:
        reader.execute("BEGIN")  # a read left open, like a query cut short by SIGTERM
        assert reader.execute("SELECT status FROM runs").fetchall() == [("RUNNING",)]
        client.set_terminated(run_id, "FAILED")  # in SQLite's default mode: "database is locked" after 20 s
        assert reader.execute("SELECT status FROM runs").fetchall() == [("RUNNING",)]  # its snapshot
    assert mlflow.get_run(run_id).info.status == "FAILED"
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone() == ("wal",)
