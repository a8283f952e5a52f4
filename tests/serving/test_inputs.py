"""The serving input contract: pixels, tensors and images in; clear errors for anything else."""

import base64
import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.neighbors import KNeighborsClassifier

from mnist_mlops.serving.inputs import MAX_ROWS, InputError, to_rows


def encode(array: np.ndarray, image_format: str = "PNG") -> str:
    """A uint8 grayscale array as a base64 PNG or JPEG."""
    stream = io.BytesIO()
    Image.fromarray(array.astype(np.uint8)).save(stream, format=image_format)
    return base64.b64encode(stream.getvalue()).decode()


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


@pytest.fixture(scope="module")
def digits(small_mnist):
    return small_mnist.test.x[:20]


def test_pixel_rows_pass_through(digits):
    assert np.array_equal(to_rows(pd.DataFrame(digits)).pixels, digits)
    assert np.array_equal(to_rows(digits).pixels, digits)


def test_a_column_of_pixel_arrays_is_rows(digits):
    """As Spark hands an array column to the model (score --backend spark)."""
    assert np.array_equal(to_rows(pd.DataFrame({"0": list(digits * 255)})).pixels, to_rows(digits).pixels)


def test_0_to_255_pixels_are_rescaled(digits):
    np.testing.assert_allclose(to_rows(pd.DataFrame(digits * 255)).pixels, digits, atol=1e-6)


@pytest.mark.parametrize("shape", [(20, 28, 28), (20, 28, 28, 1)])
def test_image_tensors(digits, shape):
    assert np.array_equal(to_rows(digits.reshape(shape)).pixels, digits)


@pytest.mark.parametrize("image_format", ["PNG", "JPEG"])
def test_mnist_images_survive_the_round_trip(small_mnist, image_format):
    """Test digits sent as images come back as nearly the same pixels, and a classifier fitted on
    MNIST reads them as well as the originals (within 3 points)."""
    originals = small_mnist.test.x[:300]
    encoded = [encode(row.reshape(28, 28) * 255, image_format) for row in originals]
    rows = to_rows(pd.DataFrame({"image": encoded})).pixels
    assert rows.shape == (300, 784)
    assert np.median([correlation(a, b) for a, b in zip(rows, originals, strict=True)]) > 0.95
    knn = KNeighborsClassifier(3).fit(small_mnist.train.x, small_mnist.train.y)
    labels = small_mnist.test.y[:300]
    assert (knn.predict(rows) == labels).mean() >= (knn.predict(originals) == labels).mean() - 0.03


def test_large_dark_on_light_images_are_brought_into_mnist_form(digits):
    digit = digits[0].reshape(28, 28)
    paper = 255 - np.kron(digit * 255, np.ones((4, 4)))  # 112x112, black ink on white
    padded = np.pad(paper, ((30, 10), (5, 60)), constant_values=255)  # off-centre on a larger sheet
    row = to_rows(np.array([encode(padded)], dtype=object)).pixels[0]
    assert correlation(row, digits[0]) > 0.85
    rows, columns = np.indices((28, 28))
    mass = row.reshape(28, 28)
    centre = ((rows * mass).sum() / mass.sum(), (columns * mass).sum() / mass.sum())
    assert np.allclose(centre, (14, 14), atol=1.0)


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.full((64, 64), 255), "image 0: no digit: the image is uniform (brightness 1.00 to 1.00), no ink"),
        (np.zeros((64, 64)), "image 0: no digit: the image is uniform (brightness 0.00 to 0.00), no ink"),
        (np.full((40, 50), 128), "no digit: the image is uniform"),
        (np.full((1, 1), 255), "image 0: no digit: 1x1 pixels cannot hold one (at least 8x8)"),
        (np.eye(5) * 255, "no digit: 5x5 pixels cannot hold one"),
    ],
)
def test_an_image_without_a_digit_is_refused(image, message):
    with pytest.raises(InputError) as raised:
        to_rows(pd.DataFrame({"image": [encode(image)]}))
    assert message in str(raised.value)


def test_blank_paper_saved_as_jpeg_is_refused_and_a_faint_digit_is_not(digits):
    with pytest.raises(InputError, match="no digit"):
        to_rows(pd.DataFrame({"image": [encode(np.full((64, 64), 250), "JPEG")]}))
    faint = 255 - digits[0].reshape(28, 28) * 80  # grey pencil on white: 175 to 255
    assert to_rows(pd.DataFrame({"image": [encode(faint)]})).pixels.max() > 0.9


@pytest.mark.parametrize(
    ("request_input", "message"),
    [
        (pd.DataFrame(np.zeros((2, 10))), "expected 784 pixel columns or one 'image' column, got 10"),
        (np.zeros((2, 27, 28)), "got shape (2, 27, 28)"),
        (pd.DataFrame(np.full((1, 784), np.nan)), "row 0 holds NaN or infinity"),
        (np.vstack([np.zeros(784), np.full(784, np.inf)]), "row 1 holds NaN or infinity"),
        (np.full((1, 784), 300.0), "pixels must be in [0, 1] or [0, 255]; got 300 to 300"),
        (np.full((1, 784), -0.5), "got -0.5 to -0.5"),
        (pd.DataFrame({"image": ["bm90IGFuIGltYWdl"]}), "image 0: the bytes are not an image (PNG, JPEG, WebP, GIF"),
        (pd.DataFrame({"image": ["***"]}), "image 0: not valid base64"),
        (pd.DataFrame({"image": [7]}), "image 0: expected a base64 string, got int"),
        (pd.DataFrame({"0": [np.zeros(784), np.zeros(783)]}), "every array of the column must hold 784 pixels"),
        (pd.DataFrame({"0": [np.zeros(10)]}), "expected rows of 784 pixels or 28x28 images, got shape (1, 10)"),
        (np.zeros((0, 784)), "the request holds no rows"),
        (np.zeros((MAX_ROWS + 1, 784)), f"send at most {MAX_ROWS}"),
        ({"pixels": [1]}, "a named input must be 'image'"),
    ],
)
def test_bad_requests_name_the_problem(request_input, message):
    with pytest.raises(InputError) as raised:
        to_rows(request_input)
    assert message in str(raised.value)


@pytest.fixture(scope="module")
def knn(small_mnist):
    return KNeighborsClassifier(3).fit(small_mnist.train.x, small_mnist.train.y)


@pytest.mark.parametrize("name", ["paper", "coloured", "transparent", "noisy", "off_centre", "chalk"])
def test_digits_as_people_send_them_reach_the_model_in_mnist_form(name, rendered, knn, small_mnist):
    """Paper, colour, alpha, noise, an off-centre digit and chalk leave the digit as it was: a
    nearest-neighbour model on raw pixels, which forgives nothing, reads it nearly as well as the
    original rows, within 12 points of 60 digits. (Thicker and thinner pens change the digit; a
    network reads every rendering at 90% or more, test_http.py.)"""
    encoded, labels = rendered
    original = (knn.predict(small_mnist.test.x[: len(labels)]) == labels).mean()
    rows = to_rows(pd.DataFrame({"image": encoded[name]}))
    read = [
        knn.predict(rows.pixels[[index]])[0] if len(found) == 1 else None
        for index, found in zip(np.cumsum([len(found) for found in rows.digits]) - 1, rows.digits, strict=True)
    ]
    accuracy = np.mean([digit == label for digit, label in zip(read, labels, strict=True)])
    assert accuracy >= original - 0.12, f"{accuracy:.2f} against {original:.2f} for the originals"
