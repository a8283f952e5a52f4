"""Recording a fitted model: the one way every job evaluates what it fitted, logs the model with
its report and linked metrics, and offers it to the registry."""

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mnist_mlops import registry, tracking
from mnist_mlops.data import Mnist
from mnist_mlops.evaluate.promotion import Judge
from mnist_mlops.evaluate.report import Report, evaluate, found
from mnist_mlops.models import Classifier
from mnist_mlops.monitoring.baseline import BASELINE, BASELINE_IMAGES, baseline
from mnist_mlops.serving.model import answer_all, load_served, log_serving_model
from mnist_mlops.train.fitting import Fitted

log = logging.getLogger(__name__)
N_EXAMPLES = 5  # validation rows logged with every model as its input example


@dataclass
class Recorded:
    """What recording a fitted model left."""

    metrics: dict[str, float]  # {split}_{metric}, timings and size
    model_uri: str  # the logged classifier, loadable with mlflow.pyfunc.load_model
    promotion: registry.Promotion | None  # what the registry decided, when the model was offered to it

    def registered(self) -> registry.Promotion:
        """What the registry decided, for a model recorded with register."""
        assert self.promotion is not None, "recorded without register"
        return self.promotion


def record(
    fitted: Fitted, data: Mnist, family: str, name: str, title: str, seed: int, register: bool = False,
    step: int = 0, said: str | None = None, judge: Judge | None = None,
) -> Recorded:  # fmt: skip
    """Evaluate a fitted model on every split and say what it found (as said, or title); log it as
    name (models.model_name), its report and its metrics linked to it at step on the active run; with
    register, register it (judge: the rule also weighs held-out corrections)."""
    report = evaluate(fitted, data, title, seed)
    log.info(found(said or title, report.metrics))
    example = data.val.x[:N_EXAMPLES]
    model_uri = tracking.log_model(fitted.classifier, example, name)
    tracking.log_report(report, step=step, model_uri=model_uri, data=data)
    promotion = offer(fitted.classifier, model_uri, family, name, report, data, example, judge) if register else None
    return Recorded(report.metrics, model_uri, promotion)


def offer(
    classifier: Classifier, classifier_uri: str, family: str, name: str, report: Report, data: Mnist,
    example: np.ndarray, judge: Judge | None = None,
) -> registry.Promotion:  # fmt: skip
    """Log the serving model around a classifier logged at classifier_uri on the active run, register it
    as the challenger and let the promotion rule decide on its paired test predictions; tag the run. Its
    baseline for `monitor` is logged first, so that no version is without one."""
    source_run_id = tracking.active_run_id()
    network = classifier.estimator if classifier.flavor == "keras" else None
    served_uri = log_serving_model(classifier_uri, network, example, name)
    record_baseline(served_uri, data)
    scores = {key: value for key, value in report.metrics.items() if key.startswith(("val_", "test_"))}
    tracking.log_model_metrics(served_uri, scores, data)
    test_digits = report.test_digits
    assert test_digits is not None  # evaluate() predicts the test split
    promotion = registry.register(
        served_uri, family, name, report.metrics, source_run_id, data.test, test_digits, judge
    )
    log.info(f"{family}: registered as version {promotion.version} of {registry.MODEL_NAME}, {promotion.decision}")
    tracking.log_metrics({"registered_version": float(promotion.version)})
    tracking.set_tags({"registered_version": promotion.version, "promotion_decision": promotion.decision})
    return promotion


def record_baseline(served_uri: str, data: Mnist) -> None:
    """Log on the active run the served model's answers to the first validation images, as it answers them
    (loaded, its answers kept out of any inference log): the baseline `monitor` compares its windows with."""
    rows = data.val.x[:BASELINE_IMAGES]
    answers = answer_all(load_served(served_uri, recorded=False), pd.DataFrame(rows))
    tracking.log_table(baseline(np.stack(answers["probabilities"].to_numpy()), rows), BASELINE)
