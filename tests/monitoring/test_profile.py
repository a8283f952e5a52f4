"""A window's records as monitor reads them: each record's least sure confidence and the mean measures of
its images, with at most MEASURED records' images measured in a slice, evenly spread."""

import numpy as np
import pyarrow as pa

from mnist_mlops.monitoring import profile
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
