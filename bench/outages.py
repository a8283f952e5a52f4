"""bench.reliability's fault matrix, the rows of a tracking server that goes away: `mnist-mlops server`
killed (SIGKILL, its whole tree) in the middle of train and of a sequential tune and started again on its
port and store, with MLflow's default retries and with one (each job's outcome, a failed search's
--resume, runs left RUNNING); score with the registry answering 503 or the run's logging too slowly; a
served model asked while the server is down. Also the jobs and the server every row runs."""

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from bench.common import REPO
from mnist_mlops import processes
from mnist_mlops.data import load_mnist
from tests.fault_proxy import FaultProxy, Slow

API = "/api/2.0/mlflow"
FAST_FAILURE = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "0"}
DOWN_SECONDS = 3  # a killed server stays down this long before it is started again
# Jobs cut off by a restart, each with the column of its runs that says it is under way: killed once
# set (the first epoch logged, two trials saved).
RESTARTED = {
    "train": (["train", "--arch", "fast", "--epochs", "2", "--limit", "300"], "metrics.train_loss", 1),
    "tune": (["tune", "--family", "logreg", "--limit", "1000", "--max-evals", "8", "--study", "cut", "--quiet"],
             "tags.trial", 2),
}  # fmt: skip
SCORE_FAULTS = {  # path: fault, with MLFLOW_HTTP_REQUEST_TIMEOUT=1
    f"{API}/model-versions/get": 503,
    f"{API}/runs/log-batch": Slow(3),
}


def job(args: list[str], url: str, folder: Path, extra: dict | None = None) -> subprocess.Popen:
    """`python -m ARGS` against the tracking server at url."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": url, "PYTHONPATH": str(REPO), **(extra or {})}
    return subprocess.Popen([sys.executable, "-m", *args], cwd=folder, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip


def start_server(folder: Path, port: int) -> subprocess.Popen:
    """`mnist-mlops server` on port, its store and artifacts in folder, answering."""
    command = [sys.executable, "-m", "mnist_mlops", "server", "--port", str(port)]
    server = processes.start(command, cwd=folder, env={**os.environ, "PYTHONPATH": str(REPO)},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        processes.wait_until_answering(f"http://127.0.0.1:{port}/health", server, seconds=120)
    except BaseException:
        processes.stop(server)
        raise
    return server


def outcome(code: int, err: str) -> tuple[str, str]:
    """A job's outcome and its error line."""
    lines = [line for line in err.strip().splitlines() if line.startswith("Error: ")]
    said = (
        "completed" if code == 0 else ("failed, one line" if lines and "Traceback" not in err else "failed, traceback")
    )
    return said, lines[-1][:300] if lines else ""


def running(experiment: str) -> int:
    return len(mlflow.search_runs(experiment_names=[experiment], filter_string="status = 'RUNNING'"))


def restart_cell(server: subprocess.Popen, folder: Path, port: int, what: str, retries: str):
    """A job cut off by the server killed and started again; the row, and the server now running."""
    url, experiment = f"http://127.0.0.1:{port}", f"restart-{what}-{retries}"
    args, column, count = RESTARTED[what]
    args = [*args, "--experiment", experiment]
    began = time.perf_counter()
    process = job(["mnist_mlops", *args], url, folder, FAST_FAILURE if retries == "one" else None)
    while process.poll() is None:
        runs = mlflow.search_runs(experiment_names=[experiment]) if mlflow.get_experiment_by_name(experiment) else None
        if runs is not None and column in runs and runs[column].notna().sum() >= count:
            break
        time.sleep(0.3)
    processes.kill(server)
    time.sleep(DOWN_SECONDS)
    server = start_server(folder, port)
    _, err = process.communicate()
    code = process.returncode
    said, line = outcome(code, err)
    seconds = round(time.perf_counter() - began, 1)
    row = {"job": what, "endpoint": "the whole server", "fault": f"killed, restarted; MLflow retries: {retries}",
           "exit_code": code, "outcome": said, "error": line, "seconds": seconds}  # fmt: skip
    if what == "tune" and code:
        resumed = job(["mnist_mlops", *args, "--resume"], url, folder)
        resumed.communicate()
        row["resumed_exit_code"] = resumed.returncode
        runs = mlflow.search_runs(experiment_names=[experiment])
        kept = runs[runs["tags.trial"].notna() & runs.get("tags.lost", pd.Series(index=runs.index)).ne("true")]
        row["trials_after_resume"] = int(kept["status"].eq("FINISHED").sum())
    return row | {"runs_left_running": running(experiment)}, server


