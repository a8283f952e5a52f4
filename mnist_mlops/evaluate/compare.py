"""Comparing two classifiers on the same images: paired accuracy difference and McNemar's test."""

from dataclasses import dataclass

import numpy as np
from scipy.stats import binomtest

Z_95 = 1.959964  # two-sided 95% normal quantile


@dataclass(frozen=True)
class PairedComparison:
    """Accuracy of A and B on the same images, their difference and whether it is significant."""

    n: int
    accuracy_a: float
    accuracy_b: float
    difference: float  # accuracy_a - accuracy_b
    ci_low: float  # 95% confidence interval of the difference (paired, normal approximation)
    ci_high: float
    only_a_right: int  # images A gets right and B wrong
    only_b_right: int
    p_value: float  # McNemar's exact test on the disagreements (two-sided binomial, p = 0.5)

    def significant(self, alpha: float = 0.05) -> bool:
        """Whether McNemar's test rejects 'equally accurate' at level alpha."""
        return self.p_value < alpha


def compare_predictions(y_true: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray) -> PairedComparison:
    """Compare two sets of predictions of the same labels."""
    right_a, right_b = pred_a == y_true, pred_b == y_true
    per_image = right_a.astype(float) - right_b.astype(float)
    n = len(y_true)
    half_width = Z_95 * per_image.std(ddof=1) / np.sqrt(n) if n > 1 else float("inf")
    only_a, only_b = int((right_a & ~right_b).sum()), int((right_b & ~right_a).sum())
    p_value = binomtest(only_a, only_a + only_b, 0.5).pvalue if only_a + only_b else 1.0
    return PairedComparison(
        n=n,
        accuracy_a=float(right_a.mean()),
        accuracy_b=float(right_b.mean()),
        difference=float(per_image.mean()),
        ci_low=float(per_image.mean() - half_width),
        ci_high=float(per_image.mean() + half_width),
        only_a_right=only_a,
        only_b_right=only_b,
        p_value=float(p_value),
    )
