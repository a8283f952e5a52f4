"""A CNN search on full MNIST within a time budget: the tracked `tune --family cnn --timeout T
--ensemble 3`, how many trials it evaluated and pruned, the time pruning saved, and the test
accuracy of the best configuration and of the ensemble of the three best (both selected on
validation, refitted, evaluated once on test). Run with `python -m bench.tuned_cnn [TIMEOUT]`
(default 1,800 s of search, then the refits: about 40 minutes on 2 cores).
"""

import sys
import tempfile
from pathlib import Path

import pandas as pd

from bench.common import bench_runs, run_measured, write_report
from mnist_mlops import models

MAX_EVALS = 100  # more than fit in the time budget: the timeout ends the search
ENSEMBLE = 3


def trial_figures(children) -> dict:
    """Trials evaluated and pruned, and the training time pruning saved: each pruned trial's
    unplanned epochs at its own seconds per epoch."""
    trials = children[children["tags.model_kind"] != "ensemble"]
    planned = models.family("cnn").recipe.get("epochs") or 10
    pruned = trials[trials.get("tags.pruned", pd.Series("", index=trials.index)) == "true"]
    epochs_run = pruned["tags.pruned_after_epoch"].astype(int)
    saved = ((planned - epochs_run) * pruned["metrics.fit_seconds"] / epochs_run).sum()
    return {
        "trials_evaluated": len(trials),
        "trials_pruned": len(pruned),
        "planned_epochs_per_trial": planned,
        "training_seconds": round(float(trials["metrics.fit_seconds"].sum()), 1),
        "seconds_saved_by_pruning": round(float(saved), 1),
        "trial_val_accuracy": sorted(round(float(v), 4) for v in trials["metrics.val_accuracy"]),
    }


def tuned_cnn(timeout: int, workdir: Path) -> dict:
    """Run the search in a fresh SQLite store; return its figures and the best's and ensemble's."""
    arguments = ["tune", "--family", "cnn", "--max-evals", str(MAX_EVALS), "--timeout", str(timeout)]
    process = run_measured([*arguments, "--ensemble", str(ENSEMBLE), "--quiet", "--experiment", "bench"], workdir)
    runs = bench_runs(workdir)
    parent = runs[runs["tags.mlflow.parentRunId"].isna()].iloc[0]
    children = runs[runs["tags.mlflow.parentRunId"].notna()]
    best = children[children["tags.mlflow.runName"] == f"trial-{int(parent['metrics.best_trial'])}"].iloc[0]
    ensemble = children[children["tags.model_kind"] == "ensemble"].iloc[0]
    return {
        **process,
        "timeout_seconds": timeout,
        "algo": parent["params.algo"],
        "tpe_startup_trials": int(parent["params.tpe_startup_trials"]),
        **trial_figures(children),
        "default_val_accuracy": round(float(parent["metrics.default_val_accuracy"]), 4),
        "best_val_accuracy": round(float(parent["metrics.best_val_accuracy"]), 4),
        "best_test_accuracy": round(float(parent["metrics.test_accuracy"]), 4),
        "best_params": best.filter(like="params.").dropna().rename(lambda key: key[len("params.") :]).to_dict(),
        "ensemble_trials": ensemble["params.trials"],
        "ensemble_val_accuracy": round(float(ensemble["metrics.val_accuracy"]), 4),
        "ensemble_test_accuracy": round(float(ensemble["metrics.test_accuracy"]), 4),
    }


def main(timeout: int = 1800) -> None:
    """Tune, then write results/tuned_cnn.md."""
    with tempfile.TemporaryDirectory() as folder:
        search = tuned_cnn(timeout, Path(folder))
    goals = [
        ("trials evaluated within the timeout (pruned ones count)", search["trials_evaluated"], ">=", 10),
        ("refitted best, test accuracy (full MNIST)", search["best_test_accuracy"], ">=", 0.996),
        (f"ensemble of the {ENSEMBLE} best, test accuracy", search["ensemble_test_accuracy"], ">=", 0.997),
    ]
    print(write_report("tuned_cnn", {"search": search}, goals).read_text())


if __name__ == "__main__":
    main(*(int(value) for value in sys.argv[1:2]))
