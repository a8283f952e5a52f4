"""The retrain job: a challenger trained on MNIST's training images and the feedback set's corrections,
judged with the champion on the most recent corrections, held out of its training, and registered: the
one promotion rule promotes it if it is not significantly worse on the test set and better on those."""

import logging
from dataclasses import asdict, dataclass

from mnist_mlops import models, registry, tracking
from mnist_mlops.data import load_mnist
from mnist_mlops.jobs.feedback import HeldOutJudge, record_held_out
from mnist_mlops.jobs.record import record
from mnist_mlops.jobs.train import fit_members
from mnist_mlops.retraining.config import RetrainConfig
from mnist_mlops.retraining.corrections import check_readable, correction_digits, held_out_split, with_corrections
from mnist_mlops.tracking.feedback import corrections

log = logging.getLogger(__name__)


@dataclass
class RetrainResult:
    """What a retraining run produced."""

    run_id: str
    metrics: dict[str, float]  # the challenger's {split}_{metric}, feedback_accuracy, champion_feedback_accuracy
    promotion: registry.Promotion  # what the promotion rule decided


def run_retraining(config: RetrainConfig) -> RetrainResult:
    """Retrain from the corrections as one run; a feedback set without enough corrections, or with an image
    that cannot be read, is refused before the run is opened."""
    tracking.use_tracking_uri()
    training, held_out = held_out_split(corrections(), config.held_out, config.min_held_out)
    check_readable(held_out)  # refused here, not scored as a wrong answer of both versions
    x, y, skipped = correction_digits(training)
    log.info(f"retrain: {len(training) - len(skipped)} corrections to learn from ({len(x)} digits, "
             f"{len(skipped)} skipped: not as many digits found as said), {len(held_out)} held out")  # fmt: skip
    mnist = load_mnist(config.data_dir, config.val_fraction, config.limit, config.seed)
    data = with_corrections(mnist, x, y, config.copies, config.seed)
    train_config, family, judge = config.train_config(), models.family(config.arch), HeldOutJudge(held_out)
    tracking.use_tracking(config.experiment)
    tags = {"model_family": config.arch, "model_kind": family.kind}
    with tracking.run("retrain", tags, system_metrics=config.system_metrics) as run_id:
        params = family.hyperparameters(train_config)
        tracking.log_params({**asdict(config), **params})
        tracking.log_datasets(data)
        record_held_out(held_out)
        counts = {"corrections": len(training) - len(skipped), "corrections_skipped": len(skipped),
                  "correction_images": len(x) * config.copies}  # fmt: skip
        tracking.log_metrics({f"train_{name}": float(value) for name, value in counts.items()})
        fitted, _ = fit_members(train_config, family, params, data)
        name = f"{models.model_name(config.arch, members=config.members)}-retrained"
        step = fitted.epochs.run + 1
        recorded = record(fitted, data, config.arch, name, name, config.seed, True, step, judge=judge)
        promotion, held = recorded.registered(), judge.last
        assert held is not None  # the rule asked the judge
        registry.record_feedback(promotion.version, held.challenger, held.images)
        judged = {"feedback_accuracy": held.challenger, "feedback_images": float(held.images)}
        if held.champion is not None:
            judged["champion_feedback_accuracy"] = held.champion
        tracking.log_metrics(judged)
    return RetrainResult(run_id, recorded.metrics | judged, promotion)
