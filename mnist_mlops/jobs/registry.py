"""Registry jobs: list the versions, compare two on the test set, promote with evidence."""

import numpy as np
import pandas as pd

from mnist_mlops import registry, tracking
from mnist_mlops.data import load_mnist
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.evaluate.compare import PairedComparison, compare_predictions


def version_table() -> pd.DataFrame:
    """One row per version: aliases, source run, family, test accuracy and promotion decision."""
    tracking.use_tracking_uri()
    named = registry.aliases()
    rows = [
        {
            "version": int(v.version),
            "aliases": ",".join(sorted(named.get(str(v.version), []))),
            "run_id": v.run_id,
            "family": v.tags.get("model_family", ""),
            "test_accuracy": float(v.tags["test_accuracy"]) if "test_accuracy" in v.tags else np.nan,
            "decision": v.tags.get("promotion_decision", ""),
        }
        for v in registry.versions()
    ]
    return pd.DataFrame(rows, columns=["version", "aliases", "run_id", "family", "test_accuracy", "decision"])


def resolved(reference: str):
    """The version a reference names, or a clear error."""
    try:
        return registry.resolve(reference)
    except LookupError as error:
        raise MnistMlopsError(str(error)) from error


def predicted_digits(reference: str, rows: np.ndarray) -> np.ndarray:
    """Predict digits with a registered version."""
    return registry.load(reference).predict(pd.DataFrame(rows))["digit"].to_numpy()


def compare_versions(a: str, b: str, data_dir: str | None = None) -> PairedComparison:
    """Evaluate two versions on the 10,000 test images and compare them."""
    tracking.use_tracking_uri()
    resolved(a), resolved(b)
    test = load_mnist(data_dir).test
    return compare_predictions(test.y, predicted_digits(a, test.x), predicted_digits(b, test.x))


def promote_version(candidate: str, force: bool = False, data_dir: str | None = None) -> tuple[bool, str]:
    """Move `champion` to candidate if it is more accurate and McNemar's test says so at 5%
    (or force); write the evidence as tags on the candidate; return the decision."""
    tracking.use_tracking_uri()
    version = str(resolved(candidate).version)
    try:
        champion = str(registry.resolve(registry.CHAMPION).version)
    except LookupError:
        registry.record_promotion(version, True, {"promotion_decision": "promoted: no champion before"})
        return True, f"version {version} is champion: there was none"
    if champion == version:
        return False, f"version {version} is the champion already"
    result = compare_versions(version, champion, data_dir)
    better = result.difference > 0 and result.significant()
    promoted = better or force
    verdict = "promoted" if promoted else "not promoted"
    reason = (
        f"accuracy {result.accuracy_a:.4f} vs champion v{champion}'s {result.accuracy_b:.4f}, "
        f"difference {result.difference:+.4f} (95% CI {result.ci_low:+.4f} to {result.ci_high:+.4f}), "
        f"McNemar p={result.p_value:.3g}" + ("; forced" if force and not better else "")
    )
    tags = {
        "promotion_decision": f"{verdict}: {reason}",
        "mcnemar_p_value": f"{result.p_value:.6g}",
        "compared_with_version": champion,
        "test_accuracy_difference": f"{result.difference:.6f}",
    }
    registry.record_promotion(version, promoted, tags)
    return promoted, f"version {version} {verdict}: {reason}"
