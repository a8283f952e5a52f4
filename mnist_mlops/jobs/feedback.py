"""The feedback set as a test: how many of the images people corrected a version reads right."""

import base64

import pandas as pd

from mnist_mlops import registry
from mnist_mlops.serving.inputs import IMAGE_COLUMN, MAX_ROWS
from mnist_mlops.tracking.feedback import Correction, corrections


def answered_numbers(model, images: list[bytes]) -> list[str | None]:
    """A served model's number for each encoded image; None where it refuses the image."""
    requests = pd.DataFrame({IMAGE_COLUMN: [base64.b64encode(image).decode() for image in images]})
    answers = [model.predict(requests.iloc[start : start + MAX_ROWS], params={"answer_refused": True})
               for start in range(0, len(requests), MAX_ROWS)]  # fmt: skip
    table = pd.concat(answers, ignore_index=True)
    refused = table["refused"] if "refused" in table else [""] * len(table)  # "" for an image it read
    return [None if reason else number for number, reason in zip(table["number"], refused, strict=True)]


def feedback_accuracy(model, feedback: list[Correction]) -> float:
    """The share of the feedback set's images whose number a served model reads as people said."""
    said = answered_numbers(model, [correction.image for correction in feedback])
    return sum(number == correction.number for number, correction in zip(said, feedback, strict=True)) / len(feedback)


def score_version(reference: str) -> tuple[float, int] | None:
    """A registered version's accuracy on the feedback set and the set's size, recorded on the version
    (tags feedback_accuracy, feedback_images); None when there is no feedback yet."""
    feedback = corrections()
    if not feedback:
        return None
    accuracy = feedback_accuracy(registry.load(reference), feedback)
    version = str(registry.resolve(reference).version)
    registry.tag_version(version, {"feedback_accuracy": f"{accuracy:.6f}", "feedback_images": str(len(feedback))})
    return accuracy, len(feedback)


def feedback_text(score: tuple[float, int] | None) -> str:
    """A feedback score as the commands print it."""
    return "no feedback yet" if score is None else f"{score[0]:.4f} on {score[1]} corrected images"
