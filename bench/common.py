"""What every benchmark shares: running a job in a measured subprocess and writing its report."""

import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import mlflow
import pandas as pd

from mnist_mlops.models.arithmetic import cpu_bfloat16, cpu_model

RESULTS = Path(__file__).parent / "results"
REPO = Path(__file__).resolve().parents[1]


def store_uri(workdir: Path) -> str:
    """The SQLite store of a benchmark's working folder."""
    return f"sqlite:///{workdir / 'mlflow.db'}"


def bench_runs(workdir: Path, filter_string: str = "") -> pd.DataFrame:
    """The runs that a benchmark's jobs logged to the experiment 'bench' of workdir's store."""
    mlflow.set_tracking_uri(store_uri(workdir))
    return mlflow.search_runs(experiment_names=["bench"], filter_string=filter_string)


def run_measured(args: list[str], workdir: Path) -> dict:
    """Run `python -m mnist_mlops ARGS` in workdir with its own SQLite store; return seconds and peak GiB."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": store_uri(workdir), "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "mnist_mlops", *args], cwd=workdir, env=env)
    _, status, usage = os.wait4(process.pid, 0)  # this job's own peak RSS (RUSAGE_CHILDREN: any child's so far)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, process.args)
    peak_kib = usage.ru_maxrss
    return {"wall_seconds": round(seconds, 1), "peak_rss_gib": round(peak_kib / 2**20, 2)}


def machine() -> dict:
    """Describe the machine the figures were measured on: its CPU model and bfloat16 instructions (AMX or AVX512)."""
    return {"cpus": os.cpu_count(), "cpu_model": cpu_model(), "python": platform.python_version(),
            "platform": platform.platform(), "cpu_bfloat16": cpu_bfloat16()}  # fmt: skip


def plain(value):
    """NumPy scalars as the Python numbers JSON knows."""
    return value.item() if hasattr(value, "item") else str(value)


def write_report(name: str, figures: dict, goals: list[tuple[str, float, str, float]]) -> Path:
    """Write results/NAME.json and NAME.md; goals are (label, measured, '>=' or '<=', target)."""
    checked = [
        {
            "goal": label,
            "measured": measured,
            "target": f"{op} {target}",
            "met": measured >= target if op == ">=" else measured <= target,
        }
        for label, measured, op, target in goals
    ]
    RESULTS.mkdir(exist_ok=True)
    record = {
        "benchmark": name,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "figures": figures,
        "goals": checked,
    }
    (RESULTS / f"{name}.json").write_text(json.dumps(record, indent=2, default=plain) + "\n")
    lines = [
        f"# Benchmark: {name}",
        "",
        f"Measured {record['when']} on {record['machine']['cpus']} CPUs ({record['machine']['cpu_model']}), "
        "bfloat16 instructions: "
        f"{', '.join(record['machine']['cpu_bfloat16']) or 'none'}.",
        "",
        "| goal | measured | target | met |",
        "|---|---|---|---|",
    ]
    lines += [f"| {g['goal']} | {g['measured']} | {g['target']} | {'yes' if g['met'] else 'NO'} |" for g in checked]
    lines += ["", "All figures:", "", "```json", json.dumps(figures, indent=2, default=plain), "```"]
    path = RESULTS / f"{name}.md"
    path.write_text("\n".join(lines) + "\n")
    return path
