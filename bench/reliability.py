"""The registry under races and faults, against a real `mnist-mlops server` (SQLite store).

The race: RACERS registrations at once (each a process registering a logged model, as a job does),
ROUNDS rounds, each starting from the weakest version as champion: how often the most accurate ends
as champion, and whether every decision agrees with where @champion went. The fault matrix: register
and promote with one endpoint of the registry answering 503 or dropping the connection (through a
fault proxy, MLflow's client retrying once): the outcome, whether @champion moved without a
decision that says so (a silent promotion), and runs left RUNNING. The server killed (SIGKILL, its
whole tree) in the middle of train and of a sequential tune and started again, with MLflow's default
retries and with one: each job's outcome, a failed search's --resume, runs left RUNNING; score with the
registry answering 503 or the run's logging too slowly; a served model asked while the server is down.

    python -m bench.reliability [ROUNDS] [RACERS]   # 20 rounds of 4 by default: about 50 min on 2 cores
    python -m bench.reliability restarts           # the server's restarts, score and serving only: 6 min
    python -m bench.reliability register VERSION   # one racer: register VERSION's model again
"""

import os
import sys
import tempfile
import time
from pathlib import Path

import mlflow

from bench.common import write_report
from bench.outages import FAST_FAILURE, job, outage_matrix, start_server
from mnist_mlops import processes, registry
from mnist_mlops.config import TuneConfig
from mnist_mlops.data import load_mnist
from mnist_mlops.jobs.tune import run_search
from tests.fault_proxy import DROP, FaultProxy

EXPERIMENT = "reliability"
# Versions 1 (the weakest) to 5: family and training images, each significantly more accurate than the
# one before, so that the promotion rule (McNemar, 5%) has one right answer.
VERSIONS = (("logreg", 100), ("logreg", 300), ("logreg", 1000), ("knn", 1500), ("knn", 6000))
API = "/api/2.0/mlflow"
ENDPOINTS = {  # what each path carries in a registration or promotion
    "aliases read": f"{API}/registered-models/get",
    "alias move": f"{API}/registered-models/alias",
    "decision write": f"{API}/model-versions/set-tag",
    "lock (model create)": f"{API}/registered-models/create",
    "version create": f"{API}/model-versions/create",
}
FAULTS = {"503": 503, "dropped connection": DROP}
# A real job that registers: a logistic regression on 300 images, more accurate than version 1.
REGISTER = ["tune", "--family", "logreg", "--max-evals", "1", "--limit", "300", "--quiet", "--experiment", EXPERIMENT]


def register_again(version: str) -> None:
    """Register the logged model of version as a new version, in a run, as a job does."""
    from mnist_mlops import tracking

    tracking.use_tracking_uri()
    mlflow.set_experiment(EXPERIMENT)
    source = registry.resolve(version)
    tags, test = source.tags, load_mnist().test
    metrics = {f"{split}_accuracy": float(tags[f"{split}_accuracy"]) for split in ("val", "test")}
    digits = registry.predicted_digits(version, test.x)
    with tracking.run(f"register-{version}", {"model_family": tags["model_family"]}) as run_id:
        promotion = registry.register(source.source, tags["model_family"], tags["model_name"], metrics, run_id,
                                      test, digits)  # fmt: skip
    print(promotion.decision)


def accuracy(version: str) -> float:
    return float(registry.resolve(version).tags["test_accuracy"])


def disagreements(versions: list[str], start: str) -> int:
    """Versions whose decision disagrees with the aliases: a promoted one off the chain of moves from
    start to @champion, a champion whose decision is not a promotion, one not promoted that was
    compared with a version off that chain or was better than it."""
    tags = {v: registry.resolve(v).tags for v in versions}
    chain, version, bad = [], registry.champion_version(), 0
    while version != start and version in tags and tags[version]["promotion_decision"].startswith("promoted"):
        chain.append(version)
        version = tags[version]["compared_with_version"]
    bad += version != start
    for version in set(versions) - set(chain):
        said = tags[version]
        better = float(said.get("test_accuracy_difference", 0)) > 0 and float(said.get("mcnemar_p_value", 1)) < 0.05
        bad += not said["promotion_decision"].startswith("not promoted") or better
        bad += said.get("compared_with_version") not in {start, *chain}
    return bad


