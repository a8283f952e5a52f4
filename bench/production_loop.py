"""The production loop as one scenario: a champion serves MNIST digits, then a style it misreads
(bench/continental.py); `monitor` is asked after each window and raises the drift; a person labels a share
of the styled answers with `feedback add --request`; `retrain` makes a challenger from them, the rule
promotes it, and the next window's `monitor` shows the recovery. Run with `python -m bench.production_loop`
(about 10 minutes on 2 cores).

Requests are answered in this process by the served model loaded as `mlflow models serve` loads it, one
image a request: the same predict, which records each answer in the inference log. Every command is run
as a person runs it (click's runner, in process): train, monitor, feedback add, retrain.
"""

import os
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import mlflow
import numpy as np
from click.testing import CliRunner

from bench.common import REPO, store_uri, write_report
from bench.continental import mnist_pngs, styled_pngs
from mnist_mlops import registry
from mnist_mlops.cli import cli
from mnist_mlops.data import load_mnist
from mnist_mlops.serving.inference_log import VARIABLE, write_all
from mnist_mlops.serving.inputs import image_requests
from mnist_mlops.serving.model import answer_all, load_served


@dataclass(frozen=True)
class Sizes:
    """How large a run of the scenario is."""

    arch: str  # the champion's and the challenger's network
    epochs: int
    limit: int | None  # MNIST training images (None: all)
    window: int  # requests of a window of the unchanged stream
    windows: int  # unchanged windows judged (one more is sent: the first one's previous window)
    checkpoints: tuple[int, ...]  # styled requests after which monitor is asked whether it drifted
    styled: int  # styled requests the champion answers
    recovery: int  # styled requests the promoted challenger answers, the next window
    reviewed: float  # share of the styled answers a person labels (the wrong ones corrected)
    judged: int  # styled test digits, never streamed, that both versions read
    min_records: int  # monitor's --min-records


# The fast network: on this 2-core machine shared with other jobs an epoch of the default CNN on all of
# MNIST takes about 3.5 minutes, and the scenario trains two networks.
BENCH = Sizes(arch="fast", epochs=3, limit=None, window=200, windows=20, checkpoints=(100, 200, 300, 400, 500),
              styled=2000, recovery=500, reviewed=0.5, judged=2000, min_records=100)  # fmt: skip


@dataclass(frozen=True)
class Stream:
    """Requests a version answered, one image each, in the order sent."""

    request_ids: list[str]
    numbers: list[str | None]  # None where the image was refused
    times: list[datetime]  # before the first request, then after each answer: request i is answered between i and i+1


def invoke(*args: str, codes: tuple[int, ...] = (0,)):
    """Run a command as `mnist-mlops ARGS` does, in this process; fail unless it exits with one of codes."""
    done = CliRunner().invoke(cli, list(args))
    if done.exit_code not in codes:
        raise RuntimeError(f"mnist-mlops {' '.join(args[:2])} exited {done.exit_code}: {done.output[-2000:]}")
    return done


def serve(version: str, images: list[bytes]) -> Stream:
    """A registered version answers each image as a request of its own, recorded in the inference log."""
    model = load_served(f"models:/{registry.MODEL_NAME}/{version}")
    ids, numbers, times = [], [], [datetime.now(UTC)]
    for image in images:
        answer = answer_all(model, image_requests([image])).iloc[0]
        ids.append(answer["request_id"])
        numbers.append(None if isinstance(answer.get("refused"), str) and answer["refused"] else answer["number"])
        times.append(datetime.now(UTC))
    write_all()  # monitor reads the log next: what waits for the writing thread is written now
    return Stream(ids, numbers, times)


def monitor(start: datetime, end: datetime, sizes: Sizes) -> dict:
    """`mnist-mlops monitor` over the window from start to end (and the one as long before it): its exit
    code, alerts and metrics."""
    hours = (end - start).total_seconds() / 3600
    done = invoke("monitor", "--end", end.isoformat(), "--hours", repr(hours), "--min-records",
                  str(sizes.min_records), codes=(0, 1))  # fmt: skip
    run = mlflow.search_runs(experiment_names=["mnist-monitoring"], order_by=["start_time DESC"]).iloc[0]
    metrics = {name.removeprefix("metrics."): value for name, value in run.filter(like="metrics.").dropna().items()}
    alerts = [] if run["tags.alerts"] == "none" else run["tags.alerts"].split("; ")
    return {"exit_code": done.exit_code, "alerts": alerts, "metrics": metrics}


