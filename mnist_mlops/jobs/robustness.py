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
from mnist_mlops.evaluate.robustness import REFUSED, robustness_report
from mnist_mlops.serving.inputs import IMAGE_COLUMN, MAX_ROWS, InputError, check_ink, encode_image
from mnist_mlops.serving.model import load_served

log = logging.getLogger(__name__)


@dataclass
class RobustnessResult:
    """What a robustness run measured."""

    run_id: str
    metrics: dict[str, float]  # robust_{corruption}_accuracy, robust_mean_accuracy, robustness_seconds
    table: pd.DataFrame  # accuracy and share refused per corruption, clean first


def has_ink(gray: np.ndarray) -> bool:
    """Whether the served model finds a digit to answer for in an image (it refuses the others)."""
    try:
        check_ink(gray)
    except InputError:
        return False
    return True


def served_digits(model, input_format: str, images: np.ndarray) -> np.ndarray:
    """The digits a served model answers for (n, 28, 28) images sent as PNGs or as pixel rows;
    REFUSED for an image it refuses for having no digit."""
    digits = np.full(len(images), REFUSED)
    if input_format == "rows":
        answerable, requests = np.arange(len(images)), pd.DataFrame(images.reshape(len(images), -1))
    else:
        images = np.round(images * 255) / 255  # as a PNG carries them
        answerable = np.flatnonzero([has_ink(image) for image in images])
        requests = pd.DataFrame({IMAGE_COLUMN: [encode_image(images[i]) for i in answerable]})
    for start in range(0, len(answerable), MAX_ROWS):
        answer = model.predict(requests.iloc[start : start + MAX_ROWS])
        digits[answerable[start : start + MAX_ROWS]] = answer["digit"].to_numpy()
    return digits


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
    test = load_mnist(config.data_dir).test
    images, labels = test.images[: config.limit, ..., 0], test.y[: config.limit]
    tags = {"model_kind": "robustness", "model_uri": config.model_uri, **source_tags(source)}
    with tracking.run("robustness", tags) as run_id:
        tracking.log_params(asdict(config))
        start = time.perf_counter()
        digits_of = partial(served_digits, model, config.input_format)
        report = robustness_report(digits_of, images, labels, config.severity, config.seed)
        report.metrics["robustness_seconds"] = time.perf_counter() - start
        tracking.log_report(report)
        mean, whole_test_set = report.metrics["robust_mean_accuracy"], len(labels) == len(test)
        log.info(f"robustness of {config.model_uri}: robust_mean_accuracy {mean:.4f} over {len(labels)} test images")
        if whole_test_set and source.run_id:
            tracking.annotate(source.run_id, {"robust_mean_accuracy": mean}, {"robustness_run_id": run_id})
        if whole_test_set and source.version:
            registry.record_robustness(source.version, mean, config.severity, run_id)
    return RobustnessResult(run_id, report.metrics, report.tables["robustness.csv"])
