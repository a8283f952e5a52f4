"""What a model family is, and the one place families are registered.

A family is everything the project knows about one kind of model: how to build it from
hyperparameters, which job-config fields set those hyperparameters, what a search explores, and
which params the dashboard shows. What it builds is a `Trainable` `Classifier`: one fit / predict_proba
interface for every family, so no caller asks what kind of model it holds.

This module imports nothing heavy: scikit-learn and Keras load when a model is first built.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from mnist_mlops.data import Split
from mnist_mlops.errors import MnistMlopsError


@dataclass(frozen=True)
class Epochs:
    """What a fit epoch by epoch leaves behind; empty for a fit in one go."""

    history: dict[str, list[float]] = field(default_factory=dict)  # per-epoch metrics (Keras' names)
    best: int | None = None  # the 1-based epoch whose weights were kept

    @property
    def run(self) -> int:
        """Epochs trained (0 for a fit in one go)."""
        return len(self.history.get("loss", []))


class Classifier(Protocol):
    """A fitted model as every stage after this one sees it. Composites (ensembles, calibrated models)
    are made of fitted classifiers and are fitted as made."""

    flavor: str  # how the tracking module logs `estimator`: "sklearn" or "keras"
    estimator: object  # the fitted scikit-learn Pipeline or Keras network: what is logged and served

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Return the (n, 10) class probabilities of flat 784-pixel rows."""

    def params(self) -> dict:
        """Every hyperparameter it was built with, by the names a search space uses."""

    def size(self) -> dict[str, float]:
        """Size metrics worth logging (a network's parameters and MFLOPs per image), or none."""


class Trainable(Classifier, Protocol):
    """What a family builds: a classifier fitted with fit()."""

    def fit(self, train: Split, val: Split, on_epoch_end: Callable[[int, dict], bool | None]) -> Epochs:
        """Fit on train; val may steer early stopping; on_epoch_end(epoch, logs) sees each epoch and
        stops the training after it by returning True."""


@dataclass
class Family:
    """One model family, registered under its name."""

    name: str  # what --model, --arch, --family and the model_family tag say
    kind: str  # "sklearn" (baseline) or "keras" (train --arch): which job fits it with its options
    build: Callable[[dict, int], Trainable]  # (hyperparameters, seed) -> an unfitted classifier
    fields: dict[str, str] = field(default_factory=dict)  # job-config field -> hyperparameter it sets
    space: dict = field(default_factory=dict)  # what a search explores (tuning/spaces.py format)
    key_params: tuple[str, ...] = ()  # the params the dashboard's leaderboard shows
    recipe: dict = field(default_factory=dict)  # field -> value where a config leaves the field unset (None)
    settle: Callable[[dict], dict] | None = None  # hyperparameters -> as they apply here (precision auto resolved)

    def hyperparameters(self, config) -> dict:
        """The hyperparameters a job config sets, e.g. {'clf__C': 1.0} from config.C, as the model
        trains with them: asked() with the values that depend on the machine settled."""
        params = self.asked(config)
        return self.settle(params) if self.settle else params

    def asked(self, config) -> dict:
        """The hyperparameters a job config asks for: a field it leaves unset (None) takes the
        family's recipe, if it has one; machine-dependent values stay as asked (precision auto)."""
        values = {name: getattr(config, name) for name in self.fields}
        values = {name: self.recipe.get(name) if value is None else value for name, value in values.items()}
        return {self.fields[name]: value for name, value in values.items()}

    @property
    def tunable(self) -> bool:
        """Whether `tune` can search it: it declares a space."""
        return bool(self.space)


FAMILIES: dict[str, Family] = {}


def register(family: Family) -> Family:
    """Make a family available to every job, option and dashboard; return it."""
    if family.name in FAMILIES or family.name == "all":
        raise MnistMlopsError(f"a model family named {family.name!r} exists already")
    FAMILIES[family.name] = family
    return family


def family(name: str) -> Family:
    """The family registered under name, or a clear error listing the known ones."""
    if name not in FAMILIES:
        raise MnistMlopsError(f"unknown model family {name!r}; choose one of {', '.join(FAMILIES)}")
    return FAMILIES[name]


def model_name(family: str, members: int = 1, tuned: bool = False, calibrated: bool = False) -> str:
    """What a logged model is called in MLflow, from its family and options: knn, knn-tuned, cnn-x2
    (two networks averaged), fast-ensemble-3 (the three best trials averaged), cnn-calibrated."""
    averaged = "" if members == 1 else f"-ensemble-{members}" if tuned else f"-x{members}"
    return f"{family}{'-tuned' if tuned and members == 1 else ''}{averaged}{'-calibrated' if calibrated else ''}"


def names(kind: str | None = None, tunable: bool = False) -> tuple[str, ...]:
    """The registered families' names, of one kind and only the tunable ones if asked."""
    return tuple(f.name for f in FAMILIES.values() if (kind is None or f.kind == kind) and (f.tunable or not tunable))
