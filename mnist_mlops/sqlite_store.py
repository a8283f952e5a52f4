"""The embedded SQLite store's URIs: made absolute for other processes, opened in WAL mode.

Light on purpose (no MLflow import): `mnist-mlops server` uses it before it starts `mlflow server`.
"""

import contextlib
import sqlite3
from pathlib import Path

from mnist_mlops.errors import MnistMlopsError

PREFIX = "sqlite:///"


def absolute_uri(uri: str) -> str:
    """Make a relative SQLite URI absolute, so that a process with another working directory opens the same file."""
    path = uri.removeprefix(PREFIX)
    if uri.startswith(PREFIX) and not path.startswith("/"):
        return PREFIX + str(Path(path).resolve())
    return uri


def sqlite_path(uri: str) -> str | None:
    """The file of a SQLite store's URI; None for another store or an in-memory one."""
    path = uri.removeprefix(PREFIX).partition("?")[0]
    return path if uri.startswith(PREFIX) and path not in ("", ":memory:") else None


def use_write_ahead_log(uri: str) -> None:
    """Put a SQLite store in WAL mode, where a reader never blocks a writer.

    In SQLite's default mode an open read (the UI, a test polling, a query cut short by SIGTERM)
    blocks every write, and the run that should be marked FAILED fails with "database is locked".
    The mode is stored in the file, so every later process, `mlflow server` included, uses it.
    """
    path = sqlite_path(uri)
    if path is None:
        return
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with contextlib.closing(sqlite3.connect(path, timeout=20)) as database:
            database.execute("PRAGMA journal_mode=WAL")
    except (OSError, sqlite3.Error) as error:
        raise MnistMlopsError(f"cannot open the SQLite tracking store {uri}: {error}") from error
