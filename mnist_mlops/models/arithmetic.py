"""Which arithmetic `precision: auto` trains in: the faster of float32 and mixed bfloat16 on this CPU.

Where the CPU has no bfloat16 instructions (neither AMX nor AVX512-BF16 in /proc/cpuinfo), bfloat16
is emulated and slow, and auto is float32 without measuring. Elsewhere the instructions alone do not
decide it: two CPUs with AVX512-BF16 and no AMX trained the CNN 1.1-1.2x slower and 1.1-1.2x faster
in mixed bfloat16. So auto times a few training steps of the CNN the main job trains, at its
recipe's batch size, in each arithmetic (the median of STEPS steps each, taken in turn after
WARM_UP_STEPS that build the graphs; 5 s on 2 cores of an Intel Xeon with AMX), once per CPU
model: the result is kept in the user's cache (precision.json), keyed by the CPU's model name and
its bfloat16 instructions, and measured again for another TensorFlow or a file that cannot be
read. Processes that find no measurement take turns: one measures, the others read what it wrote.

This module imports nothing heavy; TensorFlow loads only to measure.
"""

import contextlib
import fcntl
import functools
import json
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from mnist_mlops.data.files import user_cache

CPUINFO = Path("/proc/cpuinfo")
BFLOAT16_FLAGS = {"amx_bf16", "avx512_bf16"}  # /proc/cpuinfo names of the instructions
PRECISIONS = ("float32", "mixed_bfloat16")
NETWORK = "cnn"  # what is timed: the network the main job trains (PipelineConfig.arch)
WARM_UP_STEPS, STEPS = 3, 15  # untimed steps (the first traces the graph), then timed ones in each
CACHE_FILE = "precision.json"
# Measured this process and not saved (an unwritable cache), by CPU key: measured once all the same.
UNSAVED: dict[str, dict] = {}


@dataclass(frozen=True)
class Cpu:
    """The CPU as auto tells one from another: its model name and its bfloat16 instructions."""

    model: str
    bfloat16: tuple[str, ...]  # /proc/cpuinfo flags among BFLOAT16_FLAGS, sorted

    @property
    def key(self) -> str:
        """What the cache files a measurement under, e.g. 'Intel(R) Xeon(R) Processor (amx_bf16, avx512_bf16)'."""
        return f"{self.model} ({', '.join(self.bfloat16) or 'no bfloat16'})"


@dataclass(frozen=True)
class Choice:
    """The arithmetic a network trains in, why, and the measurement auto chose it by (if it measured)."""

    precision: str  # float32 or mixed_bfloat16
    chosen_by: str  # auto: "measured speed" or "no bfloat16 instructions"; else "asked"
    cpu: Cpu
    step_seconds: dict[str, float] = field(default_factory=dict)  # median seconds of one step, by precision
    measured_at: str = ""  # when, ISO 8601 UTC
    tensorflow: str = ""  # the TensorFlow version it was measured with

    def params(self) -> dict[str, str]:
        """What a run logs as params: the choice's reason, the CPU, and when it was measured."""
        measured = {"precision_measured_at": self.measured_at} if self.measured_at else {}
        return {"precision_chosen_by": self.chosen_by, "cpu_model": self.cpu.model,
                "cpu_bfloat16": ",".join(self.cpu.bfloat16) or "none", **measured}  # fmt: skip

    def metrics(self) -> dict[str, float]:
        """What a run logs as metrics: float32_step_seconds and mixed_bfloat16_step_seconds, if measured."""
        return {f"{precision}_step_seconds": seconds for precision, seconds in self.step_seconds.items()}


def cpuinfo_fields(cpuinfo: Path = CPUINFO) -> dict[str, str]:
    """The first processor's fields in /proc/cpuinfo (none where it cannot be read)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return {}
    found: dict[str, str] = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        found.setdefault(name.strip(), value.strip())
    return found


def cpu_bfloat16(cpuinfo: Path = CPUINFO) -> list[str]:
    """The CPU's bfloat16 instructions by their /proc/cpuinfo names (none where it cannot tell)."""
    return sorted(BFLOAT16_FLAGS & set(cpuinfo_fields(cpuinfo).get("flags", "").split()))


def cpu_model(cpuinfo: Path = CPUINFO) -> str:
    """The CPU's model name, as /proc/cpuinfo gives it (else what platform knows)."""
    import platform

    return cpuinfo_fields(cpuinfo).get("model name") or platform.processor() or "unknown"


def this_cpu(cpuinfo: Path = CPUINFO) -> Cpu:
    """This machine's CPU: its model name and bfloat16 instructions."""
    return Cpu(cpu_model(cpuinfo), tuple(cpu_bfloat16(cpuinfo)))


