"""`mnist-mlops server --auth`: a real basic-auth tracking server on 127.0.0.1, real users, the
project's commands run as them, and the refusals they meet."""

import os
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import psutil
import pytest
import requests
from PIL import Image

from mnist_mlops.config import ServerConfig
from mnist_mlops.server import server_command

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
ADMIN = ("admin", "admin-first-password-7d1c")
READER = ("reader", "reader-password-0b5e")
EDITOR = ("editor", "editor-password-93fa")
EXPERIMENT = "team"
API = "/api/2.0/mlflow"


def call(url: str, login: tuple[str, str] | None, endpoint: str, body: dict | None = None) -> requests.Response:
    """One REST call to the server, as a user or anonymously (a GET without a body)."""
    if body is None:
        return requests.get(f"{url}{API}/{endpoint}", auth=login, timeout=30)
    return requests.post(f"{url}{API}/{endpoint}", json=body, auth=login, timeout=30)


def grant(url: str, kind: str, key: str, user: str, permission: str) -> None:
    """As the admin, give a user a permission on an experiment or a registered model."""
    body = {"username": user, "resource_type": kind, "resource_id": key, "permission": permission}
    response = requests.post(f"{url}/api/3.0/mlflow/users/permissions/grant", json=body, auth=ADMIN, timeout=30)
    assert response.status_code == 200, response.text


def as_user(url: str, login: tuple[str, str]) -> dict:
    """The environment of a command run by a user of the server."""
    user, password = login
    return {**os.environ, "PYTHONPATH": str(REPO), "MLFLOW_TRACKING_URI": url,
            "MLFLOW_TRACKING_USERNAME": user, "MLFLOW_TRACKING_PASSWORD": password}  # fmt: skip


def mnist_mlops(url: str, login: tuple[str, str], *args: str) -> subprocess.CompletedProcess:
    """Run a project command as a user; return what it did."""
    command = [sys.executable, "-m", "mnist_mlops", *args]
    return subprocess.run(command, env=as_user(url, login), capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory, servers):
    """The server with --auth, its admin from $MLFLOW_AUTH_ADMIN_PASSWORD, a reader and an editor of
    the experiment 'team'; yield its URL, folder and process."""
    folder = tmp_path_factory.mktemp("auth")
    port = servers.free_port()
    command = [sys.executable, "-m", "mnist_mlops", "server", "--auth", "--port", str(port),
               "--backend-store-uri", f"sqlite:///{folder / 'store' / 'mlflow.db'}",
               "--artifacts-destination", str(folder / "artifacts")]  # fmt: skip
    (folder / "store").mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO), "MLFLOW_AUTH_ADMIN_PASSWORD": ADMIN[1]}
    process = servers.start(command, f"http://127.0.0.1:{port}/health", env, folder)
    url = f"http://127.0.0.1:{port}"
    try:
        for user, password in (READER, EDITOR):
            assert call(url, ADMIN, "users/create", {"username": user, "password": password}).status_code == 200
        experiment_id = call(url, ADMIN, "experiments/create", {"name": EXPERIMENT}).json()["experiment_id"]
        grant(url, "experiment", experiment_id, READER[0], "READ")
        grant(url, "experiment", experiment_id, EDITOR[0], "EDIT")
        yield url, folder, process
    finally:  # a failing set-up leaves no server behind either
        servers.stop(process)


@pytest.fixture(scope="module")
def editor_work(auth_server):
    """As the editor: a network trained and registered (which creates mnist-digits, so the editor
    manages it), a 2-trial search on Spark, whose workers log the nested trials with the editor's
    login, that registers its best, and the champion's robustness report on the whole test set (as
    rows, its corruptions only: quick), which tags its version; then the reader may read the registered
    model."""
    url, _, _ = auth_server
    data = ["--limit", "1000", "--experiment", EXPERIMENT]
    on_spark = ["--backend", "spark", "--study", "on-spark"]
    done = [
        mnist_mlops(url, EDITOR, "train", "--arch", "fast", "--epochs", "1", "--register", "--quiet", *data),
        mnist_mlops(url, EDITOR, "tune", "--family", "logreg", "--max-evals", "2", *on_spark, "--quiet", *data),
        mnist_mlops(
            url, EDITOR, "robustness", "--input-format", "rows", "--suite", "corruptions", "--experiment", EXPERIMENT
        ),
    ]
    grant(url, "registered_model", "mnist-digits", READER[0], "READ")
    return done


