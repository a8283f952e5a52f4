"""Jobs against a tracking server that goes away: `mnist-mlops server` killed (SIGKILL, its whole tree) in
the middle of train and tune and started again on the same port and store, score behind a fault proxy
answering 503 or too slowly, a served model asked while the server is down. A job completes through
MLflow's client retries (MLFLOW_HTTP_REQUEST_MAX_RETRIES, default 7 over about 4 minutes), or fails in
one line with its run ended FAILED; no run is left RUNNING; a search resumes from its finished trials."""

import json
import os
import subprocess
import sys
import time
import urllib.request

import mlflow
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from mnist_mlops import processes
from mnist_mlops.cli import cli
from mnist_mlops.config import TuneConfig
from mnist_mlops.jobs.tune import run_search
from tests.conftest import REPO
from tests.fault_proxy import FaultProxy, Slow, through

FEW_RETRIES = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "0"}  # fail in seconds
DOWN_SECONDS = 3  # how long the server stays killed before it is started again (which takes 10-30 s more)


class Server:
    """`mnist-mlops server` on one port and folder, which a test kills and starts again."""

    def __init__(self, servers, folder):
        self.servers, self.folder, self.port = servers, folder, servers.free_port()
        self.url, self.process = f"http://127.0.0.1:{self.port}", None

    def start(self) -> None:
        command = [sys.executable, "-m", "mnist_mlops", "server", "--port", str(self.port)]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.process = self.servers.start(command, f"{self.url}/health", env, self.folder)

    def restart_after_kill(self) -> None:
        """Kill the server's whole tree at once, as a crash would, and start it again DOWN_SECONDS later."""
        processes.kill(self.process)
        time.sleep(DOWN_SECONDS)
        self.start()


@pytest.fixture(scope="module")
def server(tmp_path_factory, servers):
    """A restartable tracking server with version 1 of mnist-digits (a one-trial logistic regression)."""
    server = Server(servers, tmp_path_factory.mktemp("outages"))
    server.start()
    previous = mlflow.get_tracking_uri()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", server.url)
        patch.chdir(server.folder)
        mlflow.set_tracking_uri(server.url)
        run_search(TuneConfig(family="logreg", max_evals=1, limit=1000, quiet=True, experiment="outages"))
        yield server
        patch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    mlflow.set_tracking_uri(previous)
    servers.stop(server.process)


def job(server: Server, args: list[str], extra: dict | None = None) -> subprocess.Popen:
    """`mnist-mlops ARGS` against the server, with MLflow's default retries unless extra says otherwise."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MLFLOW_HTTP_REQUEST")}
    env |= {"MLFLOW_TRACKING_URI": server.url, "PYTHONPATH": str(REPO), **(extra or {})}
    command = [sys.executable, "-m", "mnist_mlops", *args]
    return subprocess.Popen(command, cwd=server.folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip


def runs_of(experiment: str) -> pd.DataFrame:
    return mlflow.search_runs(experiment_names=[experiment])


def wait_until(process: subprocess.Popen, experiment: str, ready, seconds: float = 600) -> pd.DataFrame:
    """Poll the experiment's runs until ready(runs); fail if the job ends first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the job ended first: {process.stderr.read()[-3000:]}"
        runs = runs_of(experiment)
        if len(runs) and ready(runs):
            return runs
        time.sleep(0.3)
    raise AssertionError(f"the job did not get there in {seconds} s")


def train_through_a_restart(server: Server, experiment: str, extra: dict | None = None):
    """Train (2 epochs, 300 images), kill the server once epoch 1 is logged, start it again; the job's
    exit code, stderr and run id."""
    args = ["train", "--arch", "fast", "--epochs", "2", "--limit", "300", "--experiment", experiment]
    process = job(server, args, extra)
    runs = wait_until(
        process, experiment, lambda runs: "metrics.train_loss" in runs and runs["metrics.train_loss"].notna().any()
    )
    server.restart_after_kill()
    _, err = process.communicate(timeout=900)
    return process.returncode, err, runs["run_id"].item()


@pytest.mark.slow
def test_train_completes_across_a_restart_through_mlflows_retries(server):
    code, err, run_id = train_through_a_restart(server, "restart-train")
    assert code == 0, err[-3000:]
    assert "Connection refused" in err  # it asked the dead server, and MLflow's client retried
    run = mlflow.get_run(run_id)
    assert run.info.status == "FINISHED" and run.data.metrics["test_accuracy"] > 0.1
    steps = [point.step for point in mlflow.MlflowClient().get_metric_history(run_id, "train_loss")]
    assert sorted(steps) == [1, 2]
    assert runs_of("restart-train")["status"].tolist() == ["FINISHED"]


@pytest.mark.slow
def test_train_fails_in_one_line_and_ends_its_run_when_retries_run_out(server):
    code, err, run_id = train_through_a_restart(server, "restart-train-fails", FEW_RETRIES)
    said = err.strip().splitlines()[-1]
    assert code == 1 and "Traceback" not in err, err[-3000:]
    assert said.startswith(f"Error: the tracking server at {server.url} did not answer: API request to "), said
    assert said.endswith(f"; run {run_id} ended FAILED")
    run = mlflow.get_run(run_id)
    assert run.info.status == "FAILED" and run.data.tags["error"].startswith("MlflowException: API request to ")
    assert runs_of("restart-train-fails")["status"].tolist() == ["FAILED"]