def between(stream: Stream, first: int, last: int) -> tuple[datetime, datetime]:
    """The window that holds the stream's requests first (from 0) to last (exclusive)."""
    return stream.times[first], stream.times[last]


def label(stream: Stream, first: int, images: list[bytes], digits: np.ndarray, share: float, folder: Path,
          seed: int) -> dict:  # fmt: skip
    """A person looks at a random share of the answers to the stream's requests from `first` on (these
    images, holding these digits) and says with `feedback add --request` what each image holds: a
    correction where the answer was wrong; how many were right and wrong."""
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(len(images), round(share * len(images)), replace=False))
    wrong = 0
    for index in chosen:
        request_id = stream.request_ids[first + index]
        path = folder / f"{request_id}.png"
        path.write_bytes(images[index])
        invoke("feedback", "add", str(path), "--label", str(digits[index]), "--request", request_id)
        wrong += stream.numbers[first + index] != str(digits[index])
    return {"labelled": len(chosen), "corrected": wrong, "confirmed": len(chosen) - wrong}


def style_accuracy(version: str, images: list[bytes], digits: np.ndarray) -> float:
    """The share of images a version reads as their digit (its answers kept out of the inference log)."""
    answers = answer_all(load_served(f"models:/{registry.MODEL_NAME}/{version}", recorded=False),
                         image_requests(images))  # fmt: skip
    return float(np.mean(answers["number"].to_numpy() == digits.astype(str)))


def test_accuracy(version: str) -> float:
    """A version's MNIST test accuracy, as its run measured it."""
    return mlflow.get_run(registry.source_run(registry.resolve(version))).data.metrics["test_accuracy"]


def training_args(sizes: Sizes) -> list[str]:
    """The options train and retrain share, so the challenger differs from the champion only by the corrections."""
    limit = ["--limit", str(sizes.limit)] if sizes.limit else []
    return ["--arch", sizes.arch, "--epochs", str(sizes.epochs), *limit, "--quiet", "--no-system-metrics"]


def scenario(sizes: Sizes, folder: Path, seed: int = 0) -> dict:
    """Run the loop in the current tracking store, the inference log in $MNIST_MLOPS_INFERENCE_LOG; its figures."""
    seconds: dict[str, float] = {}
    began = time.perf_counter()
    mnist, rng = load_mnist(), np.random.default_rng(seed)
    invoke("train", *training_args(sizes), "--register")
    champion = str(registry.resolve("champion").version)
    seconds["champion_training"] = time.perf_counter() - began
    # the unchanged stream: test digits drawn at random; the style: training digits from the end of the set
    plain = rng.choice(len(mnist.test.y), (sizes.windows + 1) * sizes.window)
    styled = np.arange(len(mnist.train.y) - sizes.styled - sizes.recovery, len(mnist.train.y))
    styled_images = styled_pngs(mnist.train.images[styled], mnist.train.y[styled])
    began = time.perf_counter()
    stream = serve(champion, mnist_pngs(mnist.test.images[plain]) + styled_images[: sizes.styled])
    seconds["serving_per_request"] = (time.perf_counter() - began) / len(stream.request_ids)
    began = time.perf_counter()
    unchanged = [monitor(*between(stream, k * sizes.window, (k + 1) * sizes.window), sizes)
                 for k in range(1, sizes.windows + 1)]  # fmt: skip
    change = len(plain)
    checks = {count: monitor(*between(stream, change, change + count), sizes) for count in sizes.checkpoints}
    raised = [count for count, found in checks.items() if found["exit_code"] == 1 and found["alerts"]]
    seconds["monitor_per_window"] = (time.perf_counter() - began) / (len(unchanged) + len(checks))
    labels = mnist.train.y[styled]
    began = time.perf_counter()
    reviewed = label(
        stream, change, styled_images[: sizes.styled], labels[: sizes.styled], sizes.reviewed, folder, seed
    )
    seconds["feedback_add_per_label"] = (time.perf_counter() - began) / reviewed["labelled"]
    before = monitor(*between(stream, change, len(stream.request_ids)), sizes)
    began = time.perf_counter()
    retrained = invoke("retrain", *training_args(sizes))
    seconds["retraining"] = time.perf_counter() - began
    challenger = registry.version_numbers()[0]
    promoted = registry.alias_map().get("champion") == challenger
    recovery = serve(str(registry.resolve("champion").version), styled_images[sizes.styled :])
    reviewed_after = label(recovery, 0, styled_images[sizes.styled :], labels[sizes.styled :], sizes.reviewed,
                           folder, seed + 1)  # fmt: skip
    after_retraining = monitor(*between(recovery, 0, len(recovery.request_ids)), sizes)
    # styled test digits: neither version trained on them in any style
    judged = np.arange(len(mnist.test.y) - sizes.judged, len(mnist.test.y))
    judged_images = styled_pngs(mnist.test.images[judged], mnist.test.y[judged])
    return {
        "sizes": asdict(sizes),
        "serving": "in process: the served model loaded as `mlflow models serve` loads it, one image a request, "
        "each answer recorded in the inference log by its predict",
        "seconds": {name: round(value, 3) for name, value in seconds.items()},
        "champion": {"version": champion, "test_accuracy": test_accuracy(champion),
                     "style_accuracy": style_accuracy(champion, judged_images, mnist.test.y[judged])},
        "challenger": {"version": challenger, "promoted": promoted, "test_accuracy": test_accuracy(challenger),
                       "style_accuracy": style_accuracy(challenger, judged_images, mnist.test.y[judged]),
                       "retrain_output": retrained.output.strip().splitlines()[-2:]},
        "unchanged": {"alerted_windows": sum(bool(found["alerts"]) for found in unchanged),
                      "alerts": [found["alerts"] for found in unchanged if found["alerts"]],
                      "drift_tests": sum(name.endswith("_p_value") for one in unchanged for name in one["metrics"]),
                      "smallest_p_value": smallest_p(unchanged)},
        "drift": {"first_alert_after_requests": raised[0] if raised else None,
                  "checkpoints": {count: found["alerts"] for count, found in checks.items()}},
        "labels": {"before": reviewed, "after": reviewed_after},
        "window_before": summary(before, champion),
        "window_after": summary(after_retraining, challenger),
    }  # fmt: skip