def runs_of(url: str) -> "pd.DataFrame":  # noqa: F821
    """Every run of the experiment, read by the admin."""
    previous = mlflow.get_tracking_uri()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_USERNAME", ADMIN[0])
        patch.setenv("MLFLOW_TRACKING_PASSWORD", ADMIN[1])
        mlflow.set_tracking_uri(url)
        try:
            return mlflow.search_runs(experiment_names=[EXPERIMENT])
        finally:
            mlflow.set_tracking_uri(previous)


def test_a_request_without_a_login_gets_401(auth_server):
    url, _, _ = auth_server
    assert call(url, None, "experiments/search", {"max_results": 5}).status_code == 401
    assert call(url, ("reader", "not-the-password"), "experiments/search", {"max_results": 5}).status_code == 401


def test_a_reader_searches_runs_but_cannot_create_one(auth_server):
    url, _, _ = auth_server
    experiment_id = call(url, READER, f"experiments/get-by-name?experiment_name={EXPERIMENT}").json()
    experiment_id = experiment_id["experiment"]["experiment_id"]
    assert call(url, READER, "runs/search", {"experiment_ids": [experiment_id]}).status_code == 200
    assert call(url, READER, "runs/create", {"experiment_id": experiment_id}).status_code == 403


def test_an_editor_trains_registers_searches_and_measures(auth_server, editor_work):
    url, _, _ = auth_server
    assert [job.returncode for job in editor_work] == [0] * 3, [job.stderr[-2000:] for job in editor_work]
    runs = runs_of(url)
    assert set(runs["status"]) == {"FINISHED"}
    assert {"fast", "search-on-spark", "robustness"} <= set(runs["tags.mlflow.runName"])
    parents = runs[runs["tags.model_kind"] == "search"]
    trials = runs[runs["tags.mlflow.parentRunId"].isin(parents["run_id"])]
    assert len(parents) == 1 and sorted(trials["tags.mlflow.runName"]) == ["trial-1", "trial-2"]
    champion = call(url, ADMIN, "registered-models/alias?name=mnist-digits&alias=champion").json()["model_version"]
    tags = {tag["key"]: tag["value"] for tag in champion["tags"]}  # the robustness report's, on the champion
    assert 0.3 < float(tags["robust_mean_accuracy"]) < 1 and tags["robust_severity"] == "3"


def test_a_reader_lists_versions_predicts_and_builds_the_dashboard(auth_server, editor_work, small_mnist, tmp_path):
    url, _, _ = auth_server
    image = Image.fromarray(255 - (small_mnist.test.x[0].reshape(28, 28) * 255).astype(np.uint8))
    image.save(tmp_path / "digit.png")
    listed = mnist_mlops(url, READER, "registry", "list")
    predicted = mnist_mlops(url, READER, "predict", str(tmp_path / "digit.png"))
    built = mnist_mlops(url, READER, "dashboard", "--experiment", EXPERIMENT, "--out", str(tmp_path / "site"))
    assert [listed.returncode, predicted.returncode, built.returncode] == [0, 0, 0], built.stderr[-2000:]
    assert "champion" in listed.stdout and predicted.stdout.startswith(f"{tmp_path / 'digit.png'}: ")
    assert (tmp_path / "site" / "index.html").exists()


def test_a_readers_promote_is_refused_and_the_champion_stays(auth_server, editor_work):
    url, _, _ = auth_server
    versions = call(url, ADMIN, "registered-models/get?name=mnist-digits").json()["registered_model"]
    champion = next(alias["version"] for alias in versions["aliases"] if alias["alias"] == "champion")
    other = "2" if champion == "1" else "1"
    refused = mnist_mlops(url, READER, "registry", "promote", other, "--force")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert f"{url} refused" in refused.stderr and "user 'reader'" in refused.stderr and "(HTTP 403)" in refused.stderr
    assert "EDIT on the registered model" in refused.stderr
    versions = call(url, ADMIN, "registered-models/get?name=mnist-digits").json()["registered_model"]
    assert next(alias["version"] for alias in versions["aliases"] if alias["alias"] == "champion") == champion


