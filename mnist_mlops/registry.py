"""The MLflow Model Registry: versions of `mnist-digits`, the aliases `challenger` and `champion`,
and the promotion rule's decision recorded on each version. Every job registers through register()."""

import contextlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

import mlflow
import numpy as np
import pandas as pd
import requests
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.pyfunc import PyFuncModel
from mlflow.utils.mlflow_tags import MLFLOW_MODEL_VERSIONS

from mnist_mlops import registry_lock
from mnist_mlops.data import Split
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.evaluate.promotion import Decision, Judge, decide
from mnist_mlops.tracking.access import refusal

log = logging.getLogger(__name__)
MODEL_NAME = "mnist-digits"
CHAMPION = "champion"
CHALLENGER = "challenger"
DECISION = "promotion_decision"  # the tag holding a version's decision, one sentence
UNDECIDED = "undecided"  # how a decision that could not be taken begins
ABSENT = "RESOURCE_DOES_NOT_EXIST"  # the one error that means "there is none"; any other is a failure
MAX_ROUNDS = 20  # times a decision is taken again because @champion moved meanwhile


@dataclass(frozen=True)
class Promotion:
    """What registering or promoting a version decided."""

    version: str
    promoted: bool
    decision: str  # one sentence, also written as the tag promotion_decision on the version


def failure(what: str, error: Exception) -> MnistMlopsError:
    """One clear line for a registry request that failed: a server's refusal, else what failed and why."""
    reason = error.message if isinstance(error, MlflowException) else str(error)
    said = refusal(error) or f"the model registry at {mlflow.get_tracking_uri()} failed while {what}: {reason}"
    return MnistMlopsError(" ".join(said.split())[:600])


@contextlib.contextmanager
def asking(what: str) -> Iterator[None]:
    """Turn a failure of the tracking store inside the block into one clear line naming what failed."""
    try:
        yield
    except (MlflowException, requests.RequestException) as error:
        raise failure(what, error) from error


def alias_map() -> dict[str, str]:
    """Each alias of mnist-digits and its version; none while the model does not exist. A missing
    alias is read here, not asked for, since MLflow answers it with the same code as a bad request."""
    try:
        model = MlflowClient().get_registered_model(MODEL_NAME)
    except MlflowException as error:
        if error.error_code == ABSENT:
            return {}
        raise failure(f"reading the aliases of {MODEL_NAME}", error) from error
    return {alias: str(version) for alias, version in model.aliases.items()}


def resolve(reference: str) -> ModelVersion:
    """Return the version a number ('3') or an alias ('champion', '@champion') names, or a clear error."""
    name = reference.lstrip("@")
    number = name if name.isdigit() else alias_map().get(name)
    missing = MnistMlopsError(f"{MODEL_NAME} has no version or alias {reference!r}")
    if number is None:
        raise missing
    try:
        return MlflowClient().get_model_version(MODEL_NAME, number)
    except MlflowException as error:
        if error.error_code == ABSENT:
            raise missing from error
        raise failure(f"reading version {number} of {MODEL_NAME}", error) from error


@dataclass(frozen=True)
class Source:
    """Where a model URI's model came from: the run that evaluated it, and its registered version."""

    run_id: str | None
    version: str | None


def source_of(model_uri: str) -> Source:
    """The source run and version of models:/mnist-digits/N or @alias, or the run of runs:/ID/...;
    neither for any other URI."""
    prefix = f"models:/{MODEL_NAME}"
    if model_uri.startswith((f"{prefix}/", f"{prefix}@")):
        version = resolve(model_uri[len(prefix) + 1 :])
        return Source(source_run(version), str(version.version))
    if model_uri.startswith("runs:/"):
        return Source(model_uri.split("/")[1], None)
    return Source(None, None)


def source_run(version: ModelVersion) -> str:
    """The run whose evaluation describes a version: its source_run_id tag, else the run that logged it."""
    run_id = version.tags.get("source_run_id", version.run_id)
    if run_id is None:
        raise MnistMlopsError(f"version {version.version} of {MODEL_NAME} names no run that evaluated it")
    return run_id


def tag_version(version: str, tags: dict[str, str]) -> None:
    """Set tags on a version of mnist-digits."""
    client = MlflowClient()
    with asking(f"tagging version {version} of {MODEL_NAME}"):
        for key, value in tags.items():
            client.set_model_version_tag(MODEL_NAME, version, key, value)


