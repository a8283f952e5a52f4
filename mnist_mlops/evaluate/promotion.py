"""The one promotion rule, as a pure function of paired test predictions.

A challenger becomes champion when there is no champion, when it is more accurate on the test set
and McNemar's exact test on the images the two disagree about gives p < 0.05, or when forced.
"""

from dataclasses import dataclass

import numpy as np

from mnist_mlops.evaluate.compare import compare_predictions

ALPHA = 0.05  # McNemar's significance level


@dataclass(frozen=True)
class Decision:
    """What the rule decided and the evidence, as the tags written on the challenger's version."""

    promoted: bool
    text: str  # one sentence: the verdict and why
    tags: dict[str, str]


def decide(
    y_true: np.ndarray,
    challenger: np.ndarray,
    champion: np.ndarray | None,
    champion_version: str | None = None,
    force: bool = False,
) -> Decision:
    """Decide from the predicted test digits of the challenger and of the champion (None: no champion)."""
    challenger_accuracy = float((challenger == y_true).mean())
    if champion is None:
        text = "promoted: there was no champion"
        return Decision(
            True, text, {"promotion_decision": text, "challenger_test_accuracy": f"{challenger_accuracy:.6f}"}
        )
    result = compare_predictions(y_true, challenger, champion)
    better = result.difference > 0 and result.significant(ALPHA)
    promoted = better or force
    reason = (
        f"accuracy {result.accuracy_a:.4f} vs champion v{champion_version}'s {result.accuracy_b:.4f}, "
        f"difference {result.difference:+.4f} (95% CI {result.ci_low:+.4f} to {result.ci_high:+.4f}), "
        f"McNemar p={result.p_value:.3g}" + ("; forced" if force and not better else "")
    )
    text = f"{'promoted' if promoted else 'not promoted'}: {reason}"
    tags = {
        "promotion_decision": text,
        "challenger_test_accuracy": f"{result.accuracy_a:.6f}",
        "champion_test_accuracy": f"{result.accuracy_b:.6f}",
        "compared_with_version": str(champion_version),
        "only_challenger_right": str(result.only_a_right),
        "only_champion_right": str(result.only_b_right),
        "mcnemar_p_value": f"{result.p_value:.6g}",
        "test_accuracy_difference": f"{result.difference:.6f}",
    }
    return Decision(promoted, text, tags)
