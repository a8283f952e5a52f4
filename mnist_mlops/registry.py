"""The MLflow Model Registry: versions of `mnist-digits`, the aliases `challenger` and `champion`,
and the promotion rule's decision recorded on each version. Every job registers through register()."""

import json
from dataclasses import dataclass

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.utils.mlflow_tags import MLFLOW_MODEL_VERSIONS

from mnist_mlops.data import Split
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.evaluate.promotion import Decision, decide

MODEL_NAME = "mnist-digits"
CHAMPION = "champion"
CHALLENGER = "challenger"


@dataclass(frozen=True)
class Promotion:
    """What registering or promoting a version decided."""

    version: str
    promoted: bool
    decision: str  # one sentence, also written as the tag promotion_decision on the version


def resolve(reference: str):
    """Return the version a number ('3') or an alias ('champion', '@champion') names, or a clear error."""
    client = MlflowClient()
    name = reference.lstrip("@")
    try:
        if name.isdigit():
            return client.get_model_version(MODEL_NAME, name)
        return client.get_model_version_by_alias(MODEL_NAME, name)
    except MlflowException as error:
        raise MnistMlopsError(f"{MODEL_NAME} has no version or alias {reference!r}") from error


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


def source_run(version) -> str:
    """The run whose evaluation describes a version: its source_run_id tag, else the run that logged it."""
    return version.tags.get("source_run_id", version.run_id)


def tag_version(version: str, tags: dict[str, str]) -> None:
    """Set tags on a version of mnist-digits."""
    client = MlflowClient()
    for key, value in tags.items():
        client.set_model_version_tag(MODEL_NAME, version, key, value)


def record_robustness(version: str, means: dict[str, float], severity: int, run_id: str) -> None:
    """Tag a version with its robustness means (robust_mean_accuracy under corruption at a severity,
    robust_paper_mean_accuracy on paper) and the run that measured them."""
    tags = {name: f"{value:.6f}" for name, value in means.items()}
    tag_version(version, tags | {"robust_severity": str(severity), "robustness_run_id": run_id})


def record_feedback(version: str, accuracy: float, images: int) -> None:
    """Tag a version with its accuracy on the feedback set (feedback_accuracy) and the set's size."""
    tag_version(version, {"feedback_accuracy": f"{accuracy:.6f}", "feedback_images": str(int(images))})


def robustness_of(reference: str) -> str:
    """A version's robust_mean_accuracy and its severity as the commands print them, or how to measure it."""
    return robustness_text(resolve(reference))


def robustness_text(version) -> str:
    """robustness_of for a version already resolved."""
    tags = version.tags
    if "robust_mean_accuracy" not in tags and "robust_paper_mean_accuracy" not in tags:
        return f"not measured (mnist-mlops robustness --model-uri models:/{MODEL_NAME}/{version.version})"
    said = []
    if "robust_mean_accuracy" in tags:
        said.append(f"{float(tags['robust_mean_accuracy']):.4f} (severity {tags.get('robust_severity', '?')})")
    if "robust_paper_mean_accuracy" in tags:
        said.append(f"on paper {float(tags['robust_paper_mean_accuracy']):.4f}")
    return ", ".join(said)


def version_text(reference: str) -> str:
    """A version in one line for people: number, aliases, family, val and test accuracy, its
    robustness and feedback figures where measured."""
    version = resolve(reference)
    tags, named = version.tags, aliases().get(str(version.version), [])
    said = [f"{MODEL_NAME} version {version.version}" + "".join(f" @{alias}" for alias in sorted(named))]
    said.append(tags.get("model_family", ""))
    for split in ("val", "test"):
        if f"{split}_accuracy" in tags:
            said.append(f"{split} {float(tags[f'{split}_accuracy']):.2%}")
    if "robust_mean_accuracy" in tags or "robust_paper_mean_accuracy" in tags:
        said.append(f"robustness {robustness_text(version)}")
    if "feedback_accuracy" in tags:
        said.append(f"feedback {float(tags['feedback_accuracy']):.2%} of {tags.get('feedback_images', '?')}")
    return " · ".join(part for part in said if part)


def champion_version() -> str | None:
    """The champion's version number, or None when there is none."""
    try:
        return str(resolve(CHAMPION).version)
    except MnistMlopsError:
        return None


def champion_metrics() -> dict[str, float]:
    """The champion's version and its val and test accuracy, as a summary run logs them; none without one."""
    version = champion_version()
    if version is None:
        return {}
    tags = resolve(CHAMPION).tags
    accuracy = {f"champion_{split}_accuracy": float(tags[f"{split}_accuracy"]) for split in ("val", "test")}
    return {"champion_version": float(version), **accuracy}


def load(reference: str):
    """Load a registered version as a pyfunc model."""
    return mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}/{resolve(reference).version}")


def predicted_digits(reference: str, rows: np.ndarray) -> np.ndarray:
    """The digits a registered version predicts for rows of pixels."""
    return load(reference).predict(pd.DataFrame(rows))["digit"].to_numpy()


