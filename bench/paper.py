"""Photographed digits: the champion of a `make run` store, served by `mlflow models serve` twice
in one run: as it was logged (before: the image path of the code it was logged with) and with the
current code (after: the same classifier and files, this checkout's mnist_mlops and signature).

Each is sent, as a client sends them: test digits drawn onto every kind of paper of
evaluate/paper.py and photographed (the report's seed, not the one the image path was tuned with,
which drew training digits); MNIST's test set as 28x28 PNGs; the corruption suite at severity 3;
four-digit numbers of test digits. Timings: a single-image request's p50 on each server, and each
image path's time per 160x160 photo in process, alternated in one run.

Run `make run` first, then `python -m bench.paper [STORE]` (STORE: the SQLite file, default
./mlflow.db; about 15 minutes on 2 cores, nothing else running).
"""

import base64
import contextlib
import importlib.util
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mlflow
import numpy as np
import requests
from mlflow.models import Model
from PIL import Image

from bench.common import REPO, write_report
from mnist_mlops import processes
from mnist_mlops.data import Split, load_mnist
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.evaluate.paper import PAPERS, encode, number_ink, on_kind, on_paper, photograph, white
from mnist_mlops.evaluate.robustness import REFUSED, robustness_report
from mnist_mlops.serving.images import read_digits
from mnist_mlops.serving.model import SIGNATURE

SEED = 2026  # the report's renderings; the image path's constants were chosen on training digits, seed 7
DIGITS = 500  # test digits per paper kind
NUMBERS = 500  # four-digit numbers
TEST_IMAGES = 10_000  # of MNIST's test set, sent as PNGs and under the corruptions
BATCH = 500  # images per request where a batch is sent
LATENCY_ROUNDS, LATENCY_REQUESTS = 5, 40  # single-image requests per server and round, servers alternated


def served_copies(store: Path, folder: Path) -> dict[str, Path]:
    """The champion's serving model as logged (before) and with this checkout's code and signature (after)."""
    mlflow.set_tracking_uri(f"sqlite:///{store.resolve()}")
    before = Path(mlflow.artifacts.download_artifacts("models:/mnist-digits@champion", dst_path=str(folder / "before")))
    after = folder / "after"
    shutil.copytree(before, after)
    shutil.rmtree(after / "code" / "mnist_mlops")
    shutil.copytree(REPO / "mnist_mlops", after / "code" / "mnist_mlops", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "mnist_mlops" / "serving" / "served.py", after / "served.py")
    model = Model.load(after / "MLmodel")
    model.signature = SIGNATURE
    model.save(after / "MLmodel")
    return {"before": before, "after": after}


def serve(model_dir: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """`mlflow models serve` of a model folder on a free port; its /invocations URL once it answers."""
    port = processes.free_port()
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", str(model_dir), "--env-manager", "local",
               "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]  # fmt: skip
    with log.open("w") as output:
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}  # uvicorn
        process = processes.start(command, stdout=output, stderr=output, env=env)
    try:
        processes.wait_until_answering(f"http://127.0.0.1:{port}/ping", process, seconds=180)
    except MnistMlopsError as error:
        raise RuntimeError(f"{error}: {log.read_text()[-3000:]}") from error
    return process, f"http://127.0.0.1:{port}/invocations"


def digits_via(url: str, photos: list[bytes], batch_size: int = BATCH) -> np.ndarray:
    """The digit the server answers for each encoded image, REFUSED where it answers none or several:
    in batches, and one by one where a batch is refused (a refused image fails its whole request)."""
    found = []
    for start in range(0, len(photos), batch_size):
        batch = [base64.b64encode(photo).decode() for photo in photos[start : start + batch_size]]
        response = requests.post(url, json={"inputs": {"image": batch}}, timeout=600)
        if response.status_code == 200:
            found += [p["digit"] for p in response.json()["predictions"]]
            continue
        for image in batch:
            single = requests.post(url, json={"inputs": {"image": [image]}}, timeout=60)
            found.append(single.json()["predictions"][0]["digit"] if single.status_code == 200 else REFUSED)
    return np.where(np.array(found) < 0, REFUSED, np.array(found))


def png_bytes(images: np.ndarray) -> list[bytes]:
    """(n, 28, 28) images in [0, 1] as PNG bytes, as the robustness job sends them."""
    return [encode(np.round(image * 255).astype(np.uint8)) for image in images]


def numbers(test, rng: np.random.Generator) -> tuple[list[bytes], list[str]]:
    """NUMBERS four-digit numbers of random test digits on white paper, photographed; and their truth."""
    photos, truth = [], []
    for _ in range(NUMBERS):
        chosen = rng.integers(0, len(test), 4)
        ink = number_ink(test.images[chosen, ..., 0], rng)
        photos.append(encode(photograph(on_paper(ink, white(ink.shape)), rng)))
        truth.append("".join(str(digit) for digit in test.y[chosen]))
    return photos, truth


def number_accuracy(url: str, photos: list[bytes], truth: list[str]) -> float:
    """The share of whole numbers read right (a refused image counts as wrong)."""
    said = []
    for photo in photos:
        response = requests.post(url, json={"inputs": {"image": [base64.b64encode(photo).decode()]}}, timeout=60)
        answer = response.json()["predictions"][0] if response.status_code == 200 else {}
        said.append(answer.get("number", str(answer.get("digit", ""))))
    return float(np.mean([a == b for a, b in zip(said, truth, strict=True)]))


