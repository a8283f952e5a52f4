"""Registering a trained model: the one way every job offers a model to the registry."""

import logging

from mnist_mlops import registry, tracking
from mnist_mlops.data import Mnist
from mnist_mlops.evaluate.report import Report
from mnist_mlops.models import Classifier
from mnist_mlops.serving.model import log_serving_model

log = logging.getLogger(__name__)


def register(
    classifier: Classifier, classifier_uri: str, family: str, report: Report, data: Mnist, temperature: float = 1.0
) -> registry.Promotion:
    """Log the serving model around a fitted classifier, logged at classifier_uri (with its
    calibration temperature), on the active run, register it as the challenger and let the
    promotion rule decide on its paired test predictions; tag the run."""
    source_run_id = tracking.active_run_id()
    network = classifier.estimator if classifier.flavor == "keras" else None
    served_uri = log_serving_model(classifier_uri, network, data.val.x[:5], temperature)
    scores = {key: value for key, value in report.metrics.items() if key.startswith(("val_", "test_"))}
    tracking.log_model_metrics(served_uri, scores, data)
    promotion = registry.register(served_uri, family, report.metrics, source_run_id, data.test, report.test_digits)
    log.info(f"{family}: registered as version {promotion.version} of {registry.MODEL_NAME}, {promotion.decision}")
    tracking.log_metrics({"registered_version": float(promotion.version)})
    tracking.set_tags({"registered_version": promotion.version, "promotion_decision": promotion.decision})
    return promotion
