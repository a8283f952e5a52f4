"""Scaling on a real standalone Spark cluster (`mnist-mlops spark-cluster`), shown by simulation on a
2-core machine. Run with `python -m bench.scaling` (about 6 minutes).

Trials of fixed cost: each waits TRIAL_SECONDS, as a trial bound by a remote GPU would, inside the
search's own machinery: Hyperopt's SparkTrials on a session of the tune job, TPE suggestions, and a
nested MLflow run per trial that logs its params and metrics to a tracking server (`mnist-mlops server`,
as a team's cluster logs to one). On 1, 2, 4 and 8
task slots (workers may offer more slots than the machine has cores, as waiting needs none), the
speed-up over one trial's cost is compared with the slot count, and the rest is the per-trial
overhead of Spark, Hyperopt and MLflow together. Hyperopt's suggestion is timed apart, on trial
histories of growing length: it runs on the driver, one trial at a time, and bounds any cluster.

The same searches run again with Hyperopt's two one-second polls (its Spark dispatcher's and fmin's,
fixed inside Hyperopt) shortened tenfold, in this benchmark only: the difference is what those polls
cost, and the rest is Spark's and MLflow's.

It also times `score --backend spark` of 200,000 pixel rows on one worker and on two.
"""

import importlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import hyperopt.spark
import mlflow
import numpy as np
from hyperopt import Trials, fmin, hp, tpe

from bench.common import REPO, run_measured, store_uri, write_report
from bench.fixed_cost import TRIAL_SECONDS, fixed_cost_trial
from bench.scoring import write_pixels
from bench.serving import register_champion
from mnist_mlops.data import load_mnist
from mnist_mlops.processes import free_port, start, stop, wait_until_answering
from mnist_mlops.spark_cluster import spark_cluster
from mnist_mlops.tracking.trials import active_parent
from mnist_mlops.tuning.search import TPE_GAMMA, one_per_id
from mnist_mlops.tuning.spark import spark_trials

TRIALS_PER_SLOT = 8  # after one warm-up trial per slot
SLOTS = (1, 2, 4, 8)
SPACE = {"x": hp.uniform("x", -5, 5), "y": hp.loguniform("y", -3, 3)}
SCORE_ROWS = 200_000
POLL_SHARE = 0.1  # Hyperopt's one-second polls shortened to this share of a second, to measure their cost


class ShortPolls:
    """The time module, with every sleep shortened to POLL_SHARE of its length."""

    def __getattr__(self, name: str):
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(seconds * POLL_SHARE)


@contextmanager
def short_polls():
    """Hyperopt's Spark dispatcher and fmin polling every POLL_SHARE of a second instead of every second."""
    with (
        mock.patch.object(hyperopt.spark, "time", ShortPolls()),
        mock.patch.object(importlib.import_module("hyperopt.fmin"), "time", ShortPolls()),  # the module, not fmin
    ):
        yield