def test_a_wrong_password_is_one_line_and_starts_no_run(auth_server, editor_work):
    url, _, _ = auth_server
    before = len(runs_of(url))
    done = mnist_mlops(url, (EDITOR[0], "a-wrong-password"), "baseline", "--model", "dummy", "--limit", "1000",
                       "--experiment", EXPERIMENT)  # fmt: skip
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.stderr.strip().splitlines()[-1].startswith(f"Error: {url} refused user 'editor'")
    assert "(HTTP 401)" in done.stderr
    assert len(runs_of(url)) == before


def test_a_missing_right_is_named_and_leaves_no_run_running(auth_server, editor_work):
    url, _, _ = auth_server
    done = mnist_mlops(url, READER, "baseline", "--model", "dummy", "--limit", "1000", "--experiment", EXPERIMENT)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "(HTTP 403): it needs EDIT on the experiment" in done.stderr
    assert "RUNNING" not in set(runs_of(url)["status"])


def test_no_password_is_in_a_run_an_artifact_or_the_servers_command_line(auth_server, editor_work):
    url, folder, process = auth_server
    passwords = [ADMIN[1], READER[1], EDITOR[1]]
    runs = runs_of(url)
    recorded = [str(value) for value in runs.filter(regex=r"^(params|tags)\.").to_numpy().ravel()]
    assert not [value for value in recorded if any(password in value for password in passwords)]
    artifacts = [path for path in (folder / "artifacts").rglob("*") if path.is_file()]
    assert artifacts and not [path for path in artifacts if any(p.encode() in path.read_bytes() for p in passwords)]
    tree = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    command_lines = " ".join(" ".join(part.cmdline()) for part in tree)
    assert "basic-auth" in command_lines and not any(password in command_lines for password in passwords)


def test_a_search_on_spark_carries_the_login_to_its_workers(auth_server, editor_work):
    url, _, _ = auth_server
    runs = runs_of(url)
    parent = runs[runs["tags.study"] == "on-spark"]
    trials = runs[runs["tags.mlflow.parentRunId"].isin(parent["run_id"])]
    assert len(parent) == 1 and parent["params.backend"].item() == "spark"
    assert len(trials) == 2 and set(trials["status"]) == {"FINISHED"}  # logged by the workers, as the editor


def test_an_exposed_host_without_auth_is_refused_before_anything_starts(servers, tmp_path):
    port = servers.free_port()
    command = [sys.executable, "-m", "mnist_mlops", "server", "--host", "0.0.0.0", "--port", str(port)]
    done = subprocess.run(command, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)},
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 1 and "--host 0.0.0.0" in done.stderr and "add --auth" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())  # no store, no artifact folder: nothing started


def test_a_first_start_with_auth_needs_the_admins_password(servers, tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "MLFLOW_AUTH_ADMIN_PASSWORD"}
    command = [sys.executable, "-m", "mnist_mlops", "server", "--auth", "--port", str(servers.free_port())]
    env = {**env, "PYTHONPATH": str(REPO)}
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "set MLFLOW_AUTH_ADMIN_PASSWORD or pass --admin-password-file" in done.stderr
    (tmp_path / "short").write_text("eleven-char\n")
    command = [*command, "--admin-password-file", "short"]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "the admin's password needs at least 12 characters" in done.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["short"]  # nothing written, nothing started


def test_allowed_hosts_and_cors_origins_reach_mlflow_server():
    config = ServerConfig(host="0.0.0.0", auth=True, allowed_hosts="mlflow.example.org:5000",
                          cors_allowed_origins="https://mlflow.example.org")  # fmt: skip
    command = server_command(config)
    assert command[command.index("--allowed-hosts") + 1] == "mlflow.example.org:5000"
    assert command[command.index("--cors-allowed-origins") + 1] == "https://mlflow.example.org"
    assert command[command.index("--app-name") + 1] == "basic-auth"
    assert "--allowed-hosts" not in server_command(ServerConfig())  # unset: MLflow's own defaults
