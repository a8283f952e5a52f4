"""Search spaces: every sample is a valid set of params for its family."""

import json

import numpy as np
import pytest
from hyperopt.pyll.stochastic import sample

from mnist_mlops import models
from mnist_mlops.config import job_defaults
from mnist_mlops.tuning.spaces import flatten, hyperopt_space, labels, point


def test_every_tunable_family_has_a_json_space():
    assert set(models.names(tunable=True)) == {"logreg", "knn", "rf", "mlp", "cnn", "fast", "lenet5", "deep", "resnet"}
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
    assert "weight_decay" in seen["adamw"] and "weight_decay" not in seen["adam"]
    assert all("learning_rate" in keys for keys in seen.values())


@pytest.mark.parametrize("name", models.names(tunable=True))
def test_every_family_default_is_a_point_of_its_space(name):
    family = models.family(name)
    defaults = family.hyperparameters(job_defaults(epochs=1))
    found = point(family.space, {**family.build(defaults, seed=0).params(), **defaults})
    assert set(found) <= set(labels(family.space)) and set(family.space) <= set(found)


def test_a_conditional_default_picks_its_option_and_fills_its_sub_space():
    family = models.family("mlp")
    defaults = family.hyperparameters(job_defaults())
    found = point(family.space, defaults)
    assert found["optimizer"] == 0 and found["learning_rate"] == 3e-3  # adam, the recipe's rate
    assert "optimizer[1].weight_decay" not in found and found["hidden"] == 3  # (512, 256)
    adamw = point(family.space, {**defaults, "optimizer": "adamw"})
    assert adamw["optimizer"] == 1 and adamw["optimizer[1].weight_decay"] == 1e-4  # its sub-space, filled


def test_a_default_outside_the_choices_is_named():
    with pytest.raises(ValueError, match="clf__weights='nearest' is not one of the search's choices"):
        point(models.family("knn").space, {"clf__weights": "nearest", "clf__n_neighbors": 4, "clf__metric": "cosine",
                                           "pca__n_components": 50})  # fmt: skip
