"""Search spaces: every sample is a valid set of params for its family."""

import json

import numpy as np
import pytest
from hyperopt.pyll.stochastic import sample

from mnist_mlops.config import ARCHITECTURES, TUNABLE_FAMILIES, TrainConfig
from mnist_mlops.models.baselines import build_baseline
from mnist_mlops.train.candidates import network_config
from mnist_mlops.tuning.spaces import SPACES, flatten, hyperopt_space


def test_every_family_has_a_json_space():
    assert set(SPACES) == set(TUNABLE_FAMILIES)
    assert json.loads(json.dumps(SPACES))["knn"]["clf__weights"] == ["choice", ["uniform", "distance"]]


@pytest.mark.parametrize("family", TUNABLE_FAMILIES)
def test_samples_are_valid_params(family):
    rng = np.random.default_rng(0)
    for _ in range(20):
        params = flatten(sample(hyperopt_space(family), rng=rng))
        if family in ARCHITECTURES:
            config = network_config(TrainConfig(arch=family), params)
            assert all(not isinstance(value, (dict, list)) for value in vars(config).values())
        else:
            build_baseline(family, params)  # set_params raises on an unknown name


def test_conditional_space_adds_its_keys_only_when_chosen():
    rng = np.random.default_rng(1)
    seen = {}
    for _ in range(60):
        params = flatten(sample(hyperopt_space("mlp"), rng=rng))
        seen.setdefault(params["optimizer"], set()).update(params)
    assert "weight_decay" in seen["adamw"] and "weight_decay" not in seen["adam"] | seen["sgd"]
    assert all("learning_rate" in keys for keys in seen.values())
