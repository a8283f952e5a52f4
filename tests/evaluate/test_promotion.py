"""The one promotion rule on predictions worked out by hand."""

import numpy as np

from mnist_mlops.evaluate.promotion import decide

Y = np.arange(1000) % 10


def answers(right: int) -> np.ndarray:
    """Predictions that get the first `right` of the 1,000 labels right and the rest wrong."""
    return np.where(np.arange(1000) < right, Y, (Y + 1) % 10)


def test_no_champion_promotes():
    decision = decide(Y, answers(500), None)
    assert decision.promoted and decision.text == "promoted: there was no champion"
    assert decision.tags["challenger_test_accuracy"] == "0.500000"


def test_significantly_better_promotes_with_the_evidence():
    decision = decide(Y, answers(900), answers(850), champion_version="3")
    assert decision.promoted and decision.text.startswith("promoted: accuracy 0.9000 vs champion v3's 0.8500")
    tags = decision.tags
    assert (tags["only_challenger_right"], tags["only_champion_right"], tags["compared_with_version"]) == (
        "50",
        "0",
        "3",
    )
    assert float(tags["mcnemar_p_value"]) < 1e-10 and tags["test_accuracy_difference"] == "0.050000"


def test_better_but_not_significant_keeps_the_champion():
    # 5 images only the challenger gets right: two-sided binomial p = 2 * 0.5**5 = 0.0625.
    decision = decide(Y, answers(855), answers(850), champion_version="1")
    assert not decision.promoted and decision.text.startswith("not promoted")
    assert float(decision.tags["mcnemar_p_value"]) == 0.0625


def test_worse_is_promoted_only_when_forced():
    assert not decide(Y, answers(800), answers(850), "1").promoted
    forced = decide(Y, answers(800), answers(850), "1", force=True)
    assert forced.promoted and forced.text.endswith("; forced")