def search_on(slots: int) -> dict:
    """A fixed-cost search of TRIALS_PER_SLOT trials per slot on a cluster with that many slots, logged
    to a tracking server; a first trial per slot warms the workers up (started Python workers, imports)."""
    trials = TRIALS_PER_SLOT * slots
    workers, cores = (1, 1) if slots == 1 else (2, slots // 2)
    preload = ("mnist_mlops.tracking.trials",)  # as the tune job does: the module that records trials
    with spark_cluster(workers, cores) as cluster, spark_trials(slots, cluster.master, preload) as spark:
        mlflow.set_experiment("scaling")
        with mlflow.start_run(run_name=f"slots-{slots}"):
            objective = fixed_cost_trial(active_parent())
            start = time.perf_counter()
            # as the tune job calls it: a proposal waiting per slot, and one trial per id from TPE
            options = dict(algo=one_per_id(tpe.suggest), max_queue_len=slots, show_progressbar=False)
            fmin(objective, SPACE, max_evals=slots, trials=spark, rstate=np.random.default_rng(0), **options)
            warm = time.perf_counter()
            fmin(objective, SPACE, max_evals=slots + trials, trials=spark, rstate=np.random.default_rng(1), **options)
            wall = time.perf_counter() - warm
    speedup = trials * TRIAL_SECONDS / wall
    return {"trials": trials, "first_trials_seconds": round(warm - start, 1), "wall_seconds": round(wall, 1),
            "speedup": round(speedup, 2), "share_of_ideal": round(speedup / slots, 3),
            "overhead_seconds_per_trial": round(wall * slots / trials - TRIAL_SECONDS, 2)}  # fmt: skip


def tracking_server(workdir: Path) -> SimpleNamespace:
    """`mnist-mlops server` on a free port with its store in workdir, as a team's cluster logs to one."""
    port = free_port()
    command = [sys.executable, "-m", "mnist_mlops", "server", "--port", str(port), "--backend-store-uri",
               f"sqlite:///{workdir / 'server.db'}", "--artifacts-destination", str(workdir / "served")]  # fmt: skip
    process = start(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_until_answering(f"{url}/health", process, seconds=120)
    return SimpleNamespace(url=url, process=process)


def suggest_seconds(history: int) -> float:
    """Median seconds of one TPE suggestion after `history` finished trials."""
    trials = Trials()
    fmin(lambda s: (s["x"] - 1) ** 2 + s["y"], SPACE, algo=tpe.suggest, max_evals=history, trials=trials,
         show_progressbar=False, rstate=np.random.default_rng(0))  # fmt: skip
    times = []
    for extra in range(5):
        start = time.perf_counter()
        fmin(lambda s: 0.0, SPACE, algo=tpe.suggest, max_evals=history + extra + 1, trials=trials,
             show_progressbar=False, rstate=np.random.default_rng(extra))  # fmt: skip
        times.append(time.perf_counter() - start)
    return round(statistics.median(times), 4)


def score_on(workers: int, workdir: Path) -> dict:
    """`score --backend spark` of SCORE_ROWS pixel rows on a cluster of `workers` one-slot workers."""
    with spark_cluster(workers, 1) as cluster:
        output = workdir / f"scored-{workers}"
        arguments = ["score", "--input", str(workdir / "rows.parquet"), "--output", str(output), "--backend",
                     "spark", "--spark-master", cluster.master, "--quiet", "--experiment", "bench"]  # fmt: skip
        figures = run_measured(arguments, workdir)
    return {**figures, "images_per_second": round(SCORE_ROWS / figures["wall_seconds"])}


def main() -> None:
    """Measure and report."""
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        store = store_uri(workdir)
        os.environ.update(MLFLOW_TRACKING_URI=store, PYTHONPATH=str(REPO))
        os.chdir(workdir)
        server = tracking_server(workdir)
        try:
            mlflow.set_tracking_uri(server.url)
            figures = {f"{slots}_slots": search_on(slots) for slots in SLOTS}
            with short_polls():
                figures |= {f"{slots}_slots_short_polls": search_on(slots) for slots in SLOTS}
        finally:
            stop(server.process)
        mlflow.set_tracking_uri(store)
        figures["tpe_suggest_seconds"] = {f"after_{n}": suggest_seconds(n) for n in (20, 100, 400)}
        register_champion()
        write_pixels(workdir / "rows.parquet", SCORE_ROWS, load_mnist().test.x)
        figures["score_1_worker"] = score_on(1, workdir)
        figures["score_2_workers"] = score_on(2, workdir)
    figures["settings"] = {"trial_seconds": TRIAL_SECONDS, "trials_per_slot": TRIALS_PER_SLOT, "tpe_gamma_here":
                           0.25, "tpe_gamma_of_tune": TPE_GAMMA, "python": sys.version.split()[0]}  # fmt: skip
    goals = [(f"fixed-cost trials, speed-up on {slots} slots, share of ideal", figures[f"{slots}_slots"]
              ["share_of_ideal"], ">=", 0.9) for slots in SLOTS]  # fmt: skip
    print(write_report("scaling", figures, goals).read_text())


if __name__ == "__main__":
    main()
