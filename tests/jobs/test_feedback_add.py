"""`mnist-mlops feedback add`: image files added to the feedback set the playground writes, in a real
SQLite store; a bad label, request id or file is refused with one line and nothing added."""

import io

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from mnist_mlops.cli import cli
from mnist_mlops.tracking.feedback import add_correction, corrections, feedback_run
from tests.conftest import photo_png


@pytest.fixture
def files(tmp_path, small_mnist):
    """seven.png, seven.jpg (a JPEG of the same digit), notes.txt, a GIF and a truncated PNG."""
    seven = photo_png(small_mnist.test.images[0, ..., 0])
    (tmp_path / "seven.png").write_bytes(seven)
    Image.open(io.BytesIO(seven)).save(tmp_path / "seven.jpg", format="JPEG")
    (tmp_path / "notes.txt").write_text("not an image")
    Image.new("L", (28, 28)).save(tmp_path / "digit.gif", format="GIF")
    (tmp_path / "cut.png").write_bytes(seven[: len(seven) // 2])
    return tmp_path


def add(*args: str):
    return CliRunner().invoke(cli, ["feedback", "add", *map(str, args)])


def test_images_join_the_playgrounds_feedback_set(tracking_store, files):
    add_correction(photo_png(np.zeros((28, 28), np.float32)), "0")  # as the playground saves one
    done = add(files / "seven.png", files / "seven.jpg", "--label", "7", "--request", "3f2a9c")
    assert done.exit_code == 0, done.output
    assert done.output.strip() == "added 2 images of 7: the feedback set holds 3 images"
    found = corrections()
    assert [(c.number, c.request) for c in found] == [("0", None), ("7", "3f2a9c"), ("7", "3f2a9c")]
    kept = sorted(found[1:], key=lambda c: c.image == (files / "seven.png").read_bytes())
    assert kept[1].image == (files / "seven.png").read_bytes()  # a PNG as it was sent
    as_jpeg = np.asarray(Image.open(io.BytesIO(kept[0].image)))  # a JPEG kept as PNG, its pixels unchanged
    assert Image.open(io.BytesIO(kept[0].image)).format == "PNG"
    assert np.array_equal(as_jpeg, np.asarray(Image.open(files / "seven.jpg")))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["seven.png", "--label", "seven"], "a correction is the digits the image holds, not 'seven'"),
        (["seven.png", "--label", "-1"], "not '-1'"),
        (["seven.png", "--label", "²"], "not '²'"),
        (["seven.png", "--label", "7", "--request", "a-b"], "a request id is up to 64 letters and digits"),
        (["seven.png", "notes.txt", "--label", "7"], "notes.txt: not a PNG or JPEG image"),
        (["seven.png", "digit.gif", "--label", "7"], "digit.gif: a GIF image; the feedback set takes PNG or JPEG"),
        (["seven.png", "cut.png", "--label", "7"], "cut.png: not a PNG or JPEG image"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_added(tracking_store, files, args, message):
    done = add(*[files / arg if arg.endswith((".png", ".txt", ".gif")) else arg for arg in args])
    assert done.exit_code == 1 and message in done.output and len(done.output.strip().splitlines()) == 1
    assert corrections() == [] and feedback_run(create=False) is None  # not even the set's run was made
