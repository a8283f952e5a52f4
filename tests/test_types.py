"""The type checker over the package, as `make lint` runs it: a value that may be None (no champion,
no run) used as if it were there fails here, before it fails a user."""

import subprocess
import sys

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_mypy_finds_no_errors_in_the_package():
    done = subprocess.run([sys.executable, "-m", "mypy", "mnist_mlops"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    assert done.stdout.startswith("Success: no issues found in ")
