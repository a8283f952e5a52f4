"""Full-MNIST Keras networks: accuracy, epochs, wall time, time to 99% test accuracy, MLflow
overhead and peak memory. Run with `python -m bench.networks [mlp|cnn ...]` (about 40 minutes for
both); the figures of an architecture not named are kept from the last run.

Each architecture is trained twice with the same config and seed, each in a fresh Python process:
once by the CLI, tracked in MLflow, and once by `python -m bench.networks --untracked ARCH`, which
runs the same data, fit, scoring and report code without MLflow and scores the test set after
every epoch. The wall-time difference is MLflow's cost: its import, per-epoch logging, datasets,
figures written as PNG, and the logged model. The per-epoch test scores are only reported, never
used to choose anything; their time is taken off the untracked wall time.
"""

import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import REPO, RESULTS, bench_runs, run_measured, write_report
from mnist_mlops import models
from mnist_mlops.config import TrainConfig
from mnist_mlops.data import load_mnist
from mnist_mlops.evaluate.report import evaluate
from mnist_mlops.train.fitting import Fitted

GOALS = {"cnn": 0.994, "mlp": 0.982}


def untracked(config: TrainConfig) -> dict:
    """Train without MLflow, timing each epoch and scoring the test set after it."""
    start = time.perf_counter()
    data = load_mnist(seed=config.seed)
    family = models.family(config.arch)
    classifier = family.build(family.hyperparameters(config), config.seed)
    curve, scoring = [], []

    def score_test(epoch: int, logs: dict) -> None:
        began = time.perf_counter()
        proba = classifier.predict_proba(data.test.x)
        scoring.append(time.perf_counter() - began)
        accuracy = float((proba.argmax(axis=1) == data.test.y).mean())
        elapsed = began - start - sum(scoring[:-1])
        curve.append({"epoch": epoch + 1, "seconds": round(elapsed, 1), "test_accuracy": round(accuracy, 4)})

    fit_start = time.perf_counter()
    epochs = classifier.fit(data.train, data.val, score_test)
    evaluate(Fitted(classifier, time.perf_counter() - fit_start, epochs), data, config.arch, config.seed)
    reached = next((point["seconds"] for point in curve if point["test_accuracy"] >= 0.99), None)
    return {"scoring_seconds": sum(scoring), "seconds_to_99_test_accuracy": reached, "per_epoch": curve}


def untracked_process(arch: str) -> dict:
    """Run untracked() in a fresh process, as the tracked CLI run is; its wall time without the scoring."""
    start = time.perf_counter()
    command = [sys.executable, "-m", "bench.networks", "--untracked", arch]
    output = subprocess.run(command, cwd=REPO, check=True, capture_output=True, text=True).stdout
    figures = json.loads(output.splitlines()[-1])
    wall = time.perf_counter() - start - figures.pop("scoring_seconds")
    return {"wall_seconds": round(wall, 1), **figures}


def tracked(arch: str, workdir: Path) -> dict:
    """Train with the CLI, tracked in a fresh SQLite store; return its figures."""
    process = run_measured(["train", "--arch", arch, "--quiet", "--experiment", "bench"], workdir)
    run = bench_runs(workdir).iloc[0]
    metrics = {key[len("metrics.") :]: value for key, value in run.items() if key.startswith("metrics.")}
    return {
        **process,
        "test_accuracy": round(metrics["test_accuracy"], 4),
        "val_accuracy": round(metrics["val_accuracy"], 4),
        "epochs_run": int(metrics["epochs_run"]),
        "best_epoch": int(metrics["best_epoch"]),
        "fit_seconds": round(metrics["fit_seconds"], 1),
    }


def main(architectures: list[str]) -> None:
    """Benchmark each architecture and write results/networks.md, keeping the figures of the others."""
    previous = RESULTS / "networks.json"
    figures = json.loads(previous.read_text())["figures"] if previous.exists() else {}
    for arch in architectures:
        with tempfile.TemporaryDirectory() as folder:
            with_tracking = tracked(arch, Path(folder))
        without = untracked_process(arch)
        overhead = (with_tracking["wall_seconds"] - without["wall_seconds"]) / without["wall_seconds"]
        figures[arch] = {
            "measured": datetime.now(UTC).isoformat(timespec="seconds"),
            "untracked_in_own_process": True,
            "tracked": with_tracking,
            "untracked": without,
            "tracking_overhead_percent": round(100 * overhead, 1),
        }
    goals = []
    for arch, figure in figures.items():
        goals.append((f"{arch} test accuracy (default config)", figure["tracked"]["test_accuracy"], ">=", GOALS[arch]))
        goals.append((f"{arch} MLflow overhead, % of wall time", figure["tracking_overhead_percent"], "<=", 3))
        goals.append((f"{arch} peak memory, GiB", figure["tracked"]["peak_rss_gib"], "<=", 4))
    print(write_report("networks", figures, goals).read_text())


if __name__ == "__main__":
    if sys.argv[1:2] == ["--untracked"]:
        print(json.dumps(untracked(TrainConfig(arch=sys.argv[2], quiet=True))))  # as quiet as the tracked run
    else:
        main(sys.argv[1:] or ["cnn", "mlp"])
