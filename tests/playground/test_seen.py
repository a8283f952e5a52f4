"""What the page shows a model saw: for a whole frame, the sheet it found outlined before the 28x28."""

import base64
import io

import cv2
import numpy as np
from PIL import Image

from mnist_mlops.playground.page import SEEN_SCALE, seen_of


def test_a_frame_shows_its_sheet_outlined_before_the_28x28(tmp_path):
    frame = np.full((800, 600), 60, np.uint8)
    sheet = [[100, 120], [500, 100], [520, 700], [80, 690]]
    cv2.fillConvexPoly(frame, np.int32(sheet), 230)
    stream = io.BytesIO()
    Image.fromarray(frame).save(stream, format="JPEG")
    digit = np.zeros((28, 28), np.uint8)
    digit[6:22, 12:16] = 255
    seen = base64.b64encode(cv2.imencode(".png", digit)[1].tobytes()).decode()
    answer = {"digits": [{"seen": seen}], "sheet": sheet}
    shown = cv2.imread(seen_of(answer, stream.getvalue(), tmp_path))
    height = 28 * SEEN_SCALE
    assert shown.shape[0] == height and shown.shape[1] == round(600 * height / 800) + 2 * SEEN_SCALE + height
    red = (shown[..., 2] > 150) & (shown[..., 1] < 100) & (shown[..., 0] < 100)
    assert red[:, : round(600 * height / 800)].sum() > 50 and not red[:, -height:].any()  # the outline, then the 28x28
    crop_only = cv2.imread(seen_of({"digits": [{"seen": seen}]}, stream.getvalue(), tmp_path))
    assert crop_only.shape[:2] == (height, height)  # a crop: the 28x28 alone
