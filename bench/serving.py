"""Serving the champion: latency and throughput from a second process on 127.0.0.1, against the
floor of an identity model on the same server, and the server's resident memory. Run with
`python -m bench.serving` (about 4 minutes on 2 cores).

The champion is what `make run` registers, two default CNNs averaged, each trained for one epoch on
5,000 images: latency does not depend on how well they were trained. The floor is a pyfunc model
that answers its input unchanged (bench/identity_model.py), served by the same `mlflow models serve`
and sent the same one-row request of 784 floats: what MLflow's server, parsing and answer cost with
no model. The two servers take turns, round by round, and each figure is the median round. Load is
bounded: a fixed number of requests per client.

Batch throughput is measured with 1,000-image requests as JSON and as Parquet, from 1 and 2
clients. The goal applies to Parquet from 2 clients, the load that keeps the server busy: with one
client the server idles while the client sends and reads, and one request's parsing and answer
(Python, one core at a time) can only overlap another request's inference (both cores) if there
is another request. A JSON body of 1,000 images costs MLflow's parser more than the whole
Parquet request (see README), whatever the model.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import psutil
import requests

from bench.common import REPO, store_uri, write_report
from mnist_mlops.config import TrainConfig
from mnist_mlops.data import load_mnist
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.jobs.train import run_training
from mnist_mlops.processes import free_port, start, stop, wait_until_answering

REQUESTS_PER_CLIENT = {1: 300, 8: 60}
ROUNDS = 5  # the champion and the floor alternate; each figure is the median round
JSON = "application/json"
PARQUET = "application/vnd.apache.parquet"  # MLflow's scoring server reads it into a DataFrame
BATCH_REQUESTS = 10  # per client and round
BATCH = 1000
BATCH_ROUNDS = 5  # the median round is the figure; the range shows this VM's run-to-run spread


def register_champion() -> None:
    """Train two default CNNs briefly and make their average the champion of the current store."""
    run_training(TrainConfig(arch="cnn", epochs=1, limit=5000, members=2, quiet=True, experiment="bench",
                             register=True))  # fmt: skip


def log_floor() -> str:
    """Log the identity model in the current store; return its URI."""
    with mlflow.start_run(run_name="serving-floor"):
        code = Path(__file__).with_name("identity_model.py")
        return mlflow.pyfunc.log_model(name="identity", python_model=str(code)).model_uri


def start_server(model_uri: str, port: int, env: dict) -> subprocess.Popen:
    """`mlflow models serve` of a model; wait for /ping."""
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", model_uri,
               "--env-manager", "local", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]  # fmt: skip
    with Path(f"server-{port}.log").open("w") as log:  # the server keeps its own copy of the descriptor
        process = start(command, env=env, stdout=log, stderr=log)
    try:
        wait_until_answering(f"http://127.0.0.1:{port}/ping", process, seconds=180)
    except MnistMlopsError as error:
        raise RuntimeError(f"{error}: {Path(f'server-{port}.log').read_text()[-2000:]}") from error
    return process


def timed_posts(url: str, body: str | bytes, count: int, content_type: str = JSON) -> tuple[list[float], int]:
    """Send count requests on one connection; return their latencies and the number of errors."""
    session, latencies, errors = requests.Session(), [], 0
    for _ in range(count):
        start = time.perf_counter()
        response = session.post(url, data=body, headers={"Content-Type": content_type}, timeout=60)
        latencies.append(time.perf_counter() - start)
        errors += response.status_code != 200
    return latencies, errors


def posts_from_clients(url: str, body: str | bytes, clients: int, per_client: int, content_type: str = JSON):
    """Run clients in parallel, each sending per_client requests; return latencies (s), errors and wall seconds."""
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(lambda _: timed_posts(url, body, per_client, content_type), range(clients)))
    wall = time.perf_counter() - start
    return np.concatenate([r[0] for r in results]), sum(r[1] for r in results), wall


def batch_figures(url: str, body: str | bytes, content_type: str, clients: int = 1) -> dict:
    """Images per second over BATCH_ROUNDS rounds, in each of which clients send BATCH_REQUESTS
    requests of BATCH images in parallel: the median round, the range and the errors."""
    rates, errors = [], 0
    for _ in range(BATCH_ROUNDS):
        _, round_errors, wall = posts_from_clients(url, body, clients, BATCH_REQUESTS, content_type)
        rates.append(BATCH * BATCH_REQUESTS * clients / wall)
        errors += round_errors
    return {
        "images_per_second": round(float(np.median(rates))),
        "range": [round(min(rates)), round(max(rates))],
        "errors": errors,
    }


def load(url: str, body: str, clients: int, per_client: int) -> dict:
    """Run clients in parallel; return p50, p99, requests per second and errors."""
    latencies, errors, wall = posts_from_clients(url, body, clients, per_client)
    latencies = latencies * 1000
    return {
        "requests": len(latencies),
        "p50_ms": round(float(np.percentile(latencies, 50)), 2),
        "p99_ms": round(float(np.percentile(latencies, 99)), 2),
        "requests_per_second": round(len(latencies) / wall, 1),
        "errors": errors,
    }


def resident_gib(process: subprocess.Popen) -> dict:
    """Resident memory of the serving process (uvicorn, which holds the model) and of the whole tree,
    with the `mlflow models serve` launcher that waits for it."""
    tree = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    serving = [p for p in tree if "uvicorn" in " ".join(p.cmdline())]
    return {
        "serving_process_gib": round(sum(p.memory_info().rss for p in serving) / 2**30, 2),
        "process_tree_gib": round(sum(p.memory_info().rss for p in tree) / 2**30, 2),
    }


def request_figures(urls: dict[str, str], body: str) -> dict:
    """Per server: p50, p99 and requests per second from 1 and 8 clients, median of ROUNDS rounds in
    which the servers take turns."""
    rounds = {name: [] for name in urls}
    for url in urls.values():
        timed_posts(url, body, 20)  # warm-up
    for _ in range(ROUNDS):
        for name, url in urls.items():
            rounds[name].append({f"{clients}_clients": load(url, body, clients, count)
                                 for clients, count in REQUESTS_PER_CLIENT.items()})  # fmt: skip
    return {name: median_round(measured) for name, measured in rounds.items()}


def median_round(rounds: list[dict]) -> dict:
    """Each figure's median over rounds, errors summed."""
    return {
        load_name: {key: (sum if key == "errors" else lambda v: round(float(np.median(v)), 2))(
            [measured[load_name][key] for measured in rounds]) for key in rounds[0][load_name]}
        for load_name in rounds[0]
    }  # fmt: skip


