"""Each family's search space, declared once as plain data (logged as JSON) and turned into
Hyperopt expressions in one place.

A dimension is one of:
  ("loguniform", low, high)   a float whose logarithm is uniform: rates, regularisation
  ("uniform", low, high)      a float: dropout
  ("int", low, high, step)    a whole number on a grid: sizes, counts
  ("choice", [options])       one of the options; an option that is a dict is a conditional
                              sub-space whose keys join the trial's params when it is chosen
Scikit-learn families use pipeline parameter names (set_params); networks use TrainConfig fields.
"""

import math

from hyperopt import hp
from hyperopt.pyll import scope

SPACES = {
    "logreg": {
        "clf__C": ("loguniform", 1e-3, 1e2),
        "clf__max_iter": ("int", 50, 300, 50),
    },
    "knn": {
        "clf__n_neighbors": ("int", 1, 15, 1),
        "clf__weights": ("choice", ["uniform", "distance"]),
        "clf__metric": ("choice", ["euclidean", "manhattan", "cosine"]),
        "pca__n_components": ("int", 10, 120, 10),
    },
    "rf": {
        "clf__n_estimators": ("int", 50, 300, 25),
        "clf__max_depth": ("choice", [None, 10, 20, 40]),
        "clf__max_features": ("choice", ["sqrt", "log2", 0.05, 0.1]),
        "clf__min_samples_leaf": ("int", 1, 5, 1),
    },
    "mlp": {
        "hidden": ("choice", [[256], [512], [256, 128], [512, 256], [1024, 512], [512, 256, 128]]),
        "activation": ("choice", ["relu", "gelu", "swish"]),
        "dropout": ("uniform", 0.0, 0.5),
        "batch_norm": ("choice", [True, False]),
        "optimizer": (
            "choice",
            [
                {"optimizer": "adam", "learning_rate": ("loguniform", 3e-4, 1e-2)},
                {
                    "optimizer": "adamw",
                    "learning_rate": ("loguniform", 3e-4, 1e-2),
                    "weight_decay": ("loguniform", 1e-5, 1e-2),
                },
                {"optimizer": "sgd", "learning_rate": ("loguniform", 1e-2, 2e-1)},
            ],
        ),
        "batch_size": ("choice", [64, 128, 256]),
    },
    "cnn": {
        # 3x3 kernels and at most 128 filters: 5x5 kernels or 64 first-layer filters cost 2-5x
        # the time of an epoch on a 2-core CPU.
        "filters": ("choice", [[16, 32, 64], [32, 64], [32, 64, 128]]),
        "dense": ("int", 64, 256, 64),
        "dropout": ("uniform", 0.1, 0.5),
        "learning_rate": ("loguniform", 5e-4, 5e-3),
        "optimizer": (
            "choice",
            [{"optimizer": "adam"}, {"optimizer": "adamw", "weight_decay": ("loguniform", 1e-5, 1e-2)}],
        ),
        "augment": ("choice", [True, False]),
    },
}


def dimension(label: str, spec):
    """Turn one declared dimension into a Hyperopt expression labelled label."""
    kind, *args = spec
    if kind == "loguniform":
        return hp.loguniform(label, math.log(args[0]), math.log(args[1]))
    if kind == "uniform":
        return hp.uniform(label, *args)
    if kind == "int":
        low, high, step = args
        return scope.int(hp.quniform(label, low, high, step))
    if kind == "choice":
        return hp.choice(label, [option_expression(label, i, option) for i, option in enumerate(args[0])])
    raise ValueError(f"unknown dimension kind {kind!r} for {label}")


def option_expression(label: str, index: int, option):
    """A choice's option: a conditional sub-space when it is a dict, else the value itself."""
    if isinstance(option, dict):
        return {
            key: dimension(f"{label}[{index}].{key}", value) if isinstance(value, tuple) else value
            for key, value in option.items()
        }
    return tuple(option) if isinstance(option, list) else option


def hyperopt_space(family: str) -> dict:
    """Return the Hyperopt space of a family."""
    return {name: dimension(name, spec) for name, spec in SPACES[family].items()}


def flatten(sample: dict) -> dict:
    """Merge the conditional sub-spaces a sample chose into one flat dict of params."""
    params = {}
    for name, value in sample.items():
        if isinstance(value, dict):
            params.update(flatten(value))
        else:
            params[name] = value
    return params
