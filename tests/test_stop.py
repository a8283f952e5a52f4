"""A stop signal ends the job with 128 + signal and its run FAILED, even where Python swallows its exit."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import mlflow

REPO = Path(__file__).resolve().parents[1]

# The SIGTERM arrives inside a finaliser, where the SystemExit its handler raises is "ignored".
SWALLOWED_STOP = """
import os, signal
from mnist_mlops import stop
from mnist_mlops.tracking import runs

class SignalsWhenCollected:
    def __del__(self):
        os.kill(os.getpid(), signal.SIGTERM)

stop.exit_on_stop_signals()
runs.use_tracking("stopped")
with runs.run("swallowed", {}):
    SignalsWhenCollected()
    print("the job went on")
"""


def test_a_swallowed_stop_still_ends_the_run_failed(tracking_store):
    done = subprocess.run(
        [sys.executable, "-c", SWALLOWED_STOP],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "the job went on" in done.stdout  # the exit was swallowed: the check at the run's end is what stops it
    assert done.returncode == 128 + signal.SIGTERM, done.stderr
    assert mlflow.search_runs(search_all_experiments=True)["status"].tolist() == ["FAILED"]
