"""Search spaces, declared as plain data beside each model family (logged as JSON), turned into
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


def hyperopt_space(space: dict) -> dict:
    """Return the Hyperopt expressions of a declared space."""
    return {name: dimension(name, spec) for name, spec in space.items()}


def flatten(sample: dict) -> dict:
    """Merge the conditional sub-spaces a sample chose into one flat dict of params."""
    params = {}
    for name, value in sample.items():
        if isinstance(value, dict):
            params.update(flatten(value))
        else:
            params[name] = value
    return params


def labels(space: dict) -> list[str]:
    """Every label of a declared space, those of conditional sub-spaces included."""
    found = []
    for name, spec in space.items():
        found.append(name)
        if spec[0] == "choice":
            for index, option in enumerate(spec[1]):
                if isinstance(option, dict):
                    nested = {key: value for key, value in option.items() if isinstance(value, tuple)}
                    found += [f"{name}[{index}].{key}" for key in nested]
    return found


def same(a, b) -> bool:
    """Whether two param values are equal, lists and tuples alike."""
    as_tuple = lambda value: tuple(value) if isinstance(value, list | tuple) else value  # noqa: E731
    return as_tuple(a) == as_tuple(b)


def point(space: dict, params: dict) -> dict:
    """The values Hyperopt records for params (a choice by the index of its option): the labels
    the params activate. A param that no option of a choice holds is an error naming it."""
    found = {}
    for name, spec in space.items():
        if spec[0] != "choice":
            found[name] = params[name]
            continue
        for index, option in enumerate(spec[1]):
            fixed = option if isinstance(option, dict) else {name: option}
            if all(same(params.get(key), value) for key, value in fixed.items() if not isinstance(value, tuple)):
                found[name] = index
                found.update({f"{name}[{index}].{key}": params[key] for key, value in fixed.items()
                              if isinstance(value, tuple)})  # fmt: skip
                break
        else:
            raise ValueError(f"{name}={params.get(name)!r} is not one of the search's choices for {name}")
    return found
