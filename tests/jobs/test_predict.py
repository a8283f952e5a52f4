"""`mnist-mlops predict` on real image files, with the champion of a temporary store."""

import json

import cv2
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
    digits = [digit for answer in answers for digit in answer["digits"]]
    assert all(len(d["probabilities"]) == 10 and abs(sum(d["probabilities"]) - 1) < 1e-4 for d in digits)
    assert all(d["digit"] == int(np.argmax(d["probabilities"])) and len(d["box"]) == 4 for d in digits)
    assert all(a["number"] == "".join(str(d["digit"]) for d in a["digits"]) for a in answers)
    assert np.mean([a["number"] == str(label) for a, label in zip(answers, labels, strict=True)]) >= 0.8


def test_plain_output_gives_file_number_and_confidence(champion, digit_files):
    paths, _ = digit_files
    result = CliRunner().invoke(cli, ["predict", paths[0]])
    assert result.exit_code == 0 and result.output.startswith(f"{paths[0]}: ") and "(" in result.output


def test_a_written_number_is_read_left_to_right_and_show_saves_what_the_model_saw(champion, small_mnist, tmp_path):
    """Four test digits side by side: the number in order, each digit's box in place, and per digit
    the crop and the 28x28 image saved; that image is exactly what the model read."""
    test = small_mnist.test
    chosen = [index for index in range(40) if test.y[index] in (0, 2, 3, 6)][:4]  # digits the kNN reads well
    sheet = np.full((160, 4 * 130 + 40), 255, np.uint8)
    for place, index in enumerate(chosen):
        ink = Image.fromarray((test.x[index].reshape(28, 28) * 255).astype(np.uint8)).resize((112, 112))
        sheet[24:136, 20 + place * 130 : 132 + place * 130] = 255 - np.asarray(ink)
    Image.fromarray(sheet).save(tmp_path / "number.png")
    result = CliRunner().invoke(
        cli, ["predict", str(tmp_path / "number.png"), "--json", "--show", str(tmp_path / "seen")]
    )
    assert result.exit_code == 0, result.output
    (answer,) = json.loads(result.output)
    assert answer["number"] == "".join(str(test.y[index]) for index in chosen)
    lefts = [digit["box"][0] for digit in answer["digits"]]
    assert all(20 + place * 130 - 4 <= left <= 20 + place * 130 + 60 for place, left in enumerate(lefts))
    from mnist_mlops.registry import load

    for number, digit in enumerate(answer["digits"], start=1):
        assert (tmp_path / "seen" / f"number-{number}-crop.png").is_file()
        seen = np.asarray(Image.open(tmp_path / "seen" / f"number-{number}-seen.png"), np.float32) / 255
        again = load("champion").predict(seen.reshape(1, 784))["probabilities"][0]
        np.testing.assert_allclose(again, digit["probabilities"], atol=1e-6)


def test_show_outlines_the_sheet_of_a_phone_frame_stored_turned(champion, small_mnist, tmp_path):
    """A whole frame (a sheet on a dark table, its pixels stored turned a quarter with EXIF orientation 6,
    as a phone held upright stores them): the digit read, and the sheet outlined in the upright frame."""
    test = small_mnist.test
    index = int(np.flatnonzero(test.y == 0)[0])  # a digit the kNN reads well
    frame = np.full((1600, 1200), 60, np.uint8)
    corners = np.array([[250, 300], [950, 260], [990, 1300], [210, 1330]], np.int32)
    cv2.fillConvexPoly(frame, corners, 230)
    ink = cv2.resize(test.x[index].reshape(28, 28), (240, 240), interpolation=cv2.INTER_CUBIC).clip(0, 1)
    frame[600:840, 480:720] = (frame[600:840, 480:720] * (1 - 0.85 * ink)).astype(np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(frame).transpose(Image.Transpose.ROTATE_90).save(tmp_path / "frame.jpg", quality=90, exif=exif)
    result = CliRunner().invoke(
        cli, ["predict", str(tmp_path / "frame.jpg"), "--json", "--show", str(tmp_path / "seen")]
    )
    assert result.exit_code == 0, result.output
    (answer,) = json.loads(result.output)
    assert answer["number"] == "0"
    left, top, width, height = answer["digits"][0]["box"]
    assert abs(left + width / 2 - 600) <= 30 and abs(top + height / 2 - 720) <= 30  # in the upright frame
    outlined = np.asarray(Image.open(tmp_path / "seen" / "frame-sheet.png").convert("RGB"))
    assert outlined.shape[:2] == (1200, 900)  # upright, at most 1200 pixels
    red = (outlined[..., 0] > 180) & (outlined[..., 1] < 90)
    assert red[300 * 3 // 4 - 4 : 300 * 3 // 4 + 5, 250 * 3 // 4 - 4 : 250 * 3 // 4 + 5].any()  # the top-left corner


def test_a_file_that_is_not_an_image_is_named(champion, digit_files, tmp_path):
    paths, _ = digit_files
    (tmp_path / "notes.png").write_text("not an image")
    result = CliRunner().invoke(cli, ["predict", paths[0], str(tmp_path / "notes.png")])
    assert result.exit_code == 1
    assert f"{tmp_path / 'notes.png'}: the bytes are not an image (PNG, JPEG, WebP, GIF, TIFF or BMP)" in result.output


def test_a_blank_page_gets_no_digit(champion, digit_files, tmp_path):
    Image.new("L", (64, 64), 255).save(tmp_path / "blank.png")
    result = CliRunner().invoke(cli, ["predict", digit_files[0][0], str(tmp_path / "blank.png")])
    assert result.exit_code == 1
    assert f"{tmp_path / 'blank.png'}: no digit: the image is uniform" in result.output


def test_an_unknown_model_is_a_clear_error(champion, digit_files):
    result = CliRunner().invoke(cli, ["predict", digit_files[0][0], "--model-uri", "models:/mnist-digits@nobody"])
    assert result.exit_code == 1 and "cannot load models:/mnist-digits@nobody" in result.output
