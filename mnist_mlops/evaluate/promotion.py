"""The one promotion rule, as a pure function of paired test predictions (and, for a challenger
retrained from corrections, both versions' accuracy on the corrections held out of its training).

A challenger becomes champion when there is no champion, or when forced; else, judged on the test
set alone, when it is more accurate and McNemar's exact test on the images the two disagree about
gives p < 0.05; judged also on held-out corrections, when it is not significantly less accurate on
the test set (the same test) and more accurate than the champion on those corrections.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mnist_mlops.evaluate.compare import compare_predictions

ALPHA = 0.05  # McNemar's significance level


@dataclass(frozen=True)
class HeldOut:
    """The challenger's and the champion's accuracy on corrections held out of the challenger's training."""

    images: int  # corrections held out
    challenger: float
    champion: float | None  # None: there is no champion


# (challenger's version, champion's version or None) -> their accuracy on the held-out corrections
Judge = Callable[[str, str | None], HeldOut]


@dataclass(frozen=True)
class Decision:
    """What the rule decided and the evidence, as the tags written on the challenger's version."""

    promoted: bool
    text: str  # one sentence: the verdict and why
    tags: dict[str, str]


def held_out_tags(held_out: HeldOut | None) -> dict[str, str]:
    """The held-out corrections' evidence as version tags; none without it."""
    if held_out is None:
        return {}
    tags = {
        "feedback_held_out_images": str(held_out.images),
        "challenger_feedback_accuracy": f"{held_out.challenger:.6f}",
    }
    return tags | ({} if held_out.champion is None else {"champion_feedback_accuracy": f"{held_out.champion:.6f}"})


def decide(
    y_true: np.ndarray,
    challenger: np.ndarray,
    champion: np.ndarray | None,
    champion_version: str | None = None,
    force: bool = False,
    held_out: HeldOut | None = None,
) -> Decision:
    """Decide from the predicted test digits of the challenger and of the champion (None: no champion),
    and with held_out, from their accuracy on the corrections held out of the challenger's training."""
    challenger_accuracy = float((challenger == y_true).mean())
    if champion is None:
        text = "promoted: there was no champion"
        tags = {"promotion_decision": text, "challenger_test_accuracy": f"{challenger_accuracy:.6f}"}
        return Decision(True, text, tags | held_out_tags(held_out))
    result = compare_predictions(y_true, challenger, champion)
    test = (
        f"accuracy {result.accuracy_a:.4f} vs champion v{champion_version}'s {result.accuracy_b:.4f}, "
        f"difference {result.difference:+.4f} (95% CI {result.ci_low:+.4f} to {result.ci_high:+.4f}), "
        f"McNemar p={result.p_value:.3g}"
    )
    if held_out is None:
        better = result.difference > 0 and result.significant(ALPHA)
        reason = test
    else:
        worse = result.difference < 0 and result.significant(ALPHA)
        assert held_out.champion is not None  # there is a champion
        corrected = held_out.challenger > held_out.champion
        better = not worse and corrected
        reason = (
            f"{'significantly worse' if worse else 'not significantly worse'} on the test set ({test}) "
            f"{'and' if corrected == (not worse) else 'but'} {'better' if corrected else 'not better'} on the "
            f"{held_out.images} held-out corrections (accuracy {held_out.challenger:.4f} vs "
            f"{held_out.champion:.4f})"
        )
    promoted = better or force
    text = f"{'promoted' if promoted else 'not promoted'}: {reason}" + ("; forced" if force and not better else "")
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
    return Decision(promoted, text, tags | held_out_tags(held_out))
