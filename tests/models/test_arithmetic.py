"""What `precision: auto` trains in: measured once per CPU model, kept in the user's cache.

The measurements are real (the CNN's training steps on this machine); the CPUs are described by
cpuinfo files, so that the tests name a CPU with bfloat16 instructions on any machine."""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from mnist_mlops.config import PipelineConfig
from mnist_mlops.models import arithmetic
from mnist_mlops.models.arithmetic import PRECISIONS, Cpu, choose, tensorflow_version, valid


def cpuinfo(folder, model: str, flags: str):
    """A /proc/cpuinfo of two processors of one model with these flags."""
    path = folder / f"cpuinfo-{model.replace(' ', '-')}"
    processor = f"model name\t: {model}\nflags\t\t: fpu sse2 avx2 {flags}\n"
    path.write_text(f"processor\t: 0\n{processor}\nprocessor\t: 1\n{processor}")
    return path


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    """A cache made by one real measurement for a CPU with AVX512-BF16, its cpuinfo, the choice and its seconds."""
    folder = tmp_path_factory.mktemp("arithmetic")
    cpu, cache = cpuinfo(folder, "Test CPU A", "avx512_bf16"), folder / "cache" / "precision.json"
    start = time.perf_counter()
    choice = choose(cpu, cache)
    return cpu, cache, choice, time.perf_counter() - start


def test_the_cache_is_written_once_and_reused(measured, tmp_path):
    cpu, cache, choice, seconds = measured
    entry = json.loads(cache.read_text())["Test CPU A (avx512_bf16)"]
    assert choice.chosen_by == "measured speed" and choice.step_seconds == entry["step_seconds"]
    assert set(entry["step_seconds"]) == set(PRECISIONS) and all(s > 0 for s in entry["step_seconds"].values())
    assert choice.precision == min(PRECISIONS, key=entry["step_seconds"].get)
    assert entry["tensorflow"] == tensorflow_version() != "none" and entry["measured_at"] == choice.measured_at
    assert seconds < 60  # about 5 s on 2 idle cores; a loaded test machine is slower
    copy = tmp_path / "precision.json"
    copy.write_bytes(cache.read_bytes())
    written = copy.stat().st_mtime_ns
    start = time.perf_counter()
    assert choose(cpu, copy) == choice and time.perf_counter() - start < 1  # read back, not measured
    assert copy.stat().st_mtime_ns == written
    entry["step_seconds"] = {"float32": 0.02, "mixed_bfloat16": 0.01} if choice.precision == "float32" else {
        "float32": 0.01, "mixed_bfloat16": 0.02}  # fmt: skip
    copy.write_text(json.dumps({"Test CPU A (avx512_bf16)": entry}))
    swapped = choose(cpu, copy)  # what the file says, however this machine measures
    assert swapped.precision != choice.precision and swapped.step_seconds == entry["step_seconds"]
    assert swapped.metrics() == {f"{p}_step_seconds": entry["step_seconds"][p] for p in PRECISIONS}


def test_a_cache_from_another_cpu_model_is_not_used(measured, tmp_path):
    _, cache, choice, _ = measured
    copy = tmp_path / "precision.json"
    copy.write_bytes(cache.read_bytes())
    other = choose(cpuinfo(tmp_path, "Test CPU B", "amx_bf16 avx512_bf16"), copy)
    assert other.chosen_by == "measured speed" and other.measured_at > choice.measured_at  # measured again
    entries = json.loads(copy.read_text())
    assert entries["Test CPU B (amx_bf16, avx512_bf16)"]["step_seconds"] == other.step_seconds
    assert entries["Test CPU A (avx512_bf16)"] == json.loads(cache.read_text())["Test CPU A (avx512_bf16)"]
    assert Cpu("X", ("amx_bf16",)).key != Cpu("X", ("amx_bf16", "avx512_bf16")).key != Cpu("Y", ("amx_bf16",)).key


def test_a_corrupt_cache_file_is_measured_again(tmp_path):
    cache = tmp_path / "precision.json"
    cache.write_text('{"Test CPU A (avx512_bf16)": {"step_seconds": ')
    choice = choose(cpuinfo(tmp_path, "Test CPU A", "avx512_bf16"), cache)
    assert choice.chosen_by == "measured speed" and all(choice.step_seconds[p] > 0 for p in PRECISIONS)
    assert json.loads(cache.read_text())["Test CPU A (avx512_bf16)"]["step_seconds"] == choice.step_seconds


def test_two_callers_at_once_measure_once(tmp_path):
    """The second waits on the cache's lock file and reads what the first measured."""
    cpu, cache = cpuinfo(tmp_path, "Test CPU C", "amx_bf16"), tmp_path / "cache" / "precision.json"
    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(lambda _: choose(cpu, cache), range(2))
    assert first == second and first.chosen_by == "measured speed"
    assert list(json.loads(cache.read_text())) == ["Test CPU C (amx_bf16)"]


@pytest.mark.parametrize(
    "entry",
    [None, [], {}, {"step_seconds": {"float32": 0.05}, "measured_at": "2026-12-01", "tensorflow": "same"},
     {"step_seconds": {"float32": 0.05, "mixed_bfloat16": "fast"}, "measured_at": "2026-12-01", "tensorflow": "same"},
     {"step_seconds": {"float32": 0.05, "mixed_bfloat16": 0}, "measured_at": "2026-12-01", "tensorflow": "same"},
     {"step_seconds": {"float32": 0.05, "mixed_bfloat16": 0.04}, "measured_at": "2026-12-01", "tensorflow": "1.0"}],
)  # fmt: skip
def test_an_entry_is_used_only_whole_and_from_this_tensorflow(entry):
    if isinstance(entry, dict) and entry.get("tensorflow") == "same":
        entry["tensorflow"] = tensorflow_version()
    assert not valid(entry)
    good = {"step_seconds": {"float32": 0.05, "mixed_bfloat16": 0.04}, "measured_at": "2026-12-01"}
    assert valid({**good, "tensorflow": tensorflow_version()})


def test_without_bfloat16_instructions_auto_is_float32_and_nothing_is_measured(tmp_path):
    cache = tmp_path / "cache" / "precision.json"
    for cpu in (cpuinfo(tmp_path, "Old CPU", "avx512f"), tmp_path / "no-cpuinfo"):
        choice = choose(cpu, cache)
        assert (choice.precision, choice.chosen_by, choice.step_seconds) == ("float32", "no bfloat16 instructions", {})
        assert choice.params()["cpu_bfloat16"] == "none" and choice.metrics() == {}
    assert not cache.parent.exists()


def test_the_cache_is_where_the_user_cache_is(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert arithmetic.user_cache(arithmetic.CACHE_FILE) == tmp_path / "mnist-mlops" / "precision.json"


def test_what_is_timed_is_the_network_the_main_job_trains():
    assert PipelineConfig().arch == arithmetic.NETWORK