def request_p50s(urls: dict[str, str], photo: bytes) -> dict[str, float]:
    """Each server's median single-image request time (ms), rounds alternated between them."""
    body = {"inputs": {"image": [base64.b64encode(photo).decode()]}}
    times = {name: [] for name in urls}
    for _ in range(LATENCY_ROUNDS):
        for name, url in urls.items():
            session = requests.Session()
            session.post(url, json=body, timeout=60)  # warm the connection
            for _ in range(LATENCY_REQUESTS):
                start = time.perf_counter()
                session.post(url, json=body, timeout=60)
                times[name].append(time.perf_counter() - start)
    return {name: round(float(np.median(values)) * 1000, 2) for name, values in times.items()}


def path_p50s(before_code: Path, photos: list[bytes]) -> dict[str, float]:
    """Each image path's median time (ms) per photo in process, on the same grayscale photos, alternated."""
    spec = importlib.util.spec_from_file_location("before_inputs", before_code / "mnist_mlops/serving/inputs.py")
    before = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(before)
    grays = [np.asarray(Image.open(io.BytesIO(photo)).convert("L"), np.float32) / 255 for photo in photos]
    paths = {"before": before.mnist_form, "after": read_digits}
    times = {name: [] for name in paths}
    for _ in range(3):
        for name, path in paths.items():
            for gray in grays:
                start = time.perf_counter()
                with contextlib.suppress(ValueError):  # a refused image (either path's InputError) is timed too
                    path(gray)
                times[name].append(time.perf_counter() - start)
    return {name: round(float(np.median(values)) * 1000, 3) for name, values in times.items()}


def measure(url: str, test, corrupted_seed: int) -> dict:
    """Accuracy through one server: per paper kind, MNIST's test set as PNGs, the corruption suite."""
    labels = test.y[:DIGITS]
    paper = {kind: float(np.mean(digits_via(url, on_kind(kind, test.images[:DIGITS, ..., 0], SEED)) == labels))
             for kind in PAPERS}  # fmt: skip
    clean = float(np.mean(digits_via(url, png_bytes(test.images[..., 0])) == test.y))
    report = robustness_report(lambda images: digits_via(url, png_bytes(images)), test.images[..., 0], test.y, 3,
                               corrupted_seed)  # fmt: skip
    return {"paper": {kind: round(value, 4) for kind, value in paper.items()}, "mnist_test_as_images": round(clean, 4),
            "robust_mean_accuracy": round(report.metrics["robust_mean_accuracy"], 4)}  # fmt: skip


def main() -> None:
    """Serve both, measure, write results/paper.md."""
    store = Path(sys.argv[1] if len(sys.argv) > 1 else "mlflow.db")
    whole = load_mnist().test
    test = Split("test", whole.x[:TEST_IMAGES], whole.y[:TEST_IMAGES])
    with tempfile.TemporaryDirectory() as folder:
        copies = served_copies(store, Path(folder))
        servers = {name: serve(path, Path(folder) / f"{name}.log") for name, path in copies.items()}
        try:
            urls = {name: url for name, (_, url) in servers.items()}
            plain_photos = on_kind("plain", test.images[:300, ..., 0], SEED + 1)
            figures = {"digits_per_kind": DIGITS, "numbers": NUMBERS, "seed": SEED,
                       "path_ms_per_160px_photo": path_p50s(copies["before"] / "code", plain_photos),
                       "single_image_request_p50_ms": request_p50s(urls, plain_photos[0])}  # fmt: skip
            for name, url in urls.items():
                figures[name] = measure(url, test, corrupted_seed=42)
            photos, truth = numbers(test, np.random.default_rng(SEED))
            figures["after"]["four_digit_numbers"] = round(number_accuracy(urls["after"], photos, truth), 4)
        finally:
            for process, _ in servers.values():
                processes.stop(process)
    after, before = figures["after"], figures["before"]
    latency = figures["single_image_request_p50_ms"]
    goals = [(f"{kind}: accuracy after", value, ">=", 0.97) for kind, value in after["paper"].items()]
    goals += [
        ("largest gap below plain paper, after", round(after["paper"]["plain"] - min(after["paper"].values()), 4),
         "<=", 0.01),
        ("plain paper: after minus before", round(after["paper"]["plain"] - before["paper"]["plain"], 4), ">=", 0),
        ("MNIST test set as images, after", after["mnist_test_as_images"], ">=", 0.995),
        ("corruption suite robust_mean_accuracy, after", after["robust_mean_accuracy"], ">=", 0.963),
        ("four-digit numbers read whole, after", after["four_digit_numbers"], ">=", 0.97),
        ("image path ms per 160x160 photo, after (p50)", figures["path_ms_per_160px_photo"]["after"], "<=", 3.0),
        ("single-image request p50, after / before", round(latency["after"] / latency["before"], 3), "<=", 1.5),
    ]  # fmt: skip
    print(write_report("paper", figures, goals).read_text())


if __name__ == "__main__":
    main()