def score_cell(url: str, folder: Path, path: str, fault) -> dict:
    """score of 50 test digits with path of the server faulted (one retry, a 1 s timeout)."""
    rows = pd.DataFrame(
        (load_mnist().test.x[:50] * 255).round().astype(np.uint8), columns=[f"pixel{i}" for i in range(784)]
    )
    rows.to_parquet(source := folder / "pixels.parquet")
    experiment = "restart-score"
    with FaultProxy(url) as proxy:
        proxy.faults[path] = fault
        args = ["mnist_mlops", "score", "--input", str(source), "--output", str(folder / f"scored-{time.time_ns()}"),
                "--model-uri", "models:/mnist-digits/1", "--quiet", "--experiment", experiment]  # fmt: skip
        process = job(args, proxy.url, folder, {**FAST_FAILURE, "MLFLOW_HTTP_REQUEST_TIMEOUT": "1"})
        _, err = process.communicate()
    code = process.returncode
    said, line = outcome(code, err)
    fault_name = f"slow ({fault.seconds:.0f} s), timeout 1 s" if isinstance(fault, Slow) else str(fault)
    return {"job": "score", "endpoint": path, "fault": fault_name, "faulted_requests": proxy.hits[path],
            "exit_code": code, "outcome": said, "error": line, "runs_left_running": running(experiment)}  # fmt: skip


def serve_cell(server: subprocess.Popen, folder: Path, port: int):
    """`mlflow models serve` of version 1 asked before and while the server is down; the row, and the server."""
    serve_port, rows = processes.free_port(), load_mnist().test.x[:20]
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", "models:/mnist-digits/1", "--env-manager",
               "local", "--host", "127.0.0.1", "--port", str(serve_port)]  # fmt: skip
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{port}",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}  # fmt: skip
    model = processes.start(command, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    body = json.dumps({"inputs": rows.tolist()}).encode()
    ask = urllib.request.Request(
        f"http://127.0.0.1:{serve_port}/invocations", body, {"Content-Type": "application/json"}
    )
    try:
        processes.wait_until_answering(f"http://127.0.0.1:{serve_port}/health", model, seconds=180)
        with urllib.request.urlopen(ask, timeout=60) as answer:
            before = [p["digit"] for p in json.load(answer)["predictions"]]
        processes.kill(server)
        with urllib.request.urlopen(ask, timeout=60) as answer:
            status, during = answer.status, [p["digit"] for p in json.load(answer)["predictions"]]
    finally:
        processes.stop(model)
    server = start_server(folder, port)
    row = {"job": "mlflow models serve", "endpoint": "the whole server", "fault": "killed", "exit_code": 0,
           "outcome": "answered" if status == 200 and during == before else "wrong answer", "error": "",
           "runs_left_running": 0}  # fmt: skip
    return row, server


def outage_matrix(server: subprocess.Popen, folder: Path, port: int):
    """The server restarted under train and tune, score faulted, serving with the server down; the rows
    and the server now running."""
    cells = []
    for what in RESTARTED:
        for retries in ("default (7)", "one"):
            cell_row, server = restart_cell(server, folder, port, what, retries)
            cells.append(cell_row)
    cells += [score_cell(f"http://127.0.0.1:{port}", folder, path, fault) for path, fault in SCORE_FAULTS.items()]
    cell_row, server = serve_cell(server, folder, port)
    return [*cells, cell_row], server
