"""The docs' pictures of a `make run` store, taken from what the main job logged: the champion's
confusion matrix, its robustness charts, and the offline dashboard opened in headless Chromium.

Run `make run` first, then `python -m bench.pictures [STORE]` (STORE: the SQLite file, default
./mlflow.db); the pictures go to docs/. The MLflow UI's and the playground's are taken by their
tests (`make pictures` runs both).
"""

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import mlflow
from mlflow import MlflowClient

from bench.common import REPO
from bench.playground import browser
from mnist_mlops.jobs.dashboard import build_dashboard

DOCS = REPO / "docs"
LOGGED = {  # picture in docs/ -> (which run logged it, its artifact)
    "confusion-matrix.png": ("source_run_id", "test_confusion_matrix.png"),
    "robustness.png": ("robustness_run_id", "robustness_accuracy.png"),
    "robustness-paper.png": ("robustness_run_id", "robustness_paper.png"),
}


def copy_logged(folder: Path) -> None:
    """Copy the champion's figures from the runs that logged them into docs/."""
    champion = MlflowClient().get_model_version_by_alias("mnist-digits", "champion")
    for picture, (run_tag, artifact) in LOGGED.items():
        run_id = champion.tags[run_tag]
        path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=artifact, dst_path=str(folder))
        shutil.copyfile(path, DOCS / picture)


def dashboard_screenshot(folder: Path) -> None:
    """The dashboard of the main job's experiment, as a browser shows its first screen."""
    page = build_dashboard(["mnist-mlops"], folder / "site")
    driver = browser()
    try:
        driver.get(page.as_uri())
        time.sleep(2)  # its images load from files beside it
        driver.save_screenshot(str(DOCS / "dashboard.png"))
    finally:
        driver.quit()


def main(store: Path) -> None:
    """Take every picture from the store."""
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{store.resolve()}"
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    with tempfile.TemporaryDirectory() as folder:
        copy_logged(Path(folder))
        dashboard_screenshot(Path(folder))
    print(f"pictures in {DOCS}: dashboard.png, {', '.join(LOGGED)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", nargs="?", default="mlflow.db", type=Path)
    main(parser.parse_args().store)
