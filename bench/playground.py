"""The playground page in headless Chromium: how long it takes to load, and how long after a stroke
ends the answer appears, both timed inside the page, with the models of a store (by default the
main job's: `make run` first).

    python -m bench.playground [STORE.db] [--strokes 20]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import REPO, write_report
from mnist_mlops import processes

LOADS = 5
# In the page: when the last pointer lifted, and when both models' digits next showed (after Clear, their
# refusals showed; Gradio's progress marks are not answers).
WATCH = """window.lifted = null; window.answered = null;
const read = () => ['said-A', 'said-B'].every(id => /^\\d+\\n/.test(document.getElementById(id).innerText));
document.addEventListener('pointerup', () => { window.lifted = performance.now(); window.answered = null; }, true);
new MutationObserver(() => { if (window.lifted && !window.answered && read()) window.answered = performance.now(); })
  .observe(document.body, {childList: true, subtree: true, characterData: true});"""
STROKES = {"1": [(0, -90), (0, 90)], "7": [(-60, -80), (60, -80), (-10, 90)]}


def browser():
    """Headless Chromium from Debian, as the tests drive it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-dev-shm-usage", "--window-size=1400,1000"):  # fmt: skip
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def stroke_latency(driver, points: list[tuple[int, int]]) -> float:
    """Draw one stroke; the milliseconds from the pointer lifting to the answer's change on the page."""
    import time

    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, "#canvas button.clear").click()
    time.sleep(1)  # the blank canvas's refusals have come
    canvas = driver.find_element(By.CSS_SELECTOR, "#canvas canvas")
    actions = ActionChains(driver).move_to_element_with_offset(canvas, *points[0]).click_and_hold()
    for x, y in points[1:]:
        actions.move_to_element_with_offset(canvas, x, y)
    actions.release().perform()
    for _ in range(500):
        lifted, answered = driver.execute_script("return [window.lifted, window.answered];")
        if answered:
            return answered - lifted
        time.sleep(0.01)
    raise RuntimeError("no answer within 5 s")


def main(store: Path, strokes: int) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    port = processes.free_port()
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{store.resolve()}", "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "mnist_mlops", "playground", "--port", str(port)]
    process = processes.start(command, cwd=tempfile.mkdtemp(), env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    driver = browser()
    try:
        processes.wait_until_answering(url, process, seconds=120)
        loads = []
        for _ in range(LOADS):
            driver.get("about:blank")
            driver.get(url)
            WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#canvas canvas"))
            loads.append(driver.execute_script("return performance.now();") / 1000)
        driver.execute_script(WATCH)
        latencies = [stroke_latency(driver, STROKES["17"[n % 2]]) for n in range(strokes)]
    finally:
        driver.quit()
        processes.stop(process)
    figures = {
        "store": str(store),
        "page_load_seconds": {"median": round(statistics.median(loads), 3), "all": [round(s, 3) for s in loads]},
        "stroke_to_answer_ms": {
            "median": round(statistics.median(latencies)),
            "max": round(max(latencies)),
            "strokes": strokes,
        },  # fmt: skip
    }
    goals = [
        ("page load, seconds (median of 5)", figures["page_load_seconds"]["median"], "<=", 2.0),
        ("answer after a stroke ends, ms (median)", figures["stroke_to_answer_ms"]["median"], "<=", 300),
    ]
    print(write_report("playground", figures, goals).read_text())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", nargs="?", default="mlflow.db", type=Path)
    parser.add_argument("--strokes", type=int, default=20)
    arguments = parser.parse_args()
    main(arguments.store, arguments.strokes)
