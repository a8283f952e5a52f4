"""Who may open the page: 127.0.0.1 by default; beyond it, a password (never on the command line) or
--insecure."""

import pytest
from click.testing import CliRunner

from mnist_mlops.cli import cli
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.playground.config import PASSWORD_VARIABLE, PlaygroundConfig
from mnist_mlops.playground.serve import login


def test_loopback_needs_no_password_and_beyond_it_one_is_asked_for(monkeypatch, tmp_path):
    monkeypatch.delenv(PASSWORD_VARIABLE, raising=False)
    assert login(PlaygroundConfig()) is None
    with pytest.raises(MnistMlopsError, match=f"--host 0.0.0.0 lets anyone .* set \\${PASSWORD_VARIABLE}"):
        login(PlaygroundConfig(host="0.0.0.0"))
    assert login(PlaygroundConfig(host="0.0.0.0", insecure=True)) is None
    monkeypatch.setenv(PASSWORD_VARIABLE, "from the environment")
    assert login(PlaygroundConfig(host="0.0.0.0")) == ("mnist", "from the environment")
    secret = tmp_path / "password"
    secret.write_text("from a file\n")
    assert login(PlaygroundConfig(host="0.0.0.0", user="ana", password_file=str(secret))) == ("ana", "from a file")
    secret.write_text("")
    with pytest.raises(MnistMlopsError, match="--password-file .*: the file is empty"):
        login(PlaygroundConfig(password_file=str(secret)))


def test_the_command_refuses_an_open_bind_before_starting(monkeypatch):
    monkeypatch.delenv(PASSWORD_VARIABLE, raising=False)
    result = CliRunner().invoke(cli, ["playground", "--host", "0.0.0.0", "--port", "1"])
    assert result.exit_code == 1 and "--host 0.0.0.0 lets anyone who reaches port 1" in result.output