def main() -> None:
    """Measure and report."""
    test = load_mnist().test
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "MLFLOW_TRACKING_URI": store_uri(Path(folder)), "PYTHONPATH": str(REPO)}
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"  # uvicorn is run by name
        os.environ["MLFLOW_TRACKING_URI"] = env["MLFLOW_TRACKING_URI"]
        os.chdir(folder)
        register_champion()
        uris = {"champion": "models:/mnist-digits@champion", "floor": log_floor()}
        processes, urls = {}, {}
        try:
            for name, uri in uris.items():
                port = free_port()
                processes[name] = start_server(uri, port, env)
                urls[name] = f"http://127.0.0.1:{port}/invocations"
            one = json.dumps({"inputs": test.x[:1].tolist()})
            figures = request_figures(urls, one)
            url = urls["champion"]
            pixels = test.x[:BATCH]
            json_batch = json.dumps({"inputs": pixels.round(4).tolist()})
            figures["batch_1000_json"] = batch_figures(url, json_batch, JSON)
            parquet_batch = pd.DataFrame(pixels, columns=[str(i) for i in range(pixels.shape[1])]).to_parquet()
            figures["batch_1000_parquet"] = batch_figures(url, parquet_batch, PARQUET)
            figures["batch_1000_parquet_2_clients"] = batch_figures(url, parquet_batch, PARQUET, clients=2)
            figures["memory"] = resident_gib(processes["champion"])
        finally:
            for process in processes.values():
                stop(process)
    champion, floor = figures["champion"], figures["floor"]
    errors = sum(value.get("errors", 0) for value in figures.values() if isinstance(value, dict))
    errors += sum(load["errors"] for load in (*champion.values(), *floor.values()))
    figures["p50_over_floor"] = round(champion["1_clients"]["p50_ms"] / floor["1_clients"]["p50_ms"], 3)
    rates = [side["8_clients"]["requests_per_second"] for side in (champion, floor)]
    figures["8_clients_share_of_floor"] = round(rates[0] / rates[1], 3)
    goals = [
        ("single-row p50 over the floor's (identity model, same server)", figures["p50_over_floor"], "<=", 1.3),
        ("requests/s from 8 clients, share of the floor's", figures["8_clients_share_of_floor"], ">=", 0.8),
        ("p99 latency, 1 client, ms", champion["1_clients"]["p99_ms"], "<=", 50),
        # Throughput is the server's when it is kept busy: 2 clients (see the module docstring).
        (
            "images/s, 1,000-image Parquet requests, 2 clients",
            figures["batch_1000_parquet_2_clients"]["images_per_second"],
            ">=",
            5000,
        ),  # fmt: skip
        ("errors", errors, "<=", 0),
        ("serving process resident memory, GiB", figures["memory"]["serving_process_gib"], "<=", 1.5),
    ]
    print(write_report("serving", figures, goals).read_text())


if __name__ == "__main__":
    main()
