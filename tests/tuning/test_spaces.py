"""Search spaces: every sample is a valid set of params for its family."""

import json

import numpy as np
import pytest
from hyperopt.pyll.stochastic import sample

from mnist_mlops import models
from mnist_mlops.config import job_defaults
from mnist_mlops.tuning.spaces import flatten, hyperopt_space


def test_every_tunable_family_has_a_json_space():
    assert set(models.names(tunable=True)) == {"logreg", "knn", "rf", "mlp", "cnn"}
    space = models.family("knn").space
    assert json.loads(json.dumps(space))["clf__weights"] == ["choice", ["uniform", "distance"]]


@pytest.mark.parametrize("name", models.names(tunable=True))
def test_samples_build_a_model_over_the_defaults(name):
    family, rng = models.family(name), np.random.default_rng(0)
    defaults = family.hyperparameters(job_defaults(epochs=1))
    for _ in range(20):
        params = flatten(sample(hyperopt_space(family.space), rng=rng))
        assert set(params) <= set(defaults) or family.kind == "sklearn", set(params) - set(defaults)
        if family.kind == "sklearn":
            family.build({**defaults, **params}, seed=0)  # set_params raises on an unknown name
        else:
            assert all(not isinstance(value, (dict, list)) for value in params.values())


def test_conditional_space_adds_its_keys_only_when_chosen():
    rng = np.random.default_rng(1)
    seen = {}
    for _ in range(60):
        params = flatten(sample(hyperopt_space(models.family("mlp").space), rng=rng))
        seen.setdefault(params["optimizer"], set()).update(params)
    assert "weight_decay" in seen["adamw"] and "weight_decay" not in seen["adam"] | seen["sgd"]
    assert all("learning_rate" in keys for keys in seen.values())
