"""Registry jobs: list the versions, compare two on the test set, promote with evidence."""

import pandas as pd

from mnist_mlops import registry, registry_text, tracking
from mnist_mlops.data import load_mnist
from mnist_mlops.evaluate.compare import PairedComparison, compare_predictions
from mnist_mlops.jobs.feedback import held_out_judge, score_versions


def version_table() -> pd.DataFrame:
    """One row per version: aliases, source run, family, test accuracy and promotion decision."""
    tracking.use_tracking_uri()
    return registry_text.version_table()


def compare_versions(a: str, b: str, data_dir: str | None = None) -> PairedComparison:
    """Evaluate two versions on the 10,000 test images and compare them."""
    tracking.use_tracking_uri()
    registry.resolve(a), registry.resolve(b)
    test = load_mnist(data_dir).test
    return compare_predictions(test.y, registry.predicted_digits(a, test.x), registry.predicted_digits(b, test.x))


def robustness_of(reference: str) -> str:
    """A version's robust_mean_accuracy as the commands print it, or how to measure it."""
    tracking.use_tracking_uri()
    return registry_text.robustness_text(registry.resolve(reference))


def promote_version(candidate: str, force: bool = False, data_dir: str | None = None) -> registry.Promotion:
    """Let the promotion rule decide whether candidate becomes champion (or force it), a version retrained from
    corrections also on those its run held out; with feedback, both versions are tagged with their feedback_accuracy."""
    tracking.use_tracking_uri()
    judge = held_out_judge(candidate)
    promotion = registry.promote(candidate, load_mnist(data_dir).test, force, judge)
    champion = registry.champion_version() or promotion.version
    score_versions(sorted({promotion.version, champion}))  # their feedback_accuracy, if any
    return promotion
