"""The one promotion rule on predictions worked out by hand."""

import numpy as np

from mnist_mlops.evaluate.promotion import HeldOut, decide

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


def test_held_out_corrections_promote_a_challenger_not_significantly_worse_and_better_on_them():
    # 845 vs 850: 5 images only the champion gets right, p = 0.0625, not significant.
    decision = decide(Y, answers(845), answers(850), "2", held_out=HeldOut(20, 0.95, 0.40))
    assert decision.promoted
    assert decision.text.startswith(
        "promoted: not significantly worse on the test set (accuracy 0.8450 vs champion v2's"
    )
    assert decision.text.endswith("and better on the 20 held-out corrections (accuracy 0.9500 vs 0.4000)")
    tags = decision.tags
    assert (tags["feedback_held_out_images"], tags["challenger_feedback_accuracy"]) == ("20", "0.950000")
    assert tags["champion_feedback_accuracy"] == "0.400000" and tags["mcnemar_p_value"] == "0.0625"


def test_held_out_corrections_keep_the_champion_when_the_challenger_is_significantly_worse_or_not_better():
    worse = decide(Y, answers(800), answers(850), "2", held_out=HeldOut(20, 1.0, 0.0))
    assert not worse.promoted
    assert worse.text.startswith("not promoted: significantly worse on the test set (accuracy 0.8000")
    assert worse.text.endswith("but better on the 20 held-out corrections (accuracy 1.0000 vs 0.0000)")
    tied = decide(Y, answers(900), answers(850), "2", held_out=HeldOut(20, 0.5, 0.5))
    assert not tied.promoted  # significantly better on test, but the corrections are what it was retrained for
    assert tied.text.endswith("but not better on the 20 held-out corrections (accuracy 0.5000 vs 0.5000)")
    forced = decide(Y, answers(800), answers(850), "2", force=True, held_out=HeldOut(20, 0.5, 0.6))
    assert forced.promoted and forced.text.endswith("and not better on the 20 held-out corrections (accuracy "
                                                    "0.5000 vs 0.6000); forced")  # fmt: skip


def test_held_out_corrections_without_a_champion_are_recorded():
    decision = decide(Y, answers(500), None, held_out=HeldOut(12, 0.75, None))
    assert decision.promoted and decision.text == "promoted: there was no champion"
    assert (
        decision.tags["challenger_feedback_accuracy"] == "0.750000"
        and "champion_feedback_accuracy" not in decision.tags
    )
