"""The feedback set: corrections added from files, and as a test: how many of the images people
corrected a version reads right."""

import io
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from mnist_mlops import registry, tracking
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.evaluate.promotion import HeldOut
from mnist_mlops.serving.inputs import image_requests
from mnist_mlops.serving.model import answer_all
from mnist_mlops.tracking.feedback import (
    Correction,
    add_corrections,
    check_correction,
    correction_count,
    corrections,
)

HELD_OUT = "held_out.json"  # a retrain run's artifact: {"corrections": the names of those it held out}


def correction_png(path: Path) -> bytes:
    """A PNG or JPEG file as the feedback set keeps it, PNG (a JPEG's pixels re-encoded); a clear error
    for any other file."""
    data = path.read_bytes()
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ("PNG", "JPEG"):
                raise MnistMlopsError(f"{path}: a {image.format} image; the feedback set takes PNG or JPEG")
            image.load()  # a truncated file fails here, not when it is scored
            if image.format == "PNG":
                return data
            png = io.BytesIO()
            image.save(png, format="PNG")
            return png.getvalue()
    except (UnidentifiedImageError, OSError) as error:
        raise MnistMlopsError(f"{path}: not a PNG or JPEG image ({error})") from error


def add_feedback(paths: list[Path], label: str, request: str | None) -> tuple[list[str], int]:
    """Add image files that hold label to the feedback set, every file checked before any is added;
    return the new names and the set's size."""
    try:
        check_correction(label, request)
    except ValueError as error:
        raise MnistMlopsError(str(error)) from error
    images = [correction_png(path) for path in paths]
    tracking.use_tracking_uri()
    names = add_corrections(images, label, request)
    return names, correction_count()


def answered_numbers(model, images: list[bytes]) -> list[str | None]:
    """A served model's number for each encoded image; None where it refuses the image."""
    table = answer_all(model, image_requests(images))
    refused = table["refused"] if "refused" in table else [""] * len(table)  # "" for an image it read
    return [None if reason else number for number, reason in zip(table["number"], refused, strict=True)]


def feedback_accuracy(model, feedback: list[Correction]) -> float:
    """The share of the feedback set's images whose number a served model reads as people said."""
    said = answered_numbers(model, [correction.image for correction in feedback])
    return sum(number == correction.number for number, correction in zip(said, feedback, strict=True)) / len(feedback)


def score_versions(references: list[str]) -> dict[str, tuple[float, int] | None]:
    """Each registered version's accuracy on the feedback set and the set's size, recorded on the version
    (tags feedback_accuracy, feedback_images); None when there is no feedback yet. The set is read once."""
    feedback = corrections()
    scores: dict[str, tuple[float, int] | None] = {}
    for reference in references:
        scores[reference] = None
        if feedback:
            accuracy = feedback_accuracy(registry.load(reference), feedback)
            scores[reference] = accuracy, len(feedback)
            registry.record_feedback(str(registry.resolve(reference).version), accuracy, len(feedback))
    return scores


def feedback_text(score: tuple[float, int] | None) -> str:
    """A feedback score as the commands print it."""
    return "no feedback yet" if score is None else f"{score[0]:.4f} on {score[1]} corrected images"


@dataclass
class HeldOutJudge:
    """The promotion rule's judge: registered versions' accuracy on the held-out corrections, each measured once."""

    held_out: list[Correction]
    scores: dict[str, float] = field(default_factory=dict)  # version -> its accuracy on them
    last: HeldOut | None = None  # what the decision that was applied weighed

    def accuracy(self, version: str) -> float:
        """A registered version's accuracy on the held-out corrections."""
        if version not in self.scores:
            self.scores[version] = feedback_accuracy(registry.load(version), self.held_out)
        return self.scores[version]

    def __call__(self, challenger: str, champion: str | None) -> HeldOut:
        champion_accuracy = None if champion is None else self.accuracy(champion)
        self.last = HeldOut(len(self.held_out), self.accuracy(challenger), champion_accuracy)
        return self.last


def record_held_out(held_out: list[Correction]) -> None:
    """Log the names of the corrections held out on the active run, so the version can be judged again."""
    tracking.log_json({"corrections": [correction.name for correction in held_out]}, HELD_OUT)


def held_out_judge(reference: str) -> HeldOutJudge | None:
    """The judge of a version retrained from corrections, on those its run held out; None for any other."""
    version = registry.resolve(reference)
    with tempfile.TemporaryDirectory() as folder:
        path = tracking.download(registry.source_run(version), HELD_OUT, Path(folder))
        names = None if path is None else set(json.loads(path.read_text())["corrections"])
    if names is None:
        return None
    held_out = [correction for correction in corrections() if correction.name in names]
    if len(held_out) != len(names):
        raise MnistMlopsError(f"version {version.version} was judged on {len(names)} held-out corrections, of "
                              f"which the feedback set holds {len(held_out)} now")  # fmt: skip
    return HeldOutJudge(held_out)
