"""The playground page, on Gradio: draw a digit or send a photo, and two models answer it side by side,
each with its ten probabilities and the 28x28 image it saw; a wrong answer can be corrected into the
feedback set that `robustness --suite feedback` and `registry compare` score."""

import base64
import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import gradio as gr
import numpy as np
from PIL import Image, ImageOps

from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.playground.canvas import drawing_canvas, png_of
from mnist_mlops.playground.models import Source
from mnist_mlops.tracking.feedback import add_correction, correction_count

SEEN_SCALE = 6  # the 28x28 the model saw, enlarged this many times so a person can see it


@dataclass(frozen=True)
class Said:
    """One model's answer as the page shows it."""

    text: str  # the digit, the number or the reason it gave none (Markdown)
    chart: dict[str, float] | None  # the ten probabilities (of the least sure digit of a number)
    seen: str | None  # a PNG file of what it saw, enlarged (after the sheet it found, for a whole frame)
    reading: str  # what it read, to compare the two models by: the number, or "" for none
    request: str | None = None  # the request_id of its answer, when the inference log recorded it


def outlined(image: bytes, sheet: list[list[int]], height: int) -> np.ndarray:
    """A whole frame, upright, with the sheet found outlined in red, height pixels tall (BGR)."""
    with Image.open(io.BytesIO(image)) as opened:
        frame = cv2.cvtColor(np.asarray(ImageOps.exif_transpose(opened).convert("RGB")), cv2.COLOR_RGB2BGR)
    cv2.polylines(frame, [np.array(sheet, np.int32)], True, (40, 40, 230), max(3, max(frame.shape) // 150))
    return cv2.resize(frame, (round(frame.shape[1] * height / frame.shape[0]), height), interpolation=cv2.INTER_AREA)


def seen_of(answer: dict, image: bytes, folder: Path) -> str | None:
    """The 28x28 images the model was given, side by side and enlarged, after the frame with the sheet
    found outlined (for a whole frame), as a PNG file in folder.

    Gradio rewrites an image it is handed as an array in place, at a path named by its content, which
    both columns share (they see the same digits) and a repeated event writes again; a browser then
    fetching it got a truncated file (ERR_CONTENT_LENGTH_MISMATCH) and showed no image. A file is
    copied into Gradio's cache under a temporary name and renamed, once."""
    decoded = [cv2.imdecode(np.frombuffer(base64.b64decode(digit["seen"]), np.uint8), cv2.IMREAD_GRAYSCALE)
               for digit in answer.get("digits") or [] if digit.get("seen")]  # fmt: skip
    seen = [image for image in decoded if image is not None]  # one it cannot decode is left out
    if not seen:
        return None
    enlarged = cv2.resize(np.hstack(seen), None, fx=SEEN_SCALE, fy=SEEN_SCALE, interpolation=cv2.INTER_NEAREST)
    if answer.get("sheet"):
        frame = outlined(image, answer["sheet"], enlarged.shape[0])
        enlarged = np.hstack([frame, np.full((enlarged.shape[0], SEEN_SCALE * 2, 3), 255, np.uint8),
                              cv2.cvtColor(enlarged, cv2.COLOR_GRAY2BGR)])  # fmt: skip
    png = cv2.imencode(".png", enlarged)[1].tobytes()
    path = folder / f"{hashlib.sha256(png).hexdigest()[:16]}.png"
    if not path.exists():
        with tempfile.NamedTemporaryFile(dir=folder, delete=False) as partial:
            partial.write(png)
        os.replace(partial.name, path)
    return str(path)


def said_by(source: Source, image: bytes, folder: Path) -> Said:
    """What one model says of an image, or why it says nothing; never a stack trace (what it saw: a
    PNG file in folder)."""
    try:
        answer = source.answer(image)
    except MnistMlopsError as error:
        return Said(f"**No answer:** {error}", None, None, "")
    if answer.get("refused"):
        return Said(f"**No answer:** {answer['refused']}", None, None, "", answer.get("request_id"))
    digits = answer["digits"]
    least_sure = min(digits, key=lambda digit: max(digit["probabilities"]))
    chart = {str(digit): float(p) for digit, p in enumerate(least_sure["probabilities"])}
    if len(digits) == 1:
        text = f"## {answer['number']}\n{max(least_sure['probabilities']):.1%} sure"
    else:
        text = f"## {answer['number']}\n{len(digits)} digits; the chart is the least sure one's"
    return Said(text, chart, seen_of(answer, image, folder), answer["number"], answer.get("request_id"))


def verdict(first: Said, second: Said) -> str:
    """Whether the two models agree, made plain when they do not."""
    if first.reading == second.reading:
        return f"Both read **{first.reading}**." if first.reading else "Neither reads a digit."
    return f"### They disagree: {first.reading or 'nothing'} against {second.reading or 'nothing'}"


def build_page(found: dict[str, Source]) -> gr.Blocks:
    """The page: the inputs, two model columns, their verdict and the correction box."""
    names = list(found)
    seen_files = tempfile.TemporaryDirectory(prefix="mnist-playground-")  # removed with the page
    with gr.Blocks(title="mnist-mlops playground") as page:
        gr.Markdown("# Draw a digit, or send a photo\nTwo models read it side by side.")
        judged = gr.Markdown(elem_id="verdict")
        shown = gr.State(None)  # the last image asked about, for a correction
        asked = gr.State(None)  # the request_id of model A's answer to it (else B's), which a correction names
        with gr.Row():
            with gr.Column():
                with gr.Tab("Draw"):
                    canvas = drawing_canvas()
                with gr.Tab("Photo"):
                    photo = gr.Image(
                        type="filepath", sources=["upload", "clipboard", "webcam"], label="A photo", elem_id="photo"
                    )
            columns = []
            second = "@challenger" if "@challenger" in names[1:] else names[min(1, len(names) - 1)]
            for side, default in zip("AB", (names[0], second), strict=True):
                found[default].load()  # before the first stroke, not after it
                with gr.Column():
                    picked = gr.Dropdown(names, value=default, label=f"Model {side}", elem_id=f"model-{side}")
                    about = gr.Markdown(found[default].describe(), elem_id=f"about-{side}")
                    with gr.Row():
                        text = gr.Markdown(elem_id=f"said-{side}")
                        seen = gr.Image(label="What it saw (28x28)", interactive=False, height=170,
                                        elem_id=f"seen-{side}")  # fmt: skip
                    chart = gr.Label(num_top_classes=10, label="Probabilities", elem_id=f"chart-{side}")
                    columns.append((picked, about, text, chart, seen))
                    picked.change(lambda name: found[name].describe(), picked, about, api_name=False)
        with gr.Row():
            number = gr.Textbox(label="Wrong? It is a ...", placeholder="7", elem_id="correction")
            save = gr.Button("Save to the feedback set", elem_id="save")
        saved = gr.Markdown(elem_id="saved")

        pickers = [column[0] for column in columns]
        outputs = [shown, *[part for column in columns for part in column[2:]], judged, asked]

        def read(image: bytes | None, first: str, second: str) -> list:
            """Both models' answers to the image, and the verdict."""
            if image is None:
                return [None, "", None, None, "", None, None, "Draw a digit or send a photo.", None]
            folder = Path(seen_files.name)
            one, two = said_by(found[first], image, folder), said_by(found[second], image, folder)
            return [image, one.text, one.chart, one.seen, two.text, two.chart, two.seen, verdict(one, two),
                    one.request or two.request]  # fmt: skip

        def read_drawing(drawing: str | None, first: str, second: str) -> list:
            """Read what is on the canvas (blank when cleared: the models say why they read nothing)."""
            return read(png_of(drawing), first, second)

        def read_photo(path: str | None, first: str, second: str) -> list:
            """Read the photo as it was sent."""
            return read(None if path is None else Path(path).read_bytes(), first, second)

        def save_correction(image: bytes | None, said: str, request: str | None) -> str:
            """Add the last image and the number typed to the feedback set, naming the request it corrects."""
            if image is None:
                return "Draw a digit or send a photo first."
            said = said.strip()
            if not said.isdigit():
                return f"Type the digits the image holds, such as 7 (not {said!r})."
            name = add_correction(image, said, request)
            return f"Saved as {name}: the feedback set holds {correction_count()} images."

        canvas.change(read_drawing, [canvas, *pickers], outputs, api_name="read_drawing", trigger_mode="always_last",
                      show_progress="hidden")  # fmt: skip
        photo.change(read_photo, [photo, *pickers], outputs, api_name="read_photo", show_progress="hidden")
        for picker in pickers:
            picker.change(lambda image, *picked: read(image, *picked), [shown, *pickers], outputs, api_name=False,
                          show_progress="hidden")  # fmt: skip
        save.click(save_correction, [shown, number, asked], saved, api_name="save_correction")
    return page
