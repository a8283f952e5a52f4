"""Full-MNIST baselines: accuracy, fit and prediction time, and peak memory of `baseline --model all`.

Run with `make bench` (or `python -m bench.baselines`); takes about three minutes on 2 cores.
"""

import tempfile
from pathlib import Path

from bench.common import bench_runs, run_measured, write_report


def main() -> None:
    """Run every baseline on full MNIST once and report against the issue's targets."""
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        process = run_measured(["baseline", "--model", "all", "--experiment", "bench"], workdir)
        runs = bench_runs(workdir, "tags.model_kind = 'sklearn'")
    models = runs.dropna(subset=["tags.model_family"]).set_index("tags.model_family")
    figures = {
        name: {
            "test_accuracy": round(row["metrics.test_accuracy"], 4),
            "val_accuracy": round(row["metrics.val_accuracy"], 4),
            "fit_seconds": round(row["metrics.fit_seconds"], 1),
            "test_predict_seconds": round(row["metrics.test_predict_seconds"], 2),
        }
        for name, row in models.iterrows()
    }
    figures["baseline_all"] = process
    goals = [
        ("logreg test accuracy", figures["logreg"]["test_accuracy"], ">=", 0.92),
        ("knn test accuracy", figures["knn"]["test_accuracy"], ">=", 0.97),
        ("rf test accuracy", figures["rf"]["test_accuracy"], ">=", 0.968),
        ("rf fit seconds", figures["rf"]["fit_seconds"], "<=", 60),
        ("knn predict seconds, 10,000 test images", figures["knn"]["test_predict_seconds"], "<=", 15),
        ("peak memory of baseline --model all, GiB", process["peak_rss_gib"], "<=", 6),
    ]
    print(write_report("baselines", figures, goals).read_text())


if __name__ == "__main__":
    main()
