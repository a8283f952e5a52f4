"""The feedback set in a real SQLite store: every correction kept, none overwritten, the run ended."""

import mlflow
import pytest

from mnist_mlops.tracking.feedback import EXPERIMENT, add_correction, corrections, feedback_run


def test_corrections_accumulate_and_are_never_overwritten(tracking_store):
    assert corrections() == [] and feedback_run(create=False) is None
    first = add_correction(b"\x89PNG first", "7")
    second = add_correction(b"\x89PNG second", "7")  # the same label at once: a file of its own
    third = add_correction(b"\x89PNG third", "1984")
    found = corrections()
    assert [c.name for c in found] == [first, second, third]
    assert [(c.image, c.number) for c in found] == [(b"\x89PNG first", "7"), (b"\x89PNG second", "7"),
                                                    (b"\x89PNG third", "1984")]  # fmt: skip
    runs = mlflow.search_runs(experiment_names=[EXPERIMENT])
    assert len(runs) == 1 and runs["status"].item() == "FINISHED"  # one run holds the set; none left RUNNING


def test_a_correction_must_be_digits(tracking_store):
    with pytest.raises(ValueError, match="the digits the image holds, not 'seven'"):
        add_correction(b"\x89PNG", "seven")
    assert corrections() == []
