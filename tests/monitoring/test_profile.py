"""A window's records as monitor reads them: each record's least sure confidence and the mean measures of
its images, with at most MEASURED records' images measured in a slice, evenly spread."""

import numpy as np
import pyarrow as pa

from mnist_mlops.monitoring import profile
from mnist_mlops.monitoring.baseline import baseline
from mnist_mlops.monitoring.drift import sample_drift
from mnist_mlops.monitoring.images import features
from mnist_mlops.serving.inference_log import Answered, table_of


def request(images: np.ndarray, counts: list[int]) -> pa.Table:
    """One request of images (28x28 each) read as counts digits per record, at confidences 0.9, 0.8, ..."""
    proba = np.full((len(images), 10), 0.0)
    proba[:, 0] = 0.9 - 0.1 * np.arange(len(images))
    proba[:, 1] = 1 - proba[:, 0]
    return table_of(Answered(0.0, "r1", "3", "m-1", "image", 5.0, proba, np.array(counts), None,
                             images.reshape(len(images), 784)))  # fmt: skip


def test_a_records_images_are_averaged_and_its_least_sure_digit_kept():
    images = np.zeros((3, 28, 28), np.uint8)
    images[0, 5:25, 10:12] = images[1, 5:25, 10:14] = images[2, 5:25, 10:16] = 255  # strokes 2, 4 and 6 wide
    frame = profile.records(request(images, [2, 0, 1]))
    measured = features(images)
    assert np.allclose(frame.loc[0, ["ink", "stroke", "size"]], measured[:2].mean(axis=0))
    assert frame.loc[1, ["ink", "stroke", "size"]].isna().all()  # no digit read
    assert np.allclose(frame.loc[2, ["ink", "stroke", "size"]], measured[2])
    assert np.allclose(frame["confidence"], [0.8, np.nan, 0.7], equal_nan=True)


def test_at_most_measured_records_images_are_measured_evenly_spread(monkeypatch):
    monkeypatch.setattr(profile, "MEASURED", 5)
    images = np.zeros((21, 28, 28), np.uint8)
    for i in range(21):
        images[i, 4:24, 10 : 11 + i % 7] = 255
    frame = profile.records(request(images, [1] * 21))
    assert list(np.flatnonzero(frame["ink"].notna())) == [0, 5, 10, 15, 20]
    assert np.allclose(frame["ink"].dropna(), features(images[[0, 5, 10, 15, 20]])[:, 0])
    assert frame["confidence"].notna().all()  # every record's answer counts


def test_confidence_is_compared_at_the_served_answers_six_decimals():
    """The log keeps probabilities whole, a baseline is recorded from answers rounded to 6 decimals: a sure
    answer is 1 in both, so a window of the same answers does not drift from its baseline."""
    proba = np.zeros((200, 10))
    proba[:, 0] = 1 - np.logspace(-2, -9, 200)  # the surest third rounds up to 1
    proba[:, 1] = 1 - proba[:, 0]
    logged = profile.records(table_of(Answered(0.0, "r1", "3", "m-1", "pixels", 5.0, proba, np.ones(200, np.int64),
                                               None, None)))  # fmt: skip
    recorded = baseline(proba.round(6), np.zeros((200, 784)))  # as record_baseline gets them from the answers
    assert np.allclose(logged["confidence"], recorded["confidence"], rtol=0, atol=2e-6)  # float32 in the log
    assert (logged["confidence"] == 1).mean() > 0.3 and (recorded["confidence"] == 1).mean() > 0.3
    assert sample_drift(logged["confidence"].to_numpy(), recorded["confidence"].to_numpy(), 100)["distance"] <= 0.01
