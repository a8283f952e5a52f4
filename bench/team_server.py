"""The team server (`mnist-mlops server --auth`): how long an authenticated request and a small job
take with the login cache (--auth-cache-seconds 60, the default) and without it (0), in one run.

    python -m bench.team_server [REPEATS]
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench.common import REPO, write_report
from mnist_mlops import processes
from mnist_mlops.errors import MnistMlopsError

ADMIN_PASSWORD = "bench-admin-password-1"
USER = ("bench", "bench-user-password-1")
REQUESTS = 100
JOB = ["train", "--arch", "fast", "--epochs", "1", "--limit", "1000", "--register", "--quiet", "--experiment", "bench"]


def start(folder: Path, cache_seconds: int) -> tuple[subprocess.Popen, str]:
    """The server with --auth on a free port, its admin's password from the environment; wait until it answers."""
    port = processes.free_port()
    command = [sys.executable, "-m", "mnist_mlops", "server", "--auth", "--port", str(port),
               "--auth-cache-seconds", str(cache_seconds)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO), "MLFLOW_AUTH_ADMIN_PASSWORD": ADMIN_PASSWORD}
    process = processes.start(command, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        processes.wait_until_answering(f"{url}/health", process, seconds=120)
    except MnistMlopsError:
        processes.stop(process)
        raise
    return process, url


def measure(cache_seconds: int) -> dict:
    """Median milliseconds of an authenticated search of experiments, and the seconds of a small job."""
    with tempfile.TemporaryDirectory() as folder:
        process, url = start(Path(folder), cache_seconds)
        try:
            admin = ("admin", ADMIN_PASSWORD)
            body = {"username": USER[0], "password": USER[1]}
            requests.post(f"{url}/api/2.0/mlflow/users/create", json=body, auth=admin, timeout=30).raise_for_status()
            experiment = {"name": "bench"}
            requests.post(f"{url}/api/2.0/mlflow/experiments/create", json=experiment, auth=USER, timeout=30)
            latencies = []
            for _ in range(REQUESTS):
                began = time.perf_counter()
                response = requests.post(f"{url}/api/2.0/mlflow/experiments/search", json={"max_results": 5},
                                         auth=USER, timeout=30)  # fmt: skip
                latencies.append(time.perf_counter() - began)
                response.raise_for_status()
            env = {**os.environ, "PYTHONPATH": str(REPO), "MLFLOW_TRACKING_URI": url,
                   "MLFLOW_TRACKING_USERNAME": USER[0], "MLFLOW_TRACKING_PASSWORD": USER[1]}  # fmt: skip
            began = time.perf_counter()
            subprocess.run([sys.executable, "-m", "mnist_mlops", *JOB], cwd=folder, env=env, check=True,
                           capture_output=True)  # fmt: skip
            job_seconds = time.perf_counter() - began
        finally:
            processes.stop(process)
    return {"request_ms": statistics.median(latencies) * 1000, "job_seconds": job_seconds}


def main(repeats: int) -> None:
    """Alternate the two settings, `repeats` times each; report medians and their ratios."""
    runs = {60: [], 0: []}
    for _ in range(repeats):
        for cache_seconds in runs:
            runs[cache_seconds].append(measure(cache_seconds))
    figures = {
        f"cache_{seconds}s": {key: round(statistics.median(run[key] for run in measured), 2) for key in measured[0]}
        for seconds, measured in runs.items()
    }
    cached, uncached = figures["cache_60s"], figures["cache_0s"]
    figures["request_speedup"] = round(uncached["request_ms"] / cached["request_ms"], 2)
    figures["job_speedup"] = round(uncached["job_seconds"] / cached["job_seconds"], 2)
    figures["repeats"], figures["job"] = repeats, " ".join(JOB)
    print(write_report("team_server", figures, [("job speed-up with the login cache", figures["job_speedup"],
                                                 ">=", 1.5)]))  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
