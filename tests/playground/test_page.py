"""The playground page served by `mnist-mlops playground` on a copy of the registered store, driven in
headless Chromium (drawing with pointer actions, uploading, correcting) and by Gradio's own client;
its answers checked against a real `mlflow models serve` of the same version."""

import base64
import os
import re
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import requests

from tests.conftest import REPO, photo_png, registered_copy

pytestmark = pytest.mark.slow
ANSWER = re.compile(r"^(\d+\n|No answer)")  # a digit or number read, or the reason for none (not a timer)


@pytest.fixture(scope="module")
def store(registered_store, tmp_path_factory) -> Path:
    """A copy of the registered store (the kNN champion, version 1; the one-epoch network, version 2, the
    challenger), which the page's corrections may write to."""
    return registered_copy(registered_store, tmp_path_factory, "playground")


def environment(store: Path) -> dict:
    return {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{store / 'mlflow.db'}", "PYTHONPATH": str(REPO)}


def start_page(servers, store: Path, *options: str):
    """`mnist-mlops playground` on a free port; return its process and URL."""
    port = servers.free_port()
    command = [sys.executable, "-m", "mnist_mlops", "playground", "--port", str(port), *options]
    url = f"http://127.0.0.1:{port}/"
    return servers.start(command, url, environment(store), store), url


@pytest.fixture(scope="module")
def page(store, servers):
    """The page with its defaults: @champion on the left, @challenger on the right."""
    process, url = start_page(servers, store)
    yield url
    servers.stop(process)


@pytest.fixture(scope="module")
def served(store, servers) -> str:
    """`mlflow models serve` of version 1 (the champion); its /invocations URL."""
    port = servers.free_port()
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", "models:/mnist-digits/1", "--env-manager",
               "local", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]  # fmt: skip
    process = servers.start(command, f"http://127.0.0.1:{port}/ping", environment(store), store)
    yield f"http://127.0.0.1:{port}/invocations"
    servers.stop(process)


@pytest.fixture(scope="module")
def digit_png(small_mnist, tmp_path_factory) -> Path:
    """A test digit (a 7) as a client would photograph it: dark ink on white, 140x140 PNG."""
    path = tmp_path_factory.mktemp("digit") / "seven.png"
    path.write_bytes(photo_png(small_mnist.test.images[0, ..., 0]))
    return path