def record_robustness(version: str, means: dict[str, float], severity: int, run_id: str) -> None:
    """Tag a version with its robustness means (robust_mean_accuracy under corruption at a severity,
    robust_paper_mean_accuracy on paper) and the run that measured them."""
    tags = {name: f"{value:.6f}" for name, value in means.items()}
    tag_version(version, tags | {"robust_severity": str(severity), "robustness_run_id": run_id})


def record_feedback(version: str, accuracy: float, images: float) -> None:
    """Tag a version with its accuracy on the feedback set (feedback_accuracy) and the set's size."""
    tag_version(version, {"feedback_accuracy": f"{accuracy:.6f}", "feedback_images": str(int(images))})


def champion_version() -> str | None:
    """The champion's version number, or None when there is none (and only then: a failure to read it is
    an error, never "no champion")."""
    return alias_map().get(CHAMPION)


def champion_metrics() -> dict[str, float]:
    """The champion's version and its val and test accuracy, as a summary run logs them; none without one."""
    version = champion_version()
    if version is None:
        return {}
    tags = resolve(version).tags
    accuracy = {f"champion_{split}_accuracy": float(tags[f"{split}_accuracy"]) for split in ("val", "test")}
    return {"champion_version": float(version), **accuracy}


def load(reference: str) -> PyFuncModel:
    """Load a registered version as a pyfunc model."""
    number = resolve(reference).version
    with asking(f"loading version {number} of {MODEL_NAME}"):
        return mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}/{number}")


def predicted_digits(reference: str, rows: np.ndarray) -> np.ndarray:
    """The digits a registered version predicts for rows of pixels."""
    answers = cast(pd.DataFrame, load(reference).predict(pd.DataFrame(rows)))  # the served model answers a frame
    return answers["digit"].to_numpy()


class Undecided(MnistMlopsError):
    """A version's decision could not be taken or written; the version says so and why."""


def apply(version: str, decision: Decision) -> Promotion:
    """Write the decision's evidence as tags on version and the decision into its description, then
    move `champion` to it if the decision promotes it (last: a failure before leaves it unmoved). A
    failure on the way leaves the version undecided, never with a decision that did not happen."""
    try:
        tag_version(version, decision.tags)
        describe(version)
        if decision.promoted:
            with asking(f"moving @{CHAMPION} to version {version}"):
                MlflowClient().set_registered_model_alias(MODEL_NAME, CHAMPION, version)
    except MnistMlopsError as error:
        raise undecided(version, str(error)) from error
    return Promotion(version, decision.promoted, decision.text)


def settle(version: str, digits: np.ndarray, test: Split, force: bool = False, judge: Judge | None = None
           ) -> Promotion:  # fmt: skip
    """Decide on version (its test digits; judge's held-out corrections) against the champion, compare-and-set.

    The decision is taken without the lock (it predicts the test set); then, holding the store's lock
    (registry_lock), the champion is read again and the decision applied only if the champion is still
    the version decided against; else it is taken again against the new one. Every promotion that
    moves @champion goes through this lock, so @champion moves only from the version the mover was
    compared with, and each version's decision names the champion it was actually weighed against."""
    champion = champion_version()
    for _ in range(MAX_ROUNDS):
        if champion == version:
            return Promotion(version, False, f"version {version} is the champion already")
        champion_digits = None if champion is None else predicted_digits(champion, test.x)
        decision = decide(test.y, digits, champion_digits, champion, force, judge and judge(version, champion))
        with asking("taking the registry lock"), registry_lock.held(MODEL_NAME):
            now = champion_version()
            if now == champion:
                return apply(version, decision)
        log.info(f"@{CHAMPION} moved from version {champion} to {now} meanwhile: deciding again against it")
        champion = now
    raise MnistMlopsError(f"@{CHAMPION} moved {MAX_ROUNDS} times while version {version} was being decided")


def undecided(version: str, reason: str) -> Undecided:
    """Write on version that its decision could not be taken, and why; return the error that says so."""
    text = f"{UNDECIDED}: {reason}"
    said = f"version {version} of {MODEL_NAME} is {text}"
    try:
        tag_version(version, {DECISION: text})
        describe(version)
    except MnistMlopsError as error:
        said += f" (writing this on the version failed too: {error})"
    return Undecided(f"{said}; decide it later with `mnist-mlops registry promote {version}`")


