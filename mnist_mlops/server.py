"""`mnist-mlops server`: an MLflow tracking server with a SQLite store and served artifacts, and
with --auth MLflow's basic-auth app: users, passwords and per-experiment and per-model permissions."""

import importlib.util
import os
import secrets
import sys
from pathlib import Path

from mnist_mlops import processes
from mnist_mlops.config import ServerConfig
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.sqlite_store import sqlite_path, use_write_ahead_log

JOB_EXECUTION = "MLFLOW_SERVER_ENABLE_JOB_EXECUTION"  # MLflow reads it; true starts the job runner
MIN_PASSWORD = 12  # MLflow's basic-auth app refuses shorter passwords
AUTH_SETTINGS = """[mlflow]
default_permission = {default_permission}
database_uri = sqlite:///{database}
admin_username = admin
authorization_function = mlflow.server.auth:authenticate_request_basic_auth
auth_cache_ttl_seconds = {auth_cache_seconds}
"""


def server_command(config: ServerConfig) -> list[str]:
    """The `mlflow server` command line: artifacts served by the server (--serve-artifacts). It
    holds no secret: a command line is visible to every user of the machine (ps)."""
    passed = {"--allowed-hosts": config.allowed_hosts, "--cors-allowed-origins": config.cors_allowed_origins}
    return [
        sys.executable, "-m", "mlflow", "server",
        "--host", config.host, "--port", str(config.port),
        "--backend-store-uri", config.backend_store_uri,
        "--serve-artifacts", "--artifacts-destination", config.artifacts_destination,
        "--workers", "1",
        *(["--app-name", "basic-auth"] if config.auth else []),
        *(part for name, value in passed.items() if value for part in (name, value)),
    ]  # fmt: skip


def auth_folder(backend_store_uri: str) -> Path:
    """Where the permissions database goes: beside a SQLite store, else in the working folder."""
    path = sqlite_path(backend_store_uri)
    return Path(path).resolve().parent if path else Path.cwd()


def private_file(path: Path, make) -> str:
    """The text of a file only its owner may read, written from make() if it does not exist."""
    if not path.exists():
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
            file.write(make())
    return path.read_text().strip()


def password_from(password_file: str | None, option: str, envvar: str) -> str | None:
    """A password from a file (its option's name for errors), else from an environment variable, never
    from the command line."""
    if password_file is None:
        return os.environ.get(envvar) or None
    try:
        password = Path(password_file).read_text().strip()
    except OSError as error:
        raise MnistMlopsError(f"{option} {password_file}: {error.strerror}") from None
    if not password:
        raise MnistMlopsError(f"{option} {password_file}: the file is empty")
    return password


def auth_environment(config: ServerConfig) -> dict[str, str]:
    """The environment of the basic-auth app: its settings file, a secret key kept beside its
    database (sessions outlive a restart) and, for the first start, the admin's password."""
    if importlib.util.find_spec("flask_wtf") is None:
        raise MnistMlopsError("--auth needs MLflow's auth extra: pip install 'mlflow[auth]'")
    folder = auth_folder(config.backend_store_uri)
    database, settings = folder / "basic_auth.db", folder / "basic_auth.ini"
    password = password_from(config.admin_password_file, "--admin-password-file", "MLFLOW_AUTH_ADMIN_PASSWORD")
    if password and len(password) < MIN_PASSWORD:
        raise MnistMlopsError(f"--auth: the admin's password needs at least {MIN_PASSWORD} characters (MLflow's rule)")
    if not (password or database.exists()):
        raise MnistMlopsError(
            f"--auth: the first start creates the user admin in {database} and needs a password: "
            "set MLFLOW_AUTH_ADMIN_PASSWORD or pass --admin-password-file FILE"
        )
    folder.mkdir(parents=True, exist_ok=True)
    settings.write_text(
        AUTH_SETTINGS.format(
            default_permission=config.default_permission,
            database=database,
            auth_cache_seconds=config.auth_cache_seconds,
        )
    )
    secret = os.environ.get("MLFLOW_FLASK_SERVER_SECRET_KEY")
    environment = {
        "MLFLOW_AUTH_CONFIG_PATH": str(settings),
        "MLFLOW_FLASK_SERVER_SECRET_KEY": secret or private_file(folder / "basic_auth.secret", secrets.token_hex),
    }
    return {**environment, "MLFLOW_AUTH_ADMIN_PASSWORD": password} if password else environment


def check_database_driver(backend_store_uri: str) -> None:
    """Fail with the fix when a PostgreSQL store's driver is missing (psycopg, unless the URI names another)."""
    scheme = backend_store_uri.partition("://")[0]
    if not scheme.startswith("postgresql"):
        return
    driver = scheme.partition("+")[2] or "psycopg"
    if importlib.util.find_spec(driver) is None:
        fix = ": pip install -e '.[postgres]'" if driver == "psycopg" else ""
        raise MnistMlopsError(f"the backend store {scheme}:// needs the {driver} package{fix}")


def serve(config: ServerConfig, echo) -> int:
    """Start the server, wait until it answers, report its address, and stop it on Ctrl-C."""
    check_database_driver(config.backend_store_uri)
    # MLflow's job runner (huey consumers for its GenAI judges and optimisers) is not started unless
    # asked for: nothing here uses it, and it costs 8 processes, about 1 GB and 15 s of start-up.
    environment = {JOB_EXECUTION: "false", **os.environ, **(auth_environment(config) if config.auth else {})}
    if "://" not in config.artifacts_destination:  # a local folder; s3:// and the like exist already
        Path(config.artifacts_destination).mkdir(parents=True, exist_ok=True)
    use_write_ahead_log(config.backend_store_uri)
    # Its own process group: a terminal's Ctrl-C reaches only us, and we stop the server with SIGTERM
    # (uvicorn answers SIGINT with a traceback). SIGTERM and SIGHUP reach the finally below too.
    process = processes.start(server_command(config), env=environment)
    url = f"http://{config.host}:{config.port}"
    users = f"; users and permissions: {auth_folder(config.backend_store_uri) / 'basic_auth.db'}" if config.auth else ""
    try:
        processes.wait_until_answering(f"{url}/health", process, seconds=120)
        echo(f"MLflow tracking server and UI: {url}  (export MLFLOW_TRACKING_URI={url}{users}; Ctrl-C stops it)")
        return process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if process.poll() is None:
            processes.stop(process, seconds=20)
