"""The feedback set: images people said a model read wrong, with what they hold, kept as artifacts of
one `feedback` run in the tracking store. Each correction is a new file; none is ever overwritten."""

import re
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import mlflow

EXPERIMENT = "mnist-feedback"
TAG = ("mnist_mlops.feedback", "true")  # marks the run that holds the set
FOLDER = "feedback"  # its artifacts: {time}-{id}-is-{number}.png
NAMED = re.compile(r"-is-(\d+)\.png$")


@dataclass(frozen=True)
class Correction:
    """One image of the feedback set and the number a person said it holds."""

    name: str
    image: bytes  # the image as sent (PNG)
    number: str


def feedback_run(create: bool) -> str | None:
    """The id of the run holding the feedback set; made (and ended, FINISHED) when create and there is none."""
    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name(EXPERIMENT)
    if experiment is None and not create:
        return None
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(EXPERIMENT)
    found = client.search_runs([experiment_id], f"tags.`{TAG[0]}` = '{TAG[1]}'", max_results=1)
    if found or not create:
        return found[0].info.run_id if found else None
    run = client.create_run(experiment_id, tags={TAG[0]: TAG[1]}, run_name="feedback")
    client.set_terminated(run.info.run_id, "FINISHED")
    return run.info.run_id


def add_correction(image: bytes, number: str) -> str:
    """Add an image and the number it holds to the feedback set; return the new file's name."""
    if not number.isdigit():
        raise ValueError(f"a correction is the digits the image holds, not {number!r}")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    name = f"{stamp}-{uuid.uuid4().hex[:8]}-is-{number}.png"  # unique: two people never overwrite each other
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(image)
        mlflow.MlflowClient().log_artifact(feedback_run(create=True), str(path), FOLDER)
    return name


def correction_count() -> int:
    """How many images the feedback set holds (its files listed, none read)."""
    run_id = feedback_run(create=False)
    return 0 if run_id is None else len(mlflow.MlflowClient().list_artifacts(run_id, FOLDER))


def corrections() -> list[Correction]:
    """The whole feedback set, oldest first; empty when there is none."""
    run_id = feedback_run(create=False)
    if run_id is None or not mlflow.MlflowClient().list_artifacts(run_id, FOLDER):
        return []
    with tempfile.TemporaryDirectory() as folder:
        local = Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=FOLDER, dst_path=folder))
        return [
            Correction(path.name, path.read_bytes(), match.group(1))
            for path in sorted(local.glob("*.png"))
            if (match := NAMED.search(path.name))
        ]
