"""The same random search run sequentially and on Spark with two trials at a time: wall time,
speed-up and best validation accuracy. Run with `python -m bench.spark [FAMILY]` (default mlp:
16 trials of 3 epochs on a 20,000-image subset, about 10 minutes on 2 cores).

Random search draws each trial from the seed alone, and Hyperopt asks for one trial at a time in
both runs, so both searches try the same 16 configurations: only where they run differs. A
sequential trial uses every core; a Spark trial is held to its task's one core.
"""

import sys
import tempfile
from pathlib import Path

from bench.common import bench_runs, run_measured, write_report

TRIALS = 16
LIMIT = 20_000
EPOCHS = 3
BACKENDS = {"sequential": [], "spark, parallelism 2": ["--backend", "spark", "--parallelism", "2"]}


def search(family: str, backend: list[str], workdir: Path) -> dict:
    """Run one tracked search in a fresh SQLite store; return its wall time, best and trial figures."""
    arguments = ["tune", "--family", family, "--algo", "random", "--max-evals", str(TRIALS), "--limit", str(LIMIT)]
    arguments += ["--epochs", str(EPOCHS), "--quiet", "--experiment", "bench", *backend]
    process = run_measured(arguments, workdir)
    runs = bench_runs(workdir)
    children = runs[runs["tags.mlflow.parentRunId"].notna()]
    return {
        **process,
        "trials_finished": int((children["status"] == "FINISHED").sum()),
        "best_val_accuracy": round(float(children["metrics.val_accuracy"].max()), 4),
        "mean_trial_fit_seconds": round(float(children["metrics.fit_seconds"].mean()), 1),
    }


def main(family: str) -> None:
    """Time both backends and write results/spark.md."""
    figures = {}
    for name, backend in BACKENDS.items():
        with tempfile.TemporaryDirectory() as folder:
            figures[name] = search(family, backend, Path(folder))
    sequential, parallel = figures.values()
    speedup = round(sequential["wall_seconds"] / parallel["wall_seconds"], 2)
    gap = round(abs(sequential["best_val_accuracy"] - parallel["best_val_accuracy"]), 4)
    figures["search"] = {"family": family, "trials": TRIALS, "limit": LIMIT, "epochs": EPOCHS, "speedup": speedup}
    goals = [
        (f"{family}: speed-up of --parallelism 2 on 2 cores", speedup, ">=", 1.6),
        (f"{family}: best val_accuracy gap between the searches", gap, "<=", 0.005),
        ("trials finished on Spark", parallel["trials_finished"], ">=", TRIALS),
    ]
    print(write_report("spark", figures, goals).read_text())


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "mlp")