@pytest.mark.slow
def test_a_search_cut_off_by_a_restart_resumes_from_its_finished_trials(server):
    experiment = "restart-tune"
    args = ["tune", "--family", "logreg", "--limit", "1000", "--max-evals", "8", "--study", "cut", "--quiet",
            "--experiment", experiment]  # fmt: skip
    process = job(server, args, FEW_RETRIES)
    wait_until(process, experiment, lambda runs: "tags.trial" in runs and runs["tags.trial"].notna().sum() >= 2)
    server.restart_after_kill()
    _, err = process.communicate(timeout=600)
    said = err.strip().splitlines()[-1]
    assert process.returncode == 1 and "Traceback" not in err, err[-3000:]
    assert said.startswith(f"Error: the tracking server at {server.url} did not answer: ") and "ended FAILED" in said
    before = runs_of(experiment)
    assert "RUNNING" not in set(before["status"])
    saved = before[before["tags.trial"].notna()].set_index("tags.trial")["run_id"]  # named once saved

    result = CliRunner().invoke(cli, [*args, "--resume"])
    assert result.exit_code == 0, result.output
    after = runs_of(experiment)
    parent = after[after["tags.study"] == "cut"]
    assert parent["status"].tolist() == ["FINISHED"] and "RUNNING" not in set(after["status"])
    lost = after["tags.lost"].eq("true") if "tags.lost" in after else False  # runs of trials not saved
    children = after[(after["tags.mlflow.parentRunId"] == parent["run_id"].item()) & ~lost]
    assert sorted(children["tags.trial"].astype(int)) == list(range(1, 9)) and set(children["status"]) == {"FINISHED"}
    kept = children.set_index("tags.trial")["run_id"]
    # The finished trials were not run again (a trial named just before the kill may not have been saved).
    survivors = saved[saved.isin(kept)]
    assert len(survivors) >= max(2, len(saved) - 1) and (kept[survivors.index] == survivors).all()


@pytest.fixture(scope="module")
def pixels(server, small_mnist):
    """50 test digits as a Parquet file of pixel rows with a key column."""
    rows = pd.DataFrame(
        (small_mnist.test.x[:50] * 255).round().astype(np.uint8), columns=[f"pixel{i}" for i in range(784)]
    )
    rows.insert(0, "key", [f"test-{i}" for i in range(50)])
    rows.to_parquet(path := server.folder / "pixels.parquet")
    return path


@pytest.mark.parametrize(
    ("path", "fault", "said"),
    [
        ("/api/2.0/mlflow/model-versions/get", 503, "the model registry at {proxy} failed while reading version 1 of "),
        ("/api/2.0/mlflow/runs/log-batch", Slow(3), "the tracking server at {proxy} did not answer: API request to "),
    ],
)
def test_score_fails_in_one_line_when_the_server_answers_5xx_or_too_slowly(
    server, pixels, monkeypatch, path, fault, said
):
    for name, value in {**FEW_RETRIES, "MLFLOW_HTTP_REQUEST_TIMEOUT": "1"}.items():
        monkeypatch.setenv(name, value)
    output = pixels.parent / f"scored-{path.rsplit('/', 1)[-1]}.parquet"
    with FaultProxy(server.url) as proxy, through(proxy, server.url):
        proxy.faults[path] = fault
        args = ["score", "--input", str(pixels), "--output", str(output), "--model-uri", "models:/mnist-digits/1",
                "--quiet", "--experiment", "restart-score"]  # fmt: skip
        result = CliRunner().invoke(cli, args)
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]  # MLflow's INFO lines aside
    assert result.exit_code == 1 and len(errors) == 1 and "Traceback" not in result.output, result.output
    assert errors[0].startswith(f"Error: {said.format(proxy=proxy.url)}") and proxy.hits[path] == 2  # one retry
    assert not output.exists()
    runs = runs_of("restart-score") if mlflow.get_experiment_by_name("restart-score") else pd.DataFrame()
    assert "RUNNING" not in set(runs.get("status", []))


def test_a_served_model_answers_while_the_tracking_server_is_down(server, servers, small_mnist):
    port = servers.free_port()
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", "models:/mnist-digits/1", "--env-manager",
               "local", "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    env = {**os.environ, "MLFLOW_TRACKING_URI": server.url}
    model = servers.start(command, f"http://127.0.0.1:{port}/health", env, server.folder)
    body = json.dumps({"inputs": small_mnist.test.x[:20].tolist()}).encode()

    def ask() -> list[int]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations", body, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            assert answer.status == 200
            return [prediction["digit"] for prediction in json.load(answer)["predictions"]]

    try:
        before = ask()
        processes.kill(server.process)
        assert ask() == before  # asked with the tracking server gone
        assert np.mean(np.array(before) == small_mnist.test.y[:20]) >= 0.7
    finally:
        server.start()
        servers.stop(model)
