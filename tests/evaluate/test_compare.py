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
    d = np.r_[np.full(2, -1.0), np.full(10, 1.0), np.zeros(88)]
    half = 1.959964 * d.std(ddof=1) / 10
    assert (result.ci_low, result.ci_high) == (pytest.approx(0.08 - half), pytest.approx(0.08 + half))
    assert result.significant()


def test_identical_models_are_not_significantly_different():
    y = np.arange(10)
    result = compare_predictions(y, y, y)
    assert result.difference == 0 and result.p_value == 1.0 and not result.significant()
