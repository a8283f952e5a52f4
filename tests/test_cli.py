"""The command line: help, bad input, and that a failure leaves no run RUNNING."""

import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from click.testing import CliRunner

from mnist_mlops.cli import cli, show_warning

REPO = Path(__file__).resolve().parents[1]


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


def test_help_lists_the_jobs():
    result = invoke("--help")
    assert result.exit_code == 0 and "baseline" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "svm"], "'svm' is not one of"),
        (["--limit", "-3"], "-3 is not in the range x>=0"),
        (["--k", "0"], "0 is not in the range x>=1"),
        (["--n-estimators", "0"], "0 is not in the range x>=1"),
        (["--val-fraction", "1.5"], "1.5 is not in the range 0<x<1"),
        (["--C", "0"], "0.0 is not in the range x>0"),
    ],
)
def test_bad_options_fail_before_any_run(tracking_store, args, message):
    result = invoke("baseline", *args)
    assert result.exit_code == 2 and message in result.output
    assert mlflow.search_runs(search_all_experiments=True).empty


def test_missing_files_and_no_network(tracking_store, tmp_path):
    result = invoke("baseline", "--model", "dummy", "--data-dir", str(tmp_path / "empty"))
    assert result.exit_code == 1
    *attempts, error = result.output.splitlines()  # the job's progress lines, then the error in one line
    assert all(line.startswith("download http://127.0.0.1:9/") for line in attempts)
    assert error.startswith("Error: train-images-idx3-ubyte.gz is not in") and "no mirror served it intact" in error
    assert mlflow.search_runs(search_all_experiments=True).empty


@pytest.mark.parametrize("store", ["a-folder", "a-file/mlflow.db"])
def test_a_tracking_store_that_cannot_be_opened(tmp_path, monkeypatch, store):
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / store}")
    result = invoke("baseline", "--model", "dummy", "--limit", "500")
    assert result.exit_code == 1 and len(result.output.splitlines()) == 1
    assert result.output.startswith(f"Error: cannot open the SQLite tracking store sqlite:///{tmp_path / store}: ")


def test_checksum_mismatch(tracking_store, offline_data, tmp_path):
    for path in offline_data.glob("*.gz"):
        shutil.copy(path, tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(b"not mnist")
    result = invoke("baseline", "--model", "dummy", "--data-dir", str(tmp_path))
    assert result.exit_code == 1 and "train-labels-idx1-ubyte.gz: SHA-256 mismatch" in result.output
    assert mlflow.search_runs(search_all_experiments=True).empty


@pytest.mark.slow
def test_sigterm_mid_run_marks_the_run_failed(tracking_store):
    assert mlflow.search_runs(search_all_experiments=True).empty  # creates the store before the child uses it
    process = subprocess.Popen(
        # A network: Python runs between its batches, so the stop is handled at once (a forest's fit in
        # native threads would hold it until the fit ends).
        [
            sys.executable,
            "-m",
            "mnist_mlops",
            "train",
            "--arch",
            "mlp",
            "--epochs",
            "50",
            "--limit",
            "20000",
            "--quiet",
        ],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if (mlflow.search_runs(search_all_experiments=True)["status"] == "RUNNING").any():
            break
        time.sleep(0.5)
    assert process.poll() is None, "the job ended before it could be stopped: " + process.stderr.read()[-2000:]
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    runs = mlflow.search_runs(search_all_experiments=True)
    assert runs["status"].tolist() == ["FAILED"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hidden", ""], "Invalid value for '--hidden': '' is not a comma-separated list"),
        (["--hidden", "256,-8"], "Invalid value for '--hidden': '256,-8': every layer size must be a positive"),
        (["--filters", "0"], "Invalid value for '--filters'"),
        (["--activation", "sigmoidal"], "Invalid value for '--activation'"),
        (["--optimizer", "rmsprop"], "Invalid value for '--optimizer'"),
        (["--dropout", "1"], "Invalid value for '--dropout': 1.0 is not in the range 0<=x<1"),
        (["--dropout", "-0.1"], "Invalid value for '--dropout'"),
        (["--arch", "rnn"], "Invalid value for '--arch'"),
        (["--batch-norm", "maybe"], "Invalid value for '--batch-norm'"),
    ],
)
def test_bad_network_options_fail_before_training(tracking_store, args, message):
    result = invoke("train", *args)
    assert result.exit_code == 2 and message in result.output
    assert mlflow.search_runs(search_all_experiments=True).empty


def test_a_librarys_deprecation_is_never_shown_but_other_warnings_are():
    with warnings.catch_warnings(record=True) as shown:  # what would have been printed
        for category in (DeprecationWarning, pd.errors.Pandas4Warning, UserWarning):
            show_warning(category(f"a {category.__name__}"), category, "library.py", 1)
    assert [str(warning.message) for warning in shown] == ["a UserWarning"]
