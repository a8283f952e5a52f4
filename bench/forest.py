"""The random forest baseline on full MNIST: validation and test accuracy, fit seconds, and the size of
its logged model, for the 200-tree forest and smaller ones. Each is logged as the baseline job logs it
(tracking.log_model: the skops file compressed with bzip2) and measured as MLflow alone writes it (stored).
Selected on validation: the default is the smallest forest whose validation accuracy is not below
the 200-tree forest's.

Run with `python -m bench.forest` (about fifteen minutes on 2 cores).
"""

import os
import tempfile
import time
import zipfile
from pathlib import Path

import mlflow
import skops.io

from bench.common import store_uri, write_report
from mnist_mlops import models, tracking
from mnist_mlops.data import load_mnist
from mnist_mlops.evaluate.metrics import split_metrics
from mnist_mlops.tracking.models import SKOPS_TRUSTED_TYPES
from mnist_mlops.train.fitting import fit, score_splits

MIB = 2**20
# The rf family's set_params names of each forest compared; the first is the baseline before.
FORESTS = {
    "200 trees": {"clf__n_estimators": 200},
    "200 trees, 2 images a leaf": {"clf__n_estimators": 200, "clf__min_samples_leaf": 2},
    "100 trees": {"clf__n_estimators": 100},
}


def folder_mib(folder: Path) -> float:
    """The size of the files under folder, MiB."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) / MIB


def compressions(estimator) -> dict:
    """The skops file of estimator as MLflow writes it (stored) and compressed two ways: MiB, and the
    seconds to write and to read it back."""
    figures = {}
    for name, method in (("stored", zipfile.ZIP_STORED), ("deflated", zipfile.ZIP_DEFLATED),
                         ("bzip2", zipfile.ZIP_BZIP2)):  # fmt: skip
        start = time.perf_counter()
        content = skops.io.dumps(estimator, compression=method)
        written = time.perf_counter()
        skops.io.loads(content, trusted=SKOPS_TRUSTED_TYPES)
        read = time.perf_counter()
        figures[name] = {"mib": round(len(content) / MIB, 1), "write_seconds": round(written - start, 1),
                         "read_seconds": round(read - written, 1)}  # fmt: skip
    return figures


def measure(params: dict, data, workdir: Path, compare_compressions: bool) -> dict:
    """Fit one forest, score it on validation and test, log it; its accuracies, seconds and sizes."""
    fitted = fit(models.family("rf"), params, data, seed=42)
    scored, timings = score_splits(fitted, (data.val, data.test))
    metrics = {}
    for split, (labels, proba) in scored.items():
        metrics |= split_metrics(split, labels, proba)
    with mlflow.start_run():
        uri = tracking.log_model(fitted.classifier, data.val.x[:5], "rf")
    logged = Path(mlflow.artifacts.download_artifacts(uri, dst_path=str(workdir / uri.rpartition("/")[2])))
    figures = {
        "val_accuracy": round(metrics["val_accuracy"], 4),
        "test_accuracy": round(metrics["test_accuracy"], 4),
        "fit_seconds": round(timings["fit_seconds"], 1),
        "nodes": sum(tree.tree_.node_count for tree in fitted.classifier.estimator[-1].estimators_),
        "logged_model_mib": round(folder_mib(logged), 1),
        "skops_logged_mib": round((logged / "model.skops").stat().st_size / MIB, 1),
        "skops_stored_mib": round(len(skops.io.dumps(fitted.classifier.estimator)) / MIB, 1),
    }
    if compare_compressions:
        figures["skops_compressions"] = compressions(fitted.classifier.estimator)
    return figures


def main() -> None:
    """Measure every forest of FORESTS on full MNIST and report the one selected on validation."""
    data = load_mnist()
    with tempfile.TemporaryDirectory() as folder:
        mlflow.set_tracking_uri(store_uri(Path(folder)))
        mlflow.set_experiment("bench")
        figures = {name: measure(params, data, Path(folder), name == "200 trees") for name, params in FORESTS.items()}
    before = figures["200 trees"]
    kept = [name for name, forest in figures.items() if forest["val_accuracy"] >= before["val_accuracy"]]
    selected = min(kept, key=lambda name: figures[name]["logged_model_mib"])
    figures["selected"] = selected
    figures["load_average_1_5_15_min"] = [round(load, 1) for load in os.getloadavg()]  # others' jobs slow the seconds
    after = figures[selected]
    goals = [
        (f"{selected}: val accuracy, not below 200 trees' {before['val_accuracy']}", after["val_accuracy"],
         ">=", before["val_accuracy"]),
        (f"{selected}: test accuracy (200 trees: {before['test_accuracy']})", after["test_accuracy"], ">=", 0.968),
        # A make run store of 313 MB had 57 MB besides the forest; the goal for the store is 80 MB: 23 MB, 21.9 MiB.
        (f"{selected}: logged model, MiB (200 trees stored: {before['skops_stored_mib']})",
         after["logged_model_mib"], "<=", 21.9),
    ]  # fmt: skip
    print(write_report("forest", figures, goals).read_text())


if __name__ == "__main__":
    main()
