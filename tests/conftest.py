"""Shared fixtures: the offline MNIST folder, a temporary MLflow store, a small data set, real servers."""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import cv2
import mlflow
import numpy as np
import pandas as pd
import pytest

from mnist_mlops import processes, tracking
from mnist_mlops.data import load_mnist
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.processes import free_port, still_running, tree_of

REPO = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"
# Nothing listens on the discard port: an accidental download fails at once instead of going online.
UNREACHABLE_MIRROR = "http://127.0.0.1:9/"


# Tests that may skip under `make test`, each with its reason. `make test` passes --fail-on-skip, so
# any other skip (a missing PostgreSQL, Chromium or Java) fails the run instead of passing it silently.
LISTED_SKIPS: dict[str, str] = {}


def pytest_addoption(parser):
    parser.addoption("--fail-on-skip", action="store_true", help="fail the run if a test not in LISTED_SKIPS skips")
    parser.addoption("--pictures", action="store_true", help="save the screenshots tests take into docs/")


def pytest_sessionfinish(session, exitstatus):
    """With --fail-on-skip, name every skipped test that LISTED_SKIPS does not list, and fail the run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if not session.config.getoption("--fail-on-skip") or reporter is None:
        return
    unlisted = [report.nodeid for report in reporter.stats.get("skipped", []) if report.nodeid not in LISTED_SKIPS]
    if unlisted:
        reporter.write_sep("=", "skipped, and not in LISTED_SKIPS of tests/conftest.py: the run fails", red=True)
        for nodeid in unlisted:
            reporter.write_line(nodeid)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_collection_modifyitems(items):
    """Modules with slow tests first, then by their number of tests: under --dist loadscope with
    --no-loadscope-reorder (the Makefile's), the long modules start early and the short ones even out
    the two workers at the end, instead of a one-test module of minutes starting last."""
    modules: dict[str, list] = {}
    for item in items:
        modules.setdefault(item.nodeid.split("::", 1)[0], []).append(item)
    slow_first = lambda tests: (not any(test.get_closest_marker("slow") for test in tests), -len(tests))  # noqa: E731
    ranked = sorted(modules.values(), key=slow_first)
    items[:] = [item for tests in ranked for item in tests]


@pytest.fixture(scope="session", autouse=True)
def offline_data() -> Path:
    """Point every test at the checksum-verified files in ../shared and forbid downloads."""
    data_dir = Path(os.environ.get("MNIST_DATA_DIR") or SHARED_MNIST)
    if not (data_dir / "train-images-idx3-ubyte.gz").exists():
        pytest.exit(f"MNIST files not found in {data_dir}: set MNIST_DATA_DIR", returncode=2)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MNIST_DATA_DIR", str(data_dir))
        patch.setenv("MNIST_MIRRORS", UNREACHABLE_MIRROR)
        yield data_dir


MLFLOW_STATE_VARIABLES = ("MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID")


def clear_mlflow_state_variables() -> None:
    """Remove what mlflow.set_experiment() or `mlflow run` leave in os.environ for the next test."""
    for name in MLFLOW_STATE_VARIABLES:
        os.environ.pop(name, None)


@pytest.fixture(autouse=True)
def isolated_mlflow_environment():
    """Start and leave every test with no experiment or run chosen through the environment."""
    clear_mlflow_state_variables()
    yield
    clear_mlflow_state_variables()


@contextlib.contextmanager
def store_in(folder: Path):
    """Work in folder, with its SQLite file as the MLflow store; yield the store's URI."""
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        tracking.use_tracking_uri()  # as the jobs open it: in WAL mode
        yield uri
        while mlflow.active_run():
            mlflow.end_run()
        clear_mlflow_state_variables()
    mlflow.set_tracking_uri(previous)  # an enclosing module's store, if any


@pytest.fixture(scope="session")
def temporary_store():
    """The store_in context manager, for module-scoped fixtures that make runs once."""
    return store_in


@pytest.fixture(scope="session")
def registered_store(tmp_path_factory) -> Path:
    """The folder of a store made once for the tests that read registered versions (enter it with
    temporary_store): version 1, the champion, is a one-trial kNN search on 3,000 images; version 2,
    not promoted, the fast network trained one epoch on 1,000."""
    from mnist_mlops.config import TrainConfig, TuneConfig
    from mnist_mlops.jobs.train import run_training
    from mnist_mlops.jobs.tune import run_search

    folder = tmp_path_factory.mktemp("registered")
    with store_in(folder):
        run_search(TuneConfig(family="knn", max_evals=1, limit=3000, quiet=True, experiment="registered"))
        network = run_training(
            TrainConfig(arch="fast", limit=1000, epochs=1, quiet=True, register=True, experiment="registered")
        )
    assert not network.promotion.promoted, network.promotion.decision  # the tests read the kNN as champion
    return folder


def registered_copy(registered_store: Path, tmp_path_factory, name: str) -> Path:
    """A copy of the registered store, for a module whose runs or corrections go into it."""
    folder = tmp_path_factory.mktemp(name) / "store"
    shutil.copytree(registered_store, folder)
    return folder


def photo_png(gray: np.ndarray, side: int = 140) -> bytes:
    """A digit in [0, 1] as a client photographs it: dark ink on white, side x side PNG bytes."""
    ink = cv2.resize(gray, (side, side), interpolation=cv2.INTER_LINEAR)
    return cv2.imencode(".png", (255 - ink * 255).astype(np.uint8))[1].tobytes()


@pytest.fixture
def tracking_store(tmp_path: Path) -> str:
    """Run the test in a temporary folder whose SQLite file is the MLflow store; return its URI."""
    with store_in(tmp_path) as uri:
        yield uri


@pytest.fixture(scope="session")
def small_mnist():
    """1,000 stratified training images (900 train, 100 validation) and the full test set."""
    return load_mnist(limit=1000, seed=7)


def terminal_signals() -> None:
    """Ctrl-C and hang-up at their defaults, as in a terminal, even when the test run ignores them (under
    nohup, or a shell's background job), which the server would inherit."""
    for stop_signal in (signal.SIGINT, signal.SIGHUP):
        signal.signal(stop_signal, signal.SIG_DFL)


def start(command: list[str], url: str, env: dict, cwd: Path) -> subprocess.Popen:
    """Start a server in its own process group and wait until url answers 200."""
    # `mlflow models serve` execs uvicorn by name: the environment's bin folder must be on PATH.
    env = {**env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"}
    process = processes.start(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True, preexec_fn=terminal_signals)  # fmt: skip
    try:
        processes.wait_until_answering(url, process, seconds=180)
    except MnistMlopsError as error:
        processes.stop(process)
        raise AssertionError(f"{error}\n{process.stderr.read()[-3000:]}") from None
    return process


def stop(process: subprocess.Popen) -> None:
    """Stop a server's whole process tree and check it stopped on SIGTERM, leaving nothing behind."""
    tree = tree_of(process)
    assert processes.stop(process), f"{process.args} or a process it started outlived SIGTERM by 30 s"
    assert not still_running(tree)


CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium driven by chromedriver, both from Debian (never downloaded)."""
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail("chromium and chromium-driver are not installed: `apt-get install chromium chromium-driver`")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-dev-shm-usage", "--window-size=1400,1000"):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def pictures(request, tmp_path_factory) -> Path:
    """Where tests save the screenshots they take: docs/ with --pictures (the docs' pictures), else a
    temporary folder."""
    return REPO / "docs" if request.config.getoption("--pictures") else tmp_path_factory.mktemp("pictures")


@pytest.fixture(scope="session")
def servers() -> SimpleNamespace:
    """Real servers on 127.0.0.1: free_port(), start(...), stop(process), tree_of(process), still_running(pids)."""
    return SimpleNamespace(free_port=free_port, start=start, stop=stop, tree_of=tree_of, still_running=still_running)


def mlflow_run(entry_point: str, folder: Path, *params: str) -> tuple[subprocess.CompletedProcess, pd.DataFrame]:
    """Run `mlflow run REPO -e entry_point --env-manager local -P param ...` in folder, into the current
    store's new experiment project-ENTRY_POINT; return the finished command and that experiment's runs."""
    experiment = f"project-{entry_point}"
    mlflow.create_experiment(experiment, artifact_location=(folder / "artifacts").as_uri())
    env = {key: value for key, value in os.environ.items() if not key.startswith("MLFLOW_EXPERIMENT")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    command = [sys.executable, "-m", "mlflow", "run", str(REPO), "-e", entry_point, "--env-manager", "local",
               "--experiment-name", experiment]  # fmt: skip
    for param in params:
        command += ["-P", param]
    done = subprocess.run(command, env=env, cwd=folder, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return done, mlflow.search_runs(experiment_names=[experiment])


@pytest.fixture(scope="session")
def project() -> SimpleNamespace:
    """This MLflow Project as `mlflow run` runs it: project.run(entry_point, folder, *params)."""
    return SimpleNamespace(run=mlflow_run)


@pytest.fixture(scope="module")
def tracking_server(tmp_path_factory, servers):
    """`mnist-mlops server` on a free port, with runs, registry and artifacts in a temporary folder."""
    folder = tmp_path_factory.mktemp("server")
    port = servers.free_port()
    command = [sys.executable, "-m", "mnist_mlops", "server", "--port", str(port)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = servers.start(command, f"http://127.0.0.1:{port}/health", env, folder)
    url = f"http://127.0.0.1:{port}"
    previous = mlflow.get_tracking_uri()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", url)
        patch.chdir(folder)
        mlflow.set_tracking_uri(url)
        yield url
        patch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    mlflow.set_tracking_uri(previous)
    servers.stop(process)
    assert (folder / "mlflow.db").exists() and any((folder / "mlartifacts").iterdir())