def smallest_p(found: list[dict]) -> float:
    """The smallest p-value of every drift test of the monitor runs."""
    return min(value for one in found for name, value in one["metrics"].items() if name.endswith("_p_value"))


def summary(found: dict, version: str) -> dict:
    """What a window's monitor run says of a version: live accuracy, drift from its baseline, alerts."""
    metrics, prefix = found["metrics"], f"drift_baseline_v{version}_"
    return {"exit_code": found["exit_code"], "alerts": found["alerts"],
            "labelled": metrics.get(f"window_v{version}_labelled"),
            "live_accuracy": metrics.get(f"window_v{version}_live_accuracy"),
            "mean_confidence": metrics["window_mean_confidence"],
            "baseline_distance": {name.removeprefix(prefix).removesuffix("_distance"): round(value, 3)
                                  for name, value in metrics.items() if name.startswith(prefix)
                                  and name.endswith("_distance")}}  # fmt: skip


def main() -> None:
    """Run the scenario at BENCH's sizes in a fresh store and write results/production_loop.md."""
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        os.environ |= {"MLFLOW_TRACKING_URI": store_uri(work), VARIABLE: str(work / "log"), "PYTHONPATH": str(REPO)}
        os.chdir(work)
        (work / "labelled").mkdir()
        began = time.perf_counter()
        figures = scenario(BENCH, work / "labelled")
        figures["seconds"]["whole_scenario"] = round(time.perf_counter() - began, 1)
    champion, challenger = figures["champion"], figures["challenger"]
    first = figures["drift"]["first_alert_after_requests"]
    style_target = round(min(0.97, champion["style_accuracy"] + 0.20), 4)  # 97%, or 20 points above the champion
    goals = [
        ("styled requests until monitor raised the drift", first if first is not None else float("inf"), "<=", 500),
        (f"alerts on {BENCH.windows} windows of an unchanged stream", figures["unchanged"]["alerted_windows"], "<=", 0),
        ("challenger promoted by the rule", float(challenger["promoted"]), ">=", 1),
        ("challenger reads the new style (97%, or 20 points above the champion)",
         round(challenger["style_accuracy"], 4), ">=", style_target),
        ("challenger's MNIST test accuracy minus the champion's, points",
         round(100 * (challenger["test_accuracy"] - champion["test_accuracy"]), 2), ">=", -0.1),
    ]  # fmt: skip
    print(write_report("production_loop", figures, goals).read_text())


if __name__ == "__main__":
    main()
