"""The MLflow Model Registry: versions of `mnist-digits`, the aliases `challenger` and `champion`,
and the promotion decision recorded on each version."""

from dataclasses import dataclass

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

MODEL_NAME = "mnist-digits"
CHAMPION = "champion"
CHALLENGER = "challenger"


@dataclass(frozen=True)
class Promotion:
    """What registering a candidate decided."""

    version: str
    promoted: bool
    decision: str  # one sentence, also written as a tag on the version
    challenger_test_accuracy: float
    champion_test_accuracy: float | None  # the champion's before the decision; None if there was none


def champion_test_accuracy(client: MlflowClient) -> tuple[str, float] | None:
    """Return the champion's version and test accuracy, or None when there is no champion."""
    try:
        champion = client.get_model_version_by_alias(MODEL_NAME, CHAMPION)
    except MlflowException:
        return None
    return champion.version, float(champion.tags["test_accuracy"])


def register_challenger(model_uri: str, family: str, test_accuracy: float, val_accuracy: float) -> Promotion:
    """Register a model as a new `challenger` version; move `champion` to it only if it beats the
    champion's test accuracy (or there is none); record the decision and both figures as tags."""
    client = MlflowClient()
    tags = {"model_family": family, "test_accuracy": f"{test_accuracy:.6f}", "val_accuracy": f"{val_accuracy:.6f}"}
    version = str(mlflow.register_model(model_uri, MODEL_NAME, tags=tags).version)
    client.set_registered_model_alias(MODEL_NAME, CHALLENGER, version)
    current = champion_test_accuracy(client)
    if current is None:
        promoted, decision = True, f"promoted: no champion before version {version}"
    elif test_accuracy > current[1]:
        promoted, decision = (
            True,
            f"promoted: test accuracy {test_accuracy:.4f} beats champion v{current[0]}'s {current[1]:.4f}",
        )
    else:
        promoted, decision = (
            False,
            f"kept champion v{current[0]}: its test accuracy {current[1]:.4f} >= {test_accuracy:.4f}",
        )
    if promoted:
        client.set_registered_model_alias(MODEL_NAME, CHAMPION, version)
    client.set_model_version_tag(MODEL_NAME, version, "promotion_decision", decision)
    client.set_model_version_tag(MODEL_NAME, version, "challenger_test_accuracy", f"{test_accuracy:.6f}")
    if current is not None:
        client.set_model_version_tag(MODEL_NAME, version, "champion_test_accuracy", f"{current[1]:.6f}")
    return Promotion(version, promoted, decision, test_accuracy, None if current is None else current[1])