def apply(version: str, decision: Decision) -> Promotion:
    """Move `champion` to version if the decision promotes it; write the evidence as tags on it and
    the decision into its description."""
    if decision.promoted:
        MlflowClient().set_registered_model_alias(MODEL_NAME, CHAMPION, version)
    tag_version(version, decision.tags)
    describe(version)
    return Promotion(version, decision.promoted, decision.text)


def describe(version: str) -> None:
    """A version's description, one line from its tags: the model's name and family, val and test
    accuracy, and the promotion rule's decision (with McNemar's p)."""
    client = MlflowClient()
    tags = client.get_model_version(MODEL_NAME, version).tags
    said = [f"{tags.get('model_name', '?')} ({tags.get('model_family', '?')})"]
    measured = [split for split in ("val", "test") if f"{split}_accuracy" in tags]
    said += [f"{split} {float(tags[f'{split}_accuracy']):.2%}" for split in measured]
    said.append(tags.get("promotion_decision", "not decided"))
    client.update_model_version(MODEL_NAME, version, description=" · ".join(said))


def create_version(model_uri: str, run_id: str, tags: dict[str, str]) -> str:
    """A new version of mnist-digits for a logged model (models:/<model id>), listed on that model as
    mlflow.register_model lists it (the tag the UI's Models tab reads); the registered model is
    created on first use. MlflowClient, unlike mlflow.register_model, prints nothing."""
    client = MlflowClient()
    try:
        client.get_registered_model(MODEL_NAME)
    except MlflowException:
        client.create_registered_model(MODEL_NAME)
    model_id = model_uri.removeprefix("models:/")
    version = str(client.create_model_version(MODEL_NAME, model_uri, run_id, tags=tags, model_id=model_id).version)
    if model_id.startswith("m-"):  # a logged model's id (not a registered version's models:/name/N)
        listed = json.loads(client.get_logged_model(model_id).tags.get(MLFLOW_MODEL_VERSIONS, "[]"))
        listed.append({"name": MODEL_NAME, "version": version})
        client.set_logged_model_tags(model_id, {MLFLOW_MODEL_VERSIONS: json.dumps(listed)})
    return version


def register(
    model_uri: str, family: str, name: str, metrics: dict[str, float], source_run_id: str, test: Split,
    test_digits: np.ndarray,
) -> Promotion:  # fmt: skip
    """Register a model (of family, logged as name) as a new `challenger` version and let the promotion
    rule decide whether it becomes champion, from its test predictions and the champion's.
    source_run_id names the run whose evaluation figures describe the model."""
    tags = {
        "model_family": family,
        "model_name": name,
        "test_accuracy": f"{metrics['test_accuracy']:.6f}",
        "val_accuracy": f"{metrics['val_accuracy']:.6f}",
        "source_run_id": source_run_id,
    }
    version = create_version(model_uri, source_run_id, tags)
    MlflowClient().set_registered_model_alias(MODEL_NAME, CHALLENGER, version)
    champion = champion_version()
    champion_digits = None if champion is None else predicted_digits(champion, test.x)
    return apply(version, decide(test.y, test_digits, champion_digits, champion))


def promote(reference: str, test: Split, force: bool = False) -> Promotion:
    """Let the promotion rule decide whether a registered version replaces the champion (or force it)."""
    version = str(resolve(reference).version)
    champion = champion_version()
    if champion == version:
        return Promotion(version, False, f"version {version} is the champion already")
    champion_digits = None if champion is None else predicted_digits(champion, test.x)
    return apply(version, decide(test.y, predicted_digits(version, test.x), champion_digits, champion, force))


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


def alias_names() -> list[str]:
    """The aliases set on mnist-digits, champion first."""
    names = sorted({alias for named in aliases().values() for alias in named})
    return sorted(names, key=lambda alias: alias != CHAMPION)


def version_numbers() -> list[str]:
    """Every version of mnist-digits, newest first."""
    found = MlflowClient().search_model_versions(f"name = '{MODEL_NAME}'")
    return [str(number) for number in sorted((int(version.version) for version in found), reverse=True)]


def version_table() -> pd.DataFrame:
    """One row per version, newest first: aliases, source run, family, test accuracy and decision."""
    named = aliases()
    found = sorted(MlflowClient().search_model_versions(f"name = '{MODEL_NAME}'"), key=lambda v: -int(v.version))
    rows = [
        {
            "version": int(v.version),
            "aliases": ",".join(sorted(named.get(str(v.version), []))),
            "run_id": v.run_id,
            "family": v.tags.get("model_family", ""),
            "test_accuracy": float(v.tags["test_accuracy"]) if "test_accuracy" in v.tags else np.nan,
            "decision": v.tags.get("promotion_decision", ""),
        }
        for v in found
    ]
    return pd.DataFrame(rows, columns=["version", "aliases", "run_id", "family", "test_accuracy", "decision"])
