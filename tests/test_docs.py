"""The docs stay true: every shell block of the README and docs/ is marked, the commands of the
blocks that cannot run in a test answer --help, every link leads somewhere, the README stays short,
and the venv its commands run in is the one `make run` makes. The blocks marked runnable, or
serving, run on the main job's store, in tests/jobs/test_pipeline.py."""

import os
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner
from mlflow.cli import cli as mlflow_cli

from mnist_mlops.cli import cli
from tests.docs_blocks import REPO, blocks, broken_links, commands
from tests.make_run_env import make_run_env

CLIS = {"mnist-mlops": cli, "mlflow": mlflow_cli}


def subcommand(group: click.Command, words: list[str]) -> list[str]:
    """The leading words that name a (sub)command of a click group."""
    path = []
    while isinstance(group, click.Group) and words:
        found = group.get_command(click.Context(group), words[0])  # MLflow's group loads its commands lazily
        if found is None:
            break
        group = found
        path.append(words.pop(0))
    return path


def test_every_shell_block_says_whether_it_runs():
    unmarked = [block.where for block in blocks() if block.marker is None]
    assert unmarked == [], "mark each with <!-- runs --> or <!-- does not run: why -->"
    assert sum(block.runs for block in blocks()) >= 5


@pytest.mark.parametrize("block", [block for block in blocks() if not block.runs], ids=lambda block: block.where)
def test_the_commands_of_a_block_that_does_not_run_answer_help(block):
    for words in commands(block.text):
        if words[0] in CLIS:
            path = subcommand(CLIS[words[0]], words[1:])
            result = CliRunner().invoke(CLIS[words[0]], [*path, "--help"])
            assert result.exit_code == 0, f"{block.where}: {' '.join(words[:3])} --help: {result.output}"
            assert path or words[1:] == [] or words[1].startswith("-"), f"{block.where}: no command {words[1]!r}"
        elif words[0] == "make":
            done = subprocess.run(["make", "-n", words[1]], cwd=REPO, capture_output=True, text=True)
            assert done.returncode == 0, f"{block.where}: make {words[1]}: {done.stderr}"


def test_every_relative_link_leads_to_a_file_and_its_heading():
    assert broken_links() == []


def test_the_readme_is_read_in_five_minutes():
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 150 and "![" in readme


def test_the_make_run_venv_has_the_page_and_not_what_only_make_test_installs():
    """The README's blocks run where these imports fail as they would after `make run`."""
    modules = ("gradio", "mlflow", "pyspark", "pytest")
    probe = f"import importlib.util as u; print([m for m in {modules} if u.find_spec(m)])"
    env = {**os.environ, **make_run_env()}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['gradio', 'mlflow']"
    done = subprocess.run([sys.executable, "-c", "import pyspark"], env=env, capture_output=True, text=True)
    assert "No module named 'pyspark'" in done.stderr
