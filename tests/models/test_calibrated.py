"""Temperature scaling: the fitted temperature undoes a known one; the digit never changes; a
calibrated model's estimator, as logged, applies its temperature."""

import mlflow
import numpy as np
import pytest

from mnist_mlops import models, tracking
from mnist_mlops.config import job_defaults
from mnist_mlops.models.calibrated import Calibrated, fit_temperature, log_loss_at, tempered_network, with_temperature
from mnist_mlops.models.ensemble import Ensemble


def softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


@pytest.fixture
def calibrated_case():
    """Labels drawn from the probabilities themselves: calibrated at temperature 1."""
    rng = np.random.default_rng(0)
    proba = softmax(rng.normal(0, 3, (20_000, 10)))
    labels = np.array([rng.choice(10, p=row) for row in proba])
    return proba, labels


def test_temperature_one_changes_nothing_and_zeros_stay_zero():
    proba = np.array([[0.7, 0.3, 0.0], [0.2, 0.2, 0.6]])
    np.testing.assert_allclose(with_temperature(proba, 1.0), proba, atol=1e-12)
    sharper = with_temperature(proba, 0.5)
    assert sharper[0, 2] == 0 and sharper[0, 0] > 0.7
    np.testing.assert_allclose(sharper[0, :2], np.array([0.49, 0.09]) / 0.58)  # p^2, normalised
    np.testing.assert_array_equal(sharper.argmax(axis=1), proba.argmax(axis=1))


@pytest.mark.parametrize("distortion", [0.5, 2.0])
def test_the_fitted_temperature_undoes_a_distortion(calibrated_case, distortion):
    proba, labels = calibrated_case
    distorted = with_temperature(proba, distortion)
    temperature = fit_temperature(distorted, labels)
    assert temperature == pytest.approx(1 / distortion, rel=0.05)
    assert log_loss_at(distorted, labels, temperature) < log_loss_at(distorted, labels, 1.0)


def test_a_calibrated_model_keeps_temperature_one(calibrated_case):
    proba, labels = calibrated_case
    assert fit_temperature(proba, labels) == pytest.approx(1.0, abs=0.05)


@pytest.fixture(scope="module")
def logreg(small_mnist):
    """A logistic regression fitted on the small training split."""
    family = models.family("logreg")
    classifier = family.build(family.hyperparameters(job_defaults(max_iter=200)), seed=0)
    classifier.fit(small_mnist.train, small_mnist.val, lambda epoch, logs: None)
    return classifier


def test_a_calibrated_pipeline_is_one_estimator_that_logs_with_its_temperature(logreg, small_mnist, tracking_store):
    calibrated = Calibrated(logreg, small_mnist.val)
    x, raw = small_mnist.test.x[:300], logreg.predict_proba(small_mnist.test.x[:300])
    assert calibrated.temperature == pytest.approx(fit_temperature(logreg.predict_proba(small_mnist.val.x),
                                                                   small_mnist.val.y))  # fmt: skip
    assert calibrated.temperature != pytest.approx(1.0, abs=0.05)  # 900 images: a logistic regression is off
    expected = with_temperature(raw, calibrated.temperature)
    np.testing.assert_allclose(calibrated.predict_proba(x), expected, atol=1e-12)
    np.testing.assert_allclose(calibrated.estimator.predict_proba(x), expected, atol=1e-12)
    tracking.use_tracking("calibrated")
    with tracking.run("calibrated logreg", {}):
        reloaded = mlflow.sklearn.load_model(tracking.log_model(calibrated, small_mnist.val.x[:5], "knn-calibrated"))
    np.testing.assert_allclose(reloaded.predict_proba(x), expected, atol=1e-12)


@pytest.mark.parametrize("temperature", [0.5, 2.0])
def test_a_tempered_network_answers_as_the_temperature_does(temperature, small_mnist):
    family = models.family("fast")
    network = family.build(family.hyperparameters(job_defaults(arch="fast", precision="float32")), seed=0).estimator
    x = small_mnist.test.x[:300]
    raw = network.predict(x, verbose=0).astype(np.float64)
    tempered = tempered_network(network, temperature).predict(x, verbose=0)
    np.testing.assert_allclose(tempered, with_temperature(raw, temperature), atol=1e-6)


def test_a_calibrated_ensemble_of_networks_is_one_network_with_the_temperature_inside(small_mnist):
    """As `train --members 2 --calibrate` makes it: the temperature over the members' mean."""
    family = models.family("fast")
    params = family.hyperparameters(job_defaults(arch="fast", precision="float32"))
    ensemble = Ensemble([family.build(params, seed=seed) for seed in (0, 1)])
    calibrated = Calibrated(ensemble, small_mnist.val)
    x = small_mnist.test.x[:300]
    expected = with_temperature(ensemble.predict_proba(x), calibrated.temperature)
    np.testing.assert_allclose(calibrated.predict_proba(x), expected, atol=1e-6)
    assert calibrated.estimator.count_params() == ensemble.estimator.count_params()  # the members, nothing more
