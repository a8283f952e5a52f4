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


def champion_test_accuracy() -> tuple[str, float] | None:
    """Return the champion's version and test accuracy, or None when there is no champion."""
    try:
        champion = resolve(CHAMPION)
    except LookupError:
        return None
    return str(champion.version), float(champion.tags["test_accuracy"])


def register_challenger(
    model_uri: str, family: str, test_accuracy: float, val_accuracy: float, source_run_id: str
) -> Promotion:
    """Register a model as a new `challenger` version; move `champion` to it only if it beats the
    champion's test accuracy (or there is none); record the decision and both figures as tags.
    source_run_id names the run whose evaluation figures describe the model."""
    client = MlflowClient()
    tags = {
        "model_family": family,
        "test_accuracy": f"{test_accuracy:.6f}",
        "val_accuracy": f"{val_accuracy:.6f}",
        "source_run_id": source_run_id,
    }
    version = str(mlflow.register_model(model_uri, MODEL_NAME, tags=tags).version)
    client.set_registered_model_alias(MODEL_NAME, CHALLENGER, version)
    current = champion_test_accuracy()
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
    evidence = {"promotion_decision": decision, "challenger_test_accuracy": f"{test_accuracy:.6f}"}
    if current is not None:
        evidence["champion_test_accuracy"] = f"{current[1]:.6f}"
    record_promotion(version, promoted, evidence)
    return Promotion(version, promoted, decision, test_accuracy, None if current is None else current[1])


def resolve(reference: str):
    """Return the version a number ('3') or an alias ('champion', '@champion') names."""
    client = MlflowClient()
    name = reference.lstrip("@")
    try:
        if name.isdigit():
            return client.get_model_version(MODEL_NAME, name)
        return client.get_model_version_by_alias(MODEL_NAME, name)
    except MlflowException as error:
        raise LookupError(f"{MODEL_NAME} has no version or alias {reference!r}") from error


def load(reference: str):
    """Load a registered version as a pyfunc model."""
    version = resolve(reference)
    return mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}/{version.version}")


def versions() -> list:
    """Return every version of the registered model, newest first."""
    found = MlflowClient().search_model_versions(f"name = '{MODEL_NAME}'")
    return sorted(found, key=lambda version: int(version.version), reverse=True)


def aliases() -> dict[str, list[str]]:
    """Map each version to its aliases (search results do not carry them)."""
    try:
        model = MlflowClient().get_registered_model(MODEL_NAME)
    except MlflowException:
        return {}
    found: dict[str, list[str]] = {}
    for alias, version in model.aliases.items():
        found.setdefault(str(version), []).append(alias)
    return found


def record_promotion(version: str, promoted: bool, tags: dict[str, str]) -> None:
    """Move `champion` to version if promoted, and write the evidence as tags on it."""
    client = MlflowClient()
    if promoted:
        client.set_registered_model_alias(MODEL_NAME, CHAMPION, version)
    for key, value in tags.items():
        client.set_model_version_tag(MODEL_NAME, version, key, value)