def describe(version: str) -> None:
    """A version's description, one line from its tags: name and family, val and test accuracy, the decision."""
    client = MlflowClient()
    with asking(f"describing version {version} of {MODEL_NAME}"):
        tags = client.get_model_version(MODEL_NAME, version).tags
        said = [f"{tags.get('model_name', '?')} ({tags.get('model_family', '?')})"]
        measured = [split for split in ("val", "test") if f"{split}_accuracy" in tags]
        said += [f"{split} {float(tags[f'{split}_accuracy']):.2%}" for split in measured]
        said.append(tags.get(DECISION, "not decided"))
        client.update_model_version(MODEL_NAME, version, description=" · ".join(said))


def create_version(model_uri: str, run_id: str, tags: dict[str, str]) -> str:
    """A new version of mnist-digits for a logged model (models:/<model id>), listed on that model as
    mlflow.register_model lists it (the tag the UI's Models tab reads); the registered model is
    created on first use (by whichever job gets there first). MlflowClient, unlike
    mlflow.register_model, prints nothing."""
    client = MlflowClient()
    try:
        client.create_registered_model(MODEL_NAME)
    except MlflowException as error:
        if error.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    model_id = model_uri.removeprefix("models:/")
    version = str(client.create_model_version(MODEL_NAME, model_uri, run_id, tags=tags, model_id=model_id).version)
    if model_id.startswith("m-"):  # a logged model's id (not a registered version's models:/name/N)
        listed = json.loads(client.get_logged_model(model_id).tags.get(MLFLOW_MODEL_VERSIONS, "[]"))
        listed.append({"name": MODEL_NAME, "version": version})
        client.set_logged_model_tags(model_id, {MLFLOW_MODEL_VERSIONS: json.dumps(listed)})
    return version


def register(
    model_uri: str, family: str, name: str, metrics: dict[str, float], source_run_id: str, test: Split,
    test_digits: np.ndarray, judge: Judge | None = None,
) -> Promotion:  # fmt: skip
    """Register a model (of family, logged as name) as a new `challenger` version and let the promotion
    rule decide whether it becomes champion, from its test predictions and the champion's (and judge's).
    source_run_id names the run whose evaluation figures describe the model. Created, the version is
    undecided until its decision is written (a job killed meanwhile leaves it so); a failure after
    creating it writes why and is an error, never a decision."""
    tags = {
        "model_family": family,
        "model_name": name,
        "test_accuracy": f"{metrics['test_accuracy']:.6f}",
        "val_accuracy": f"{metrics['val_accuracy']:.6f}",
        "source_run_id": source_run_id,
        DECISION: f"{UNDECIDED}: being decided",
    }
    with asking(f"registering {name} as a version of {MODEL_NAME}"):
        version = create_version(model_uri, source_run_id, tags)
    try:
        with asking(f"making version {version} the {CHALLENGER}"):
            MlflowClient().set_registered_model_alias(MODEL_NAME, CHALLENGER, version)
        return settle(version, test_digits, test, judge=judge)
    except Undecided:
        raise
    except MnistMlopsError as error:
        raise undecided(version, str(error)) from error


def promote(reference: str, test: Split, force: bool = False, judge: Judge | None = None) -> Promotion:
    """Let the promotion rule decide whether a registered version replaces the champion (or force it).
    A failure before the decision is written changes nothing: the version keeps its last decision."""
    version = str(resolve(reference).version)
    return settle(version, predicted_digits(version, test.x), test, force, judge)


def aliases() -> dict[str, list[str]]:
    """Map each version to its aliases (search results do not carry them)."""
    found: dict[str, list[str]] = {}
    for alias, version in alias_map().items():
        found.setdefault(version, []).append(alias)
    return found


def alias_names() -> list[str]:
    """The aliases set on mnist-digits, champion first."""
    names = sorted({alias for named in aliases().values() for alias in named})
    return sorted(names, key=lambda alias: alias != CHAMPION)


def versions() -> list[ModelVersion]:
    """Every version of mnist-digits, newest first."""
    with asking(f"listing the versions of {MODEL_NAME}"):
        found = MlflowClient().search_model_versions(f"name = '{MODEL_NAME}'")
    return sorted(found, key=lambda version: -int(version.version))


def version_numbers() -> list[str]:
    """Every version's number, newest first."""
    return [str(version.version) for version in versions()]
