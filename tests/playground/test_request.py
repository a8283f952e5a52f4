"""The playground's answer names the request the inference log recorded it under, which a correction
saved on the page then names (and `monitor` joins to the record); without the log, none."""

import pytest

from mnist_mlops.playground.models import Source
from mnist_mlops.playground.page import said_by
from mnist_mlops.serving.inference_log import VARIABLE, read_log, write_all
from tests.conftest import photo_png


@pytest.fixture(scope="module")
def champion(registered_store, temporary_store):
    with temporary_store(registered_store):
        yield


def test_an_answer_names_the_request_the_log_recorded(champion, tmp_path, monkeypatch, small_mnist):
    image = photo_png(small_mnist.test.x[0].reshape(28, 28))
    assert said_by(Source("v1", uri="models:/mnist-digits/1"), image, tmp_path).request is None  # no log
    monkeypatch.setenv(VARIABLE, str(tmp_path / "log"))
    said = said_by(Source("v1", uri="models:/mnist-digits/1"), image, tmp_path)
    write_all()
    logged = read_log(tmp_path / "log", ["request_id", "model_version", "number"]).to_pylist()
    assert logged == [{"request_id": said.request, "model_version": "1", "number": said.reading}]