def text_of(driver, element_id: str, seconds: float = 20) -> str:
    """An element's text once it has any."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, seconds).until(lambda d: d.find_element(By.ID, element_id).text.strip())
    return driver.find_element(By.ID, element_id).text.strip()


def draw(driver, strokes: list[list[tuple[int, int]]]) -> None:
    """Draw strokes on the canvas with pointer actions, each a list of points from its centre."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    canvas = driver.find_elements(By.CSS_SELECTOR, "#canvas canvas")[-1]
    for stroke in strokes:
        actions = ActionChains(driver).move_to_element_with_offset(canvas, *stroke[0]).click_and_hold()
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:], strict=False):
            for _ in range(4):  # a pointer moves in small steps, as a hand does
                actions.move_by_offset((x1 - x0) // 4, (y1 - y0) // 4)
        actions.release().perform()


def answer_after(driver, act) -> tuple[str, float]:
    """The left model's answer after an action changes it, and the seconds it took to appear."""

    def shown() -> tuple[str, str]:  # what it said and the image it saw (a new file for each answer)
        said, seen = driver.execute_script(
            "const seen = document.querySelector('#seen-A img');"
            "return [document.getElementById('said-A').innerText, seen ? seen.src : ''];"
        )
        return said.strip(), seen

    before = shown()
    act()
    start = time.perf_counter()
    while (now := shown()) == before or not ANSWER.match(now[0]):
        assert time.perf_counter() < start + 20, "no answer appeared"
        time.sleep(0.01)
    return now[0], time.perf_counter() - start


def seen_both(driver, before: str) -> None:
    """Wait until both sides show a loaded image other than before; say what each shows if they do not.
    Every image of a side counts (one may still leave as the next arrives) and is loaded eagerly (a lazy
    image outside the window would never load)."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    states = "return ['A', 'B'].map(side => Array.from(document.querySelectorAll(`#seen-${side} img`)).map("
    states += "image => { image.loading = 'eager'; return [image.src, image.complete, image.naturalWidth]; }));"

    def shown(d) -> bool:
        return all(any(loaded and width > 0 and src != before for src, loaded, width in side)
                   for side in d.execute_script(states))  # fmt: skip

    try:
        WebDriverWait(driver, 30).until(shown)
    except TimeoutException:
        console = [entry["message"] for entry in driver.get_log("browser")][-10:]
        images = driver.execute_script(states)
        raise AssertionError(f"images (src, complete, width) per side: {images}; console: {console}") from None


def clear_canvas(driver) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, "#canvas button.clear").click()


def test_a_person_draws_uploads_and_corrects(page, browser, digit_png, store, pictures):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    start = time.perf_counter()
    browser.get(page)
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#canvas canvas"))
    print(f"page loaded in {time.perf_counter() - start:.2f} s")
    assert "version 1 @champion" in text_of(browser, "about-A") and "version 2 @challenger" in text_of(
        browser, "about-B"
    )

    one, seconds = answer_after(browser, lambda: draw(browser, [[(0, -90), (0, 90)]]))
    print(f"an answer {seconds * 1000:.0f} ms after the stroke ended")
    assert one.splitlines()[0] == "1", one
    chart = browser.find_element(By.ID, "chart-A").text
    assert all(str(digit) in chart for digit in range(10)) and "%" in chart  # the ten probabilities
    assert browser.find_element(By.CSS_SELECTOR, "#seen-A img").get_attribute("src")  # what the model saw
    assert text_of(browser, "said-B") and text_of(browser, "verdict")  # the challenger answered too

    seen_of_one = browser.find_element(By.CSS_SELECTOR, "#seen-A img").get_attribute("src")
    refused, _ = answer_after(browser, lambda: clear_canvas(browser))
    assert refused.startswith("No answer: no digit"), refused  # the model's one-line reason, no trace

    seven, seconds = answer_after(browser, lambda: draw(browser, [[(-60, -80), (60, -80), (-10, 90)]]))
    print(f"an answer {seconds * 1000:.0f} ms after the stroke ended")
    assert seven.splitlines()[0] == "7", seven
    seen_both(browser, seen_of_one)  # both 7s shown, for the picture
    browser.save_screenshot(str(pictures / "playground.png"))  # the README's picture of the page

    browser.find_element(By.XPATH, "//button[@role='tab'][normalize-space()='Photo']").click()
    upload = WebDriverWait(browser, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, "#photo input[type=file]"))
    photo, _ = answer_after(browser, lambda: upload.send_keys(str(digit_png)))
    assert photo.splitlines()[0] == "7", photo

    browser.find_element(By.CSS_SELECTOR, "#correction textarea").send_keys("7")
    browser.find_element(By.ID, "save").click()
    assert text_of(browser, "saved").startswith("Saved as "), text_of(browser, "saved")


def probabilities_of(chart: dict) -> list[float]:
    """The ten probabilities a chart shows, in digit order."""
    shown = {item["label"]: item["confidence"] for item in chart["confidences"]}
    return [shown[str(digit)] for digit in range(10)]


def test_a_restarted_page_keeps_the_feedback_and_answers_as_invocations(store, servers, served, digit_png, page):
    """After the correction saved in the browser (the test above), a new page process asking the model
    server on the left and loading the same version on the right: both answer as /invocations does,
    and the feedback set still holds the correction, which the commands then score."""
    from click.testing import CliRunner
    from gradio_client import Client, handle_file

    from mnist_mlops.cli import cli
    from mnist_mlops.tracking.feedback import corrections
    from tests.conftest import store_in

    process, url = start_page(servers, store, "--model-url", served, "--model-uri", "models:/mnist-digits/1")
    try:
        outputs = Client(url, verbose=False).predict(
            handle_file(str(digit_png)), f"server {served}", "version 1", api_name="/read_photo"
        )
    finally:
        servers.stop(process)
    encoded = base64.b64encode(digit_png.read_bytes()).decode()
    asked = requests.post(served, json={"dataframe_split": {"columns": ["image"], "data": [[encoded]]}}, timeout=60)
    expected = asked.json()["predictions"][0]["probabilities"]
    assert np.allclose(probabilities_of(outputs[1]), expected, atol=1e-6)  # from the server
    assert np.allclose(probabilities_of(outputs[4]), expected, atol=1e-6)  # loaded in the page's process
    assert outputs[0].startswith("## 7") and outputs[-1] == "Both read **7**."

    with store_in(store):
        assert [correction.number for correction in corrections()] == ["7"]
        robustness = CliRunner().invoke(cli, ["robustness", "--model-uri", "models:/mnist-digits/1", "--suite",
                                              "feedback"])  # fmt: skip
        assert robustness.exit_code == 0, robustness.output
        assert "feedback_accuracy=1.0000 on 1 corrected images" in robustness.output
        compared = CliRunner().invoke(cli, ["registry", "compare", "1", "2"])
        assert compared.exit_code == 0, compared.output
        assert "1: feedback_accuracy 1.0000 on 1 corrected images" in compared.output
        assert "2: feedback_accuracy " in compared.output
