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
FOLDER = "feedback"  # its artifacts: {time}-{id}[-request-{request id}]-is-{number}.png
NAMED = re.compile(r"(?:-request-([0-9A-Za-z]+))?-is-([0-9]+)\.png$")
REQUEST = re.compile(r"[0-9A-Za-z]{1,64}")  # a request id as the inference log writes it (no dash: names parse)


@dataclass(frozen=True)
class Correction:
    """One image of the feedback set and the number a person said it holds."""

    name: str
    image: bytes  # the image as sent (PNG)
    number: str
    request: str | None = None  # the request whose answer it corrects, when it was named


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


def check_correction(number: str, request: str | None) -> None:
    """A ValueError unless number is digits and request, if given, an id as the inference log writes it."""
    if not re.fullmatch(r"[0-9]+", number):
        raise ValueError(f"a correction is the digits the image holds, not {number!r}")
    if request is not None and not REQUEST.fullmatch(request):
        raise ValueError(
            f"a request id is up to 64 letters and digits, as the inference log writes it, not {request!r}"
        )


def add_corrections(images: list[bytes], number: str, request: str | None = None) -> list[str]:
    """Add PNG images that all hold number to the feedback set, in one upload, optionally naming the
    request whose answer they correct; return the new files' names."""
    check_correction(number, request)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    named = f"-request-{request}" if request else ""
    # unique: two people never overwrite each other
    names = [f"{stamp}-{uuid.uuid4().hex[:8]}{named}-is-{number}.png" for _ in images]
    run_id = feedback_run(create=True)
    assert run_id is not None  # made when there is none
    with tempfile.TemporaryDirectory() as folder:
        for name, image in zip(names, images, strict=True):
            (Path(folder) / name).write_bytes(image)
        mlflow.MlflowClient().log_artifacts(run_id, folder, FOLDER)
    return names


def add_correction(image: bytes, number: str, request: str | None = None) -> str:
    """Add an image and the number it holds to the feedback set (naming the request whose answer it
    corrects, if given); return the new file's name."""
    return add_corrections([image], number, request)[0]


def correction_count() -> int:
    """How many images the feedback set holds (its files listed, none read)."""
    run_id = feedback_run(create=False)
    return 0 if run_id is None else len(mlflow.MlflowClient().list_artifacts(run_id, FOLDER))


def request_labels() -> dict[str, str]:
    """The number each correction naming a request says its image holds (the newest, when several name it),
    read from the files' names alone."""
    run_id = feedback_run(create=False)
    names = [] if run_id is None else mlflow.MlflowClient().list_artifacts(run_id, FOLDER)
    found = (NAMED.search(Path(artifact.path).name) for artifact in sorted(names, key=lambda artifact: artifact.path))
    return {match.group(1): match.group(2) for match in found if match and match.group(1)}


def corrections() -> list[Correction]:
    """The whole feedback set, oldest first; empty when there is none."""
    run_id = feedback_run(create=False)
    if run_id is None or not mlflow.MlflowClient().list_artifacts(run_id, FOLDER):
        return []
    with tempfile.TemporaryDirectory() as folder:
        local = Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=FOLDER, dst_path=folder))
        return [
            Correction(path.name, path.read_bytes(), match.group(2), match.group(1))
            for path in sorted(local.glob("*.png"))
            if (match := NAMED.search(path.name))
        ]