def race(url: str, folder: Path, contenders: list[str], rounds: int, racers: int) -> dict:
    """rounds of racers registrations at once (the most accurate contenders' models registered again)
    from the weakest champion (version 1)."""
    best_wins, disagreeing, again, seconds = 0, 0, 0, []
    chosen = contenders[-racers:]
    for _ in range(rounds):
        mlflow.MlflowClient().set_registered_model_alias(registry.MODEL_NAME, registry.CHAMPION, "1")
        before = set(registry.version_numbers())
        began = time.perf_counter()
        done = [job(["bench.reliability", "register", version], url, folder) for version in chosen]
        outputs = [(process.wait(), *process.communicate()) for process in done]
        seconds.append(time.perf_counter() - began)
        failed = [err[-2000:] for code, _, err in outputs if code]
        if failed:
            raise RuntimeError(f"a registration failed: {failed[0]}")
        again += sum(err.count("meanwhile: deciding again") for _, _, err in outputs)
        new = sorted(set(registry.version_numbers()) - before, key=int)
        best_wins += accuracy(registry.champion_version() or "1") == max(accuracy(v) for v in new)
        disagreeing += disagreements(new, "1")
    return {"rounds": rounds, "racers": racers, "best_ended_champion": best_wins, "decisions_disagreeing": disagreeing,
            "decisions_taken_again": again, "round_seconds_median": sorted(seconds)[len(seconds) // 2]}  # fmt: skip


def cell(url: str, folder: Path, what: str, contender: str, path: str, fault: int | str) -> dict:
    """One registering job (tune) or promote of contender, from champion version 1, with path faulted."""
    client = mlflow.MlflowClient()
    client.set_registered_model_alias(registry.MODEL_NAME, registry.CHAMPION, "1")
    running_before = len(mlflow.search_runs(experiment_names=[EXPERIMENT], filter_string="status = 'RUNNING'"))
    with FaultProxy(url) as proxy:
        proxy.faults[path] = fault
        args = ["mnist_mlops", *(REGISTER if what == "register" else ["registry", "promote", contender])]
        process = job(args, proxy.url, folder, FAST_FAILURE)
        code, _, err = (process.wait(), *process.communicate())
        hits = proxy.hits[path]
    champion = registry.champion_version()
    decided = registry.resolve(champion).tags.get("promotion_decision", "") if champion else ""
    lines = [line for line in err.strip().splitlines() if line.startswith("Error: ")]
    running = len(mlflow.search_runs(experiment_names=[EXPERIMENT], filter_string="status = 'RUNNING'"))
    return {
        "job": what, "endpoint": path, "fault": str(fault), "faulted_requests": hits, "exit_code": code,
        "outcome": "completed" if code == 0 else ("failed, one line" if lines and "Traceback" not in err
                                                  else "failed, traceback"),
        "error": lines[-1][:300] if lines else "",
        "champion_moved": champion != "1",
        "silent_promotion": champion != "1" and (code != 0 or not decided.startswith("promoted")),
        "runs_left_running": running - running_before,
    }  # fmt: skip


def matrix(url: str, folder: Path, contender: str) -> list[dict]:
    """Every job x endpoint x fault."""
    jobs = ("register", "promote")
    return [cell(url, folder, what, contender, path, fault)
            for what in jobs for path in ENDPOINTS.values() for fault in FAULTS.values()]  # fmt: skip


def main(rounds: int = 20, racers: int = 4, restarts_only: bool = False) -> None:
    with tempfile.TemporaryDirectory() as work:
        folder, port = Path(work), processes.free_port()
        server, url = start_server(folder, port), f"http://127.0.0.1:{port}"
        try:
            os.environ["MLFLOW_TRACKING_URI"] = url
            mlflow.set_tracking_uri(url)
            for family, limit in VERSIONS[: 1 if restarts_only else None]:  # each promoted over the one before
                run_search(TuneConfig(family=family, max_evals=1, limit=limit, quiet=True, experiment=EXPERIMENT))
            contenders = [str(version) for version in range(2, len(VERSIONS) + 1)]
            raced = None if restarts_only else race(url, folder, contenders, rounds, racers)
            cells = [] if restarts_only else matrix(url, folder, contenders[-1])
            outages, server = outage_matrix(server, folder, port)
            accuracies = {version: accuracy(version) for version in registry.version_numbers()}
        finally:
            processes.stop(server)
    cells += outages
    silent = sum(c.get("silent_promotion", False) for c in cells)
    left = sum(c["runs_left_running"] for c in cells)
    tracebacks = sum(c["outcome"] == "failed, traceback" for c in cells)
    figures = {
        "race": raced,
        "fault_matrix": cells,
        "test_accuracy_of_versions": accuracies,
        "client_retries": "MLFLOW_HTTP_REQUEST_MAX_RETRIES=1, backoff 0 (MLflow's default: 7, about 4 min) unless a "
        "row says default",
    }
    goals = [
        ("fault matrix: silent promotions", silent, "<=", 0),
        ("fault matrix: runs left RUNNING", left, "<=", 0),
        ("fault matrix: failures shown as a traceback instead of one line", tracebacks, "<=", 0),
        ("served model: answers while the tracking server is down", int(cells[-1]["outcome"] == "answered"), ">=", 1),
    ]
    if raced:
        goals[:0] = [
            ("racing registrations: rounds where the most accurate ended champion (share)",
             round(raced["best_ended_champion"] / rounds, 3), ">=", 1.0),
            ("racing registrations: decisions disagreeing with the final aliases", raced["decisions_disagreeing"], "<=",
             0),
        ]  # fmt: skip
    print(write_report("reliability_restarts" if restarts_only else "reliability", figures, goals).read_text())


if __name__ == "__main__":
    if sys.argv[1:2] == ["register"]:
        register_again(sys.argv[2])
    elif sys.argv[1:2] == ["restarts"]:
        main(restarts_only=True)
    else:
        main(*(int(arg) for arg in sys.argv[1:3]))
