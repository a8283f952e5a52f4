"""The family registry and the one Classifier interface, on real scikit-learn and Keras models."""

import numpy as np
import pytest

from mnist_mlops import models
from mnist_mlops.config import job_defaults
from mnist_mlops.errors import MnistMlopsError


def test_every_built_in_family_is_registered_with_its_kind():
    assert models.names("sklearn") == ("dummy", "logreg", "knn", "rf")
    assert models.names("keras") == ("mlp", "cnn", "fast", "lenet5", "deep", "resnet")
    assert models.family("knn").hyperparameters(job_defaults())["pca__n_components"] == 50


def test_a_name_is_registered_once():
    with pytest.raises(MnistMlopsError, match="a model family named 'knn' exists already"):
        models.register(models.family("knn"))


@pytest.mark.parametrize("name", ["logreg", "mlp"])
def test_fit_and_predict_proba_are_the_same_for_every_kind(name, small_mnist):
    family = models.family(name)
    params = family.hyperparameters(
        job_defaults(epochs=3, quiet=True, hidden=(32,), augment=False, batch_size=64, max_iter=50)
    )
    classifier = family.build(params, seed=0)
    epochs = classifier.fit(small_mnist.train, small_mnist.val, lambda epoch, logs: None)
    proba = classifier.predict_proba(small_mnist.test.x[:100])
    assert proba.shape == (100, 10) and np.allclose(proba.sum(axis=1), 1)
    assert (proba.argmax(axis=1) == small_mnist.test.y[:100]).mean() > 0.5
    assert classifier.flavor == family.kind
    assert (epochs.run, epochs.best in (1, 2, 3)) == ((3, True) if name == "mlp" else (0, False))


@pytest.mark.parametrize(("options", "name"), [({}, "knn"), ({"tuned": True}, "knn-tuned"), ({"members": 2}, "knn-x2"),
                                               ({"members": 3, "tuned": True}, "knn-ensemble-3"),
                                               ({"calibrated": True}, "knn-calibrated")])  # fmt: skip
def test_a_logged_model_is_named_from_its_family_and_options(options, name):
    assert models.model_name("knn", **options) == name
