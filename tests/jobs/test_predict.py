"""`mnist-mlops predict` on real image files, with the champion of a temporary store."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from mnist_mlops.cli import cli

N_IMAGES = 40


@pytest.fixture(scope="module")
def champion(registered_store, temporary_store):
    """The shared store, whose champion is a kNN on 3,000 images."""
    with temporary_store(registered_store):
        yield


@pytest.fixture
def digit_files(small_mnist, tmp_path) -> tuple[list[str], np.ndarray]:
    """Test digits saved as files as people make them: dark ink on white, enlarged, PNG and JPEG."""
    paths = []
    for index, row in enumerate(small_mnist.test.x[:N_IMAGES]):
        image = Image.fromarray(255 - (row.reshape(28, 28) * 255).astype(np.uint8)).resize((112, 112))
        path = tmp_path / f"digit{index}.{'png' if index % 2 else 'jpg'}"
        image.save(path)
        paths.append(str(path))
    return paths, small_mnist.test.y[:N_IMAGES]


def test_predicts_the_digits_of_png_and_jpeg_files(champion, digit_files):
    paths, labels = digit_files
    result = CliRunner().invoke(cli, ["predict", *paths, "--json"])
    assert result.exit_code == 0, result.output
    answers = json.loads(result.output)
    assert [answer["file"] for answer in answers] == paths
    assert all(len(a["probabilities"]) == 10 and abs(sum(a["probabilities"]) - 1) < 1e-4 for a in answers)
    assert all(a["digit"] == int(np.argmax(a["probabilities"])) for a in answers)
    assert np.mean([a["digit"] for a in answers] == labels) >= 0.8


def test_plain_output_gives_file_digit_and_confidence(champion, digit_files):
    paths, _ = digit_files
    result = CliRunner().invoke(cli, ["predict", paths[0]])
    assert result.exit_code == 0 and result.output.startswith(f"{paths[0]}: ") and "(" in result.output


def test_a_file_that_is_not_an_image_is_named(champion, digit_files, tmp_path):
    paths, _ = digit_files
    (tmp_path / "notes.png").write_text("not an image")
    result = CliRunner().invoke(cli, ["predict", paths[0], str(tmp_path / "notes.png")])
    assert result.exit_code == 1
    assert f"{tmp_path / 'notes.png'}: the bytes are not a PNG or JPEG image" in result.output


def test_a_blank_page_gets_no_digit(champion, digit_files, tmp_path):
    Image.new("L", (64, 64), 255).save(tmp_path / "blank.png")
    result = CliRunner().invoke(cli, ["predict", digit_files[0][0], str(tmp_path / "blank.png")])
    assert result.exit_code == 1
    assert f"{tmp_path / 'blank.png'}: no digit: the image is uniform" in result.output


def test_an_unknown_model_is_a_clear_error(champion, digit_files):
    result = CliRunner().invoke(cli, ["predict", digit_files[0][0], "--model-uri", "models:/mnist-digits@nobody"])
    assert result.exit_code == 1 and "cannot load models:/mnist-digits@nobody" in result.output
