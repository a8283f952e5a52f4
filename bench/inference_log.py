"""The inference log's cost and what it keeps, and `mnist-mlops monitor` over a day of it. Run with
`python -m bench.inference_log` (about 10 minutes on 2 cores).

The same champion (bench/serving.py's: two default CNNs, one epoch on 5,000 images) is served twice,
the log off and on, and the two servers take turns round by round (bench/serving.py's rounds): the
one-row p50 and the 1,000-row Parquet throughput from 2 clients. Then a server with the log on is
sent requests and stopped with SIGTERM (every answer must be recorded) or SIGKILL (at most the last
FLUSH_SECONDS may be lost). Last, a day of a million records from two workers, each writing a file
every FLUSH_SECONDS, is written by the log's own writer (its files merged as a server's are) and
`monitor` reads it.
"""

import json
import os
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import requests

from bench.common import REPO, run_measured, store_uri, write_report
from bench.serving import PARQUET, batch_figures, register_champion, request_figures, start_server
from mnist_mlops.data import load_mnist
from mnist_mlops.processes import free_port, still_running, stop, tree_of
from mnist_mlops.serving.inference_log import FLUSH_SECONDS, VARIABLE, Answered, InferenceLog, read_log

CHAMPION = "models:/mnist-digits@champion"
SENDING_SECONDS = 3 * FLUSH_SECONDS  # one-row requests are sent this long before a stop signal
DAY_RECORDS = 1_000_000
END = datetime(2026, 12, 7, 12, tzinfo=UTC)


def recording_cost(env: dict, log: Path, one: str, batch: bytes) -> dict:
    """p50 and batch throughput of the champion served with the log off and on, taking turns."""
    servers, urls = {}, {}
    try:
        for name, extra in (("off", {}), ("on", {VARIABLE: str(log)})):
            port = free_port()
            servers[name] = start_server(CHAMPION, port, {**env, **extra})
            urls[name] = f"http://127.0.0.1:{port}/invocations"
        figures = request_figures(urls, one)
        for name, url in urls.items():
            figures[name]["batch_1000_parquet_2_clients"] = batch_figures(url, batch, PARQUET, clients=2)
    finally:
        for process in servers.values():
            stop(process)
    return figures


def records_kept(env: dict, log: Path, one: str, stop_signal: int) -> dict:
    """Requests answered by a logging server until stop_signal, and how many of them the log holds."""
    port = free_port()
    process = start_server(CHAMPION, port, {**env, VARIABLE: str(log)})
    url, answered, last = f"http://127.0.0.1:{port}/invocations", [], []
    session = requests.Session()
    began = time.monotonic()
    while time.monotonic() - began < SENDING_SECONDS:
        response = session.post(url, data=one, headers={"Content-Type": "application/json"}, timeout=60)
        answered.append(response.json()["predictions"][0]["request_id"])
        last.append(time.monotonic())
    tree = tree_of(process)  # uvicorn, which holds the log, stops after the launcher does
    os.killpg(process.pid, stop_signal)
    stopped_at = time.monotonic()
    process.wait(timeout=60)
    assert not still_running(tree, seconds=60), "the server did not stop"
    recorded = set(read_log(log, ["request_id"]).column("request_id").to_pylist())
    return {"answered": len(answered), "recorded": len(recorded & set(answered)),
            "answered_in_the_last_flush_interval": sum(stopped_at - at <= FLUSH_SECONDS for at in last)}  # fmt: skip


def write_day(log: Path) -> int:
    """A day of DAY_RECORDS records from two workers each writing a file every FLUSH_SECONDS; return the
    files left after their merges."""
    per_file = DAY_RECORDS // int(2 * 86_400 / FLUSH_SECONDS)
    rng = np.random.default_rng(0)
    for worker in range(2):
        writer = InferenceLog(log)
        writer.start()
        for flush in range(int(86_400 / FLUSH_SECONDS)):
            proba = rng.dirichlet(np.full(10, 0.1), per_file)
            at = END - timedelta(seconds=FLUSH_SECONDS * (flush + 0.5))
            writer.write([Answered(at.timestamp(), f"{worker}-{flush}", "1", "m-1", "pixels", 1.5, proba,
                                   np.ones(per_file, np.int64), None, None)])  # fmt: skip
    return len(list(log.rglob("*.parquet")))


def main() -> None:
    """Measure and report."""
    test = load_mnist().test
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        env = {**os.environ, "MLFLOW_TRACKING_URI": store_uri(work), "PYTHONPATH": str(REPO)}
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"  # uvicorn is run by name
        env.pop(VARIABLE, None)
        os.environ["MLFLOW_TRACKING_URI"] = env["MLFLOW_TRACKING_URI"]
        os.chdir(work)
        register_champion()
        one = json.dumps({"inputs": test.x[:1].tolist()})
        batch = pd.DataFrame(test.x[:1000], columns=[str(i) for i in range(784)]).to_parquet()
        figures = recording_cost(env, work / "cost-log", one, batch)
        figures["sigterm"] = records_kept(env, work / "sigterm-log", one, signal.SIGTERM)
        figures["sigkill"] = records_kept(env, work / "sigkill-log", one, signal.SIGKILL)
        figures["day_files"] = write_day(work / "day-log")
        figures["monitor_day"] = run_measured(  # the simulated day's answers are random: its drift is not news
            ["monitor", "--log", str(work / "day-log"), "--end", END.isoformat(), "--experiment", "bench",
             "--no-baseline-alerts"], work,
        )  # fmt: skip
    off, on = figures["off"], figures["on"]
    figures["p50_on_over_off"] = round(on["1_clients"]["p50_ms"] / off["1_clients"]["p50_ms"], 3)
    rates = [side["batch_1000_parquet_2_clients"]["images_per_second"] for side in (on, off)]
    figures["batch_on_share_of_off"] = round(rates[0] / rates[1], 3)
    sigterm, sigkill = figures["sigterm"], figures["sigkill"]
    goals = [
        ("one-row p50 with the log, over without", figures["p50_on_over_off"], "<=", 1.10),
        ("1,000-row Parquet images/s with the log, share of without", figures["batch_on_share_of_off"], ">=", 0.95),
        ("records lost on SIGTERM", sigterm["answered"] - sigterm["recorded"], "<=", 0),
        ("records lost on SIGKILL, beyond those of the last flush interval",
         sigkill["answered"] - sigkill["recorded"] - sigkill["answered_in_the_last_flush_interval"], "<=", 0),
        ("monitor over a day of a million records, seconds", figures["monitor_day"]["wall_seconds"], "<=", 30),
        ("monitor over a day of a million records, peak GiB", figures["monitor_day"]["peak_rss_gib"], "<=", 2),
    ]  # fmt: skip
    print(write_report("inference_log", figures, goals).read_text())


if __name__ == "__main__":
    main()
