"""A tuned CNN on full MNIST: the tracked `tune --family cnn` search, its budget, wall time and the
test accuracy of the best configuration (selected on validation, refitted, evaluated once on test).
Run with `python -m bench.tuned_cnn [MAX_EVALS] [EPOCHS]` (default 2 trials of 20 epochs: about
70 minutes on 2 cores, a refit of the best included).
"""

import sys
import tempfile
from pathlib import Path

from bench.common import bench_runs, run_measured, write_report

GOAL = 0.995


def tuned_cnn(max_evals: int, epochs: int, workdir: Path) -> dict:
    """Run the search in a fresh SQLite store; return its budget, wall time and the best's figures."""
    arguments = ["tune", "--family", "cnn", "--max-evals", str(max_evals), "--epochs", str(epochs)]
    process = run_measured([*arguments, "--quiet", "--experiment", "bench"], workdir)
    runs = bench_runs(workdir)
    parent = runs[runs["tags.mlflow.parentRunId"].isna()].iloc[0]
    children = runs[runs["tags.mlflow.parentRunId"].notna()]
    best = children[children["tags.mlflow.runName"] == f"trial-{int(parent['metrics.best_trial'])}"].iloc[0]
    return {
        **process,
        "algo": parent["params.algo"],
        "trials": int(max_evals),
        "epochs_per_trial": int(epochs),
        "trial_val_accuracy": sorted(round(float(v), 4) for v in children["metrics.val_accuracy"]),
        "best_val_accuracy": round(float(parent["metrics.best_val_accuracy"]), 4),
        "best_test_accuracy": round(float(parent["metrics.test_accuracy"]), 4),
        "best_params": best.filter(like="params.").dropna().rename(lambda key: key[len("params.") :]).to_dict(),
    }


def main(max_evals: int = 2, epochs: int = 20) -> None:
    """Tune, then write results/tuned_cnn.md."""
    with tempfile.TemporaryDirectory() as folder:
        figures = {"search": tuned_cnn(max_evals, epochs, Path(folder))}
    goals = [("tuned CNN, test accuracy of the best (full MNIST)", figures["search"]["best_test_accuracy"], ">=", GOAL)]
    print(write_report("tuned_cnn", figures, goals).read_text())


if __name__ == "__main__":
    main(*(int(value) for value in sys.argv[1:3]))
