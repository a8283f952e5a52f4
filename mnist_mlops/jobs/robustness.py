"""The robustness job: a served model's test accuracy under corruptions, on its own run linked to
the run that evaluated the model (and to its registered version, whose tags carry the mean)."""

import logging
import time
from dataclasses import asdict, dataclass
from functools import partial

import numpy as np
import pandas as pd

from mnist_mlops import registry, tracking
from mnist_mlops.config import RobustnessConfig
from mnist_mlops.data import load_mnist
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.evaluate.report import Report
from mnist_mlops.evaluate.robustness import REFUSED, paper_report, robustness_report
from mnist_mlops.jobs.feedback import feedback_accuracy
from mnist_mlops.serving.inputs import IMAGE_COLUMN, encode_image, image_requests
from mnist_mlops.serving.model import NOT_ONE, answer_all, load_served
from mnist_mlops.tracking.feedback import Correction, corrections

log = logging.getLogger(__name__)
MEANS = ("robust_mean_accuracy", "robust_paper_mean_accuracy")  # what the source run and version record
FEEDBACK = ("feedback_accuracy", "feedback_images")  # --suite feedback: also recorded on the version


@dataclass
class RobustnessResult:
    """What a robustness run measured."""

    run_id: str
    metrics: dict[str, float]  # robust_{corruption}_accuracy, robust_paper_{kind}_accuracy, the means, seconds
    tables: dict[str, pd.DataFrame]  # accuracy and share refused per corruption (clean first), per paper


def served_digits(model, input_format: str, images: np.ndarray) -> np.ndarray:
    """The digits a served model answers for (n, 28, 28) images sent as PNGs or as pixel rows;
    REFUSED for an image it refuses or reads as several digits."""
    if input_format == "rows":
        requests = pd.DataFrame(images.reshape(len(images), -1))
    else:
        images = np.round(images * 255) / 255  # as a PNG carries them
        requests = pd.DataFrame({IMAGE_COLUMN: [encode_image(image) for image in images]})
    return answered_digits(model, requests)


def photographed_digits(model, photos: list[bytes]) -> np.ndarray:
    """The digits a served model answers for encoded photos; REFUSED where it answers none or several."""
    return answered_digits(model, image_requests(photos))


def answered_digits(model, requests: pd.DataFrame) -> np.ndarray:
    """A served model's digit for each request row; REFUSED where it answers none (refused) or several."""
    digits = answer_all(model, requests)["digit"].to_numpy()
    return np.where(digits == NOT_ONE, REFUSED, digits)


def feedback_set() -> list[Correction]:
    """The feedback set (the images people corrected on the playground); a clear error while it is empty."""
    feedback = corrections()
    if not feedback:
        raise MnistMlopsError("no feedback yet: correct a wrong answer on the page of `mnist-mlops playground`")
    return feedback


def source_tags(source: registry.Source) -> dict[str, str]:
    """The tags that link a robustness run to the model's source run and registered version."""
    links = {"source_run_id": source.run_id, "registered_version": source.version}
    return {key: value for key, value in links.items() if value}


def run_robustness(config: RobustnessConfig) -> RobustnessResult:
    """Measure a served model under every corruption at one severity, as one run; a report on the
    whole test set is also recorded on the model's source run and registered version."""
    tracking.use_tracking(config.experiment)
    source = registry.source_of(config.model_uri)
    model = load_served(config.model_uri)
    feedback = feedback_set() if config.suite == "feedback" else []  # before a run is opened
    test = load_mnist(config.data_dir).test
    images, labels = test.images[: config.limit, ..., 0], test.y[: config.limit]
    tags = {"model_kind": "robustness", "model_uri": config.model_uri, **source_tags(source)}
    with tracking.run("robustness", tags) as run_id:
        tracking.log_params(asdict(config))
        start = time.perf_counter()
        report = Report()
        if config.suite in ("all", "corruptions"):
            digits_of = partial(served_digits, model, config.input_format)
            report = robustness_report(digits_of, images, labels, config.severity, config.seed)
        if config.suite in ("all", "paper"):
            papers = min(config.paper_images, len(labels))
            paper = paper_report(partial(photographed_digits, model), images[:papers], labels[:papers], config.seed)
            report = Report(
                report.metrics | paper.metrics, report.tables | paper.tables, report.figures | paper.figures
            )
        if feedback:
            report = Report({"feedback_accuracy": feedback_accuracy(model, feedback), "feedback_images": len(feedback)})
        report.metrics["robustness_seconds"] = time.perf_counter() - start
        tracking.log_report(report)
        for file_name, table in report.tables.items():  # also as tables the UI compares across runs
            tracking.log_table(table.reset_index(), file_name.replace(".csv", ".json"))
        means = {name: report.metrics[name] for name in MEANS if name in report.metrics}
        said = ", ".join(f"{name} {report.metrics[name]:.4f}" for name in (*MEANS, *FEEDBACK) if name in report.metrics)
        log.info(f"robustness of {config.model_uri}: {said}")
        if means and len(labels) == len(test) and source.run_id:
            tracking.annotate(source.run_id, means, {"robustness_run_id": run_id})
        if means and len(labels) == len(test) and source.version:
            registry.record_robustness(source.version, means, config.severity, run_id)
        if config.suite == "feedback" and source.version:
            registry.record_feedback(source.version, *(report.metrics[name] for name in FEEDBACK))
    return RobustnessResult(run_id, report.metrics, report.tables)
