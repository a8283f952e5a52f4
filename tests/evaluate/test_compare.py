"""The paired comparison against values worked out by hand."""

import numpy as np
import pytest

from mnist_mlops.evaluate.compare import compare_predictions


def test_mcnemar_and_the_paired_interval():
    y = np.zeros(100, int)
    a = np.zeros(100, int)
    b = np.zeros(100, int)
    a[:2] = 1  # A wrong on 2 images that B gets right
    b[2:12] = 1  # B wrong on 10 images that A gets right
    result = compare_predictions(y, a, b)
    assert (result.accuracy_a, result.accuracy_b, result.difference) == (0.98, 0.90, pytest.approx(0.08))
    assert (result.only_a_right, result.only_b_right) == (10, 2)
    assert result.p_value == pytest.approx(0.03857, abs=1e-4)  # 2 * P(X <= 2), X ~ Binomial(12, 0.5)
    # Per image A - B: ten 1s, two -1s, 88 0s. Squares about the mean: 12 - 100 * 0.08^2 = 11.36, so the
    # sample sd is sqrt(11.36 / 99) = 0.33874 and the half-width 1.96 * 0.33874 / sqrt(100) = 0.06639.
    assert (result.ci_low, result.ci_high) == (pytest.approx(0.01361, abs=1e-5), pytest.approx(0.14639, abs=1e-5))
    assert result.significant()


def test_the_interval_covers_the_true_difference_95_times_in_100():
    """Two models right on 90% and 85% of 2,000 images, drawn 400 times: the true difference is 0.05."""
    rng, truth, covered = np.random.default_rng(0), np.zeros(2000, int), 0
    for _ in range(400):
        pred_a, pred_b = (np.where(rng.random(2000) < share, 0, 1) for share in (0.90, 0.85))
        result = compare_predictions(truth, pred_a, pred_b)
        covered += result.ci_low <= 0.05 <= result.ci_high
    assert 0.92 <= covered / 400 <= 0.98  # 0.95 within about 2.5 standard errors


def test_identical_models_are_not_significantly_different():
    y = np.arange(10)
    result = compare_predictions(y, y, y)
    assert result.difference == 0 and result.p_value == 1.0 and not result.significant()
