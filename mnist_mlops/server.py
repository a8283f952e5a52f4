"""`mnist-mlops server`: an MLflow tracking server with a SQLite store and served artifacts."""

import importlib.util
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.sqlite_store import use_write_ahead_log


def server_command(host: str, port: int, backend_store_uri: str, artifacts_destination: str) -> list[str]:
    """The `mlflow server` command line: artifacts served by the server (--serve-artifacts)."""
    return [
        sys.executable, "-m", "mlflow", "server",
        "--host", host, "--port", str(port),
        "--backend-store-uri", backend_store_uri,
        "--serve-artifacts", "--artifacts-destination", artifacts_destination,
        "--workers", "1",
    ]  # fmt: skip


def check_database_driver(backend_store_uri: str) -> None:
    """Fail with the fix when a PostgreSQL store's driver is missing (psycopg, unless the URI names another)."""
    scheme = backend_store_uri.partition("://")[0]
    if not scheme.startswith("postgresql"):
        return
    driver = scheme.partition("+")[2] or "psycopg"
    if importlib.util.find_spec(driver) is None:
        fix = ": pip install 'mnist-mlops[postgres]'" if driver == "psycopg" else ""
        raise MnistMlopsError(f"the backend store {scheme}:// needs the {driver} package{fix}")


def wait_until_answering(url: str, process: subprocess.Popen, seconds: float) -> None:
    """Poll url until it answers 200; fail if the process ends or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise MnistMlopsError(f"the server exited with code {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    raise MnistMlopsError(f"{url} did not answer within {seconds:.0f} s")


def serve(host: str, port: int, backend_store_uri: str, artifacts_destination: str, echo) -> int:
    """Start the server, wait until it answers, report its address, and stop it on Ctrl-C."""
    if "://" not in artifacts_destination:  # a local folder; s3:// and the like exist already
        Path(artifacts_destination).mkdir(parents=True, exist_ok=True)
    check_database_driver(backend_store_uri)
    use_write_ahead_log(backend_store_uri)
    # Its own process group: a terminal's Ctrl-C reaches only us, and we stop the server with SIGTERM
    # (uvicorn answers SIGINT with a traceback). SIGTERM and SIGHUP reach the finally below too.
    process = subprocess.Popen(server_command(host, port, backend_store_uri, artifacts_destination), process_group=0)
    url = f"http://{host}:{port}"
    try:
        wait_until_answering(f"{url}/health", process, seconds=120)
        echo(f"MLflow tracking server and UI: {url}  (export MLFLOW_TRACKING_URI={url}; Ctrl-C stops it)")
        return process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
