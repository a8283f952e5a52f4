"""The MLflow Project: parameters reach the CLI, pins agree, `mlflow run` works end to end (the main
entry point, the whole pipeline, in tests/jobs/test_pipeline.py)."""

import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml

from mnist_mlops.cli import cli
from tests.docs_blocks import blocks, commands
from tests.make_run_env import make_run_env

REPO = Path(__file__).resolve().parents[1]
MLPROJECT = yaml.safe_load((REPO / "MLproject").read_text())
ENTRY_POINTS = sorted(MLPROJECT["entry_points"])


def parse_entry_point(name: str, values: dict) -> tuple[str, dict]:
    """Render an entry point's command with values and parse it with the CLI; return subcommand and params."""
    entry = MLPROJECT["entry_points"][name]
    command = entry["command"].format(**{key: shlex.quote(str(value)) for key, value in values.items()})
    words = shlex.split(command)
    assert words[:3] == ["python", "-m", "mnist_mlops"], command
    subcommand = cli.get_command(None, words[3])
    return words[3], subcommand.make_context(words[3], words[4:]).params


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_every_parameter_reaches_its_option(name):
    parameters = MLPROJECT["entry_points"][name]["parameters"]
    placeholders = re.findall(r"\{(\w+)\}", MLPROJECT["entry_points"][name]["command"])
    assert sorted(placeholders) == sorted(parameters), "each parameter is used exactly once"
    subcommand, parsed = parse_entry_point(name, given(parameters))
    for key in parameters:
        assert key in parsed, f"{key} is not an option of `{subcommand}`"


def given(parameters: dict) -> dict:
    """Each parameter's default, or for a required one (score's input, output) a path as a user gives it."""
    return {key: spec.get("default", f"/some/{key}") for key, spec in parameters.items()}


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_mlproject_defaults_are_the_cli_defaults(name):
    parameters = MLPROJECT["entry_points"][name]["parameters"]
    subcommand, parsed = parse_entry_point(name, given(parameters))
    cli_defaults = cli.get_command(None, subcommand).make_context(subcommand, []).params
    for key, spec in parameters.items():
        assert parsed[key] == cli_defaults[key] if "default" in spec else cli_defaults[key] is None, key


def test_a_given_value_lands_in_its_option():
    parameters = MLPROJECT["entry_points"]["baseline"]["parameters"]
    values = {key: spec["default"] for key, spec in parameters.items()}
    values.update(model="knn", data_dir="/some where", limit=300, k=7, C=0.25, max_depth=9, weights="uniform")
    _, parsed = parse_entry_point("baseline", values)
    assert (parsed["model"], parsed["data_dir"], parsed["limit"], parsed["k"]) == ("knn", "/some where", 300, 7)
    assert (parsed["C"], parsed["max_depth"], parsed["weights"]) == (0.25, 9, "uniform")


def test_conda_env_pins_the_same_dependencies_as_pyproject():
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    conda = yaml.safe_load((REPO / "conda.yaml").read_text())
    pip_section = next(item["pip"] for item in conda["dependencies"] if isinstance(item, dict))
    assert sorted(pip_section) == sorted(pyproject)
    assert MLPROJECT["conda_env"] == "conda.yaml"


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in readme and "make run" in readme
    assert ci.strip().splitlines()[-1] == "make test"


@pytest.mark.slow
def test_mlflow_run_baseline_end_to_end(tracking_store, tmp_path, project):
    _, runs = project.run("baseline", tmp_path, "model=knn", "limit=1000", "k=3")
    assert len(runs) == 1
    run = runs.iloc[0]
    assert run["status"] == "FINISHED" and run["tags.mlflow.project.entryPoint"] == "baseline"
    assert run["params.clf__n_neighbors"] == "3" and run["metrics.test_accuracy"] > 0.85


@pytest.mark.slow
def test_mlflow_run_train_end_to_end(tracking_store, tmp_path, project):
    _, runs = project.run("train", tmp_path, "arch=mlp", "hidden=64", "limit=1000", "epochs=2", "augment=false")
    run = runs.iloc[0]
    assert len(runs) == 1 and run["status"] == "FINISHED" and run["tags.mlflow.project.entryPoint"] == "train"
    assert run["params.hidden"] == "64" and run["params.augment"] == "false" and run["params.epochs"] == "2"
    assert run["metrics.epochs_run"] == 2 and run["metrics.test_accuracy"] > 0.5


def readme_mlflow_run() -> list[str]:
    """The README's `mlflow run` command, as words."""
    readme = [block for block in blocks() if block.where.startswith("README.md")]
    return next(words for block in readme for words in commands(block.text) if words[:2] == ["mlflow", "run"])


def run_readme_mlflow_run(folder: Path, *params: str) -> tuple[subprocess.CompletedProcess, pd.DataFrame]:
    """The README's `mlflow run` with params added, from a clone (.) in the venv `make run` makes; the
    finished command and the runs of its experiment."""
    words = readme_mlflow_run()
    assert words[words.index("--env-manager") + 1] == "local", "without it MLflow needs conda"
    command = [str(REPO) if word == "." else word for word in words]
    for param in params:
        command += ["-P", param]
    env = {key: value for key, value in os.environ.items() if not key.startswith("MLFLOW_EXPERIMENT")} | make_run_env()
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # the activated venv
    done = subprocess.run(command, env=env, cwd=folder, capture_output=True, text=True, timeout=900)
    return done, mlflow.search_runs(experiment_names=[words[words.index("--experiment-name") + 1]])


@pytest.mark.slow
def test_the_readmes_mlflow_run_of_tune_works_in_the_make_run_venv(tracking_store, tmp_path):
    done, runs = run_readme_mlflow_run(tmp_path, "limit=1000")
    assert done.returncode == 0, done.stderr[-3000:]
    parent = runs[runs["tags.mlflow.project.entryPoint"] == "tune"]
    children = runs[runs["tags.mlflow.parentRunId"].notna()]
    assert len(parent) == 1 and len(children) == 4 and (runs["status"] == "FINISHED").all()
    assert parent["params.family"].item() == "knn" and parent["params.limit"].item() == "1000"
    assert parent["tags.registered_version"].item() == "1"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("param", "error"),
    [("algo=nosuch", "Invalid value for '--algo'"), ("data_dir={corrupt}", "SHA-256 mismatch")],
    ids=["refused-option", "failed-job"],
)
def test_a_failing_mlflow_run_leaves_no_running_run(tracking_store, tmp_path, param, error):
    corrupt = tmp_path / "corrupt"  # MNIST's training images, but not the official file
    corrupt.mkdir()
    (corrupt / "train-images-idx3-ubyte.gz").write_bytes(b"not MNIST")
    done, runs = run_readme_mlflow_run(tmp_path, "limit=1000", param.format(corrupt=corrupt))
    assert done.returncode != 0 and error in done.stderr, done.stderr[-3000:]
    assert len(runs) >= 1 and (runs["status"] == "FAILED").all(), runs["status"].tolist()