@functools.cache
def tensorflow_version() -> str:
    """The installed TensorFlow's version (of tensorflow, tensorflow-cpu or another build), read
    without importing it."""
    for distribution in metadata.packages_distributions().get("tensorflow", []):
        with contextlib.suppress(metadata.PackageNotFoundError):
            return metadata.version(distribution)
    return "none"


def choose(cpuinfo: Path = CPUINFO, cache: Path | None = None) -> Choice:
    """What auto trains in on this CPU: float32 without bfloat16 instructions; else the faster of
    the two, from the cache (cache: the user's precision.json) or measured now and saved there."""
    cpu = this_cpu(cpuinfo)
    if not cpu.bfloat16:
        return Choice("float32", "no bfloat16 instructions", cpu)
    path = cache or user_cache(CACHE_FILE)
    entry = read_cache(path).get(cpu.key) or UNSAVED.get(cpu.key)
    if not valid(entry):
        with measuring_alone(path):  # another process measuring now: its result, once it is written
            entries = read_cache(path)
            entry = entries.get(cpu.key)
            if not valid(entry):
                entry = {"step_seconds": measure_steps(), "tensorflow": tensorflow_version(),
                         "measured_at": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
                if not write_cache(path, {**entries, cpu.key: entry}):
                    UNSAVED[cpu.key] = entry
    assert entry is not None
    seconds = {precision: float(entry["step_seconds"][precision]) for precision in PRECISIONS}
    fastest = min(PRECISIONS, key=lambda precision: seconds[precision])  # a tie: float32, the exact one
    return Choice(fastest, "measured speed", cpu, seconds, entry["measured_at"], entry["tensorflow"])


def chosen(asked: dict) -> Choice | None:
    """How the precision of a network's hyperparameters as a job asked for them (Family.asked) is
    decided: by choose() for auto, as asked otherwise; None for a family without one."""
    if "precision" not in asked:
        return None
    return choose() if asked["precision"] == "auto" else Choice(asked["precision"], "asked", this_cpu())


@contextlib.contextmanager
def measuring_alone(path: Path) -> Iterator[None]:
    """Hold the cache's lock file (precision.json.lock) for the block, waiting while another process
    holds it: two measurements at once would each time the other's load. The system releases it
    when its holder ends, however it ends; without a writable folder there is no lock."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = open(path.with_name(path.name + ".lock"), "w")  # noqa: SIM115  # held until the block ends
    except OSError:
        yield
        return
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def valid(entry) -> bool:
    """Whether a cached entry holds both step times, positive, measured with this TensorFlow."""
    try:
        return entry["tensorflow"] == tensorflow_version() and all(
            float(entry["step_seconds"][precision]) > 0 for precision in PRECISIONS
        ) and isinstance(entry["measured_at"], str)  # fmt: skip
    except (TypeError, KeyError, ValueError):
        return False


def read_cache(path: Path) -> dict:
    """The cache's entries by CPU key; none if it is missing or not a JSON object."""
    try:
        entries = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return entries if isinstance(entries, dict) else {}


def write_cache(path: Path, entries: dict) -> bool:
    """Replace the cache file with entries in one step (a reader never sees half of it); whether it could."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as file:
            json.dump(entries, file, indent=2)
        os.replace(file.name, path)
    except OSError:
        return False
    return True


def measure_steps() -> dict[str, float]:
    """Median seconds of one training step of NETWORK, as its recipe trains it (optimizer, schedule,
    batch size) on a batch of random pixels, in each precision; the two networks step in turn, so a
    busy machine slows both alike."""
    import numpy as np

    from mnist_mlops import models
    from mnist_mlops.config import TrainConfig
    from mnist_mlops.data import N_CLASSES, N_PIXELS
    from mnist_mlops.models.keras_classifier import NetworkClassifier

    family = models.family(NETWORK)
    params = family.hyperparameters(TrainConfig(arch=NETWORK, precision="float32", quiet=True))
    random = np.random.default_rng(0)
    x = random.random((params["batch_size"], N_PIXELS), dtype=np.float32)
    y = random.integers(0, N_CLASSES, params["batch_size"])
    networks = {}
    for precision in PRECISIONS:
        classifier = family.build({**params, "precision": precision}, 0)
        assert isinstance(classifier, NetworkClassifier)
        classifier.compile(n_train=len(x) * STEPS)
        for _ in range(WARM_UP_STEPS):
            classifier.estimator.train_on_batch(x, y)
        networks[precision] = classifier.estimator
    seconds: dict[str, list[float]] = {precision: [] for precision in PRECISIONS}
    for _ in range(STEPS):
        for precision, network in networks.items():
            start = time.perf_counter()
            network.train_on_batch(x, y)
            seconds[precision].append(time.perf_counter() - start)
    return {precision: round(statistics.median(times), 5) for precision, times in seconds.items()}
