"""The feedback set as a test: how many of the images people corrected a version reads right."""

from mnist_mlops import registry
from mnist_mlops.serving.inputs import image_requests
from mnist_mlops.serving.model import answer_all
from mnist_mlops.tracking.feedback import Correction, corrections


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
    scores = {}
    for reference in references:
        scores[reference] = None
        if feedback:
            scores[reference] = feedback_accuracy(registry.load(reference), feedback), len(feedback)
            registry.record_feedback(str(registry.resolve(reference).version), *scores[reference])
    return scores


def feedback_text(score: tuple[float, int] | None) -> str:
    """A feedback score as the commands print it."""
    return "no feedback yet" if score is None else f"{score[0]:.4f} on {score[1]} corrected images"
