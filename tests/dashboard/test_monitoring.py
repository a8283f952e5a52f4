"""The dashboard's monitoring section: the latest `mnist-mlops monitor` run's window, alerts, drift tests
and charts, read from a real SQLite store; a store without one says so."""

import html
import re
from datetime import timedelta

import mlflow
import numpy as np
from click.testing import CliRunner

from mnist_mlops.cli import cli
from mnist_mlops.jobs.dashboard import build_dashboard
from tests.jobs.test_monitor import END, stream, write_log


def section(page) -> str:
    """The page's monitoring section as HTML."""
    text = html.unescape(page.read_text())
    return text[text.index('<section id="monitoring">') :]


def words(markup: str) -> str:
    """What a section says, without its tags, one space between words."""
    return " ".join(re.sub(r"<[^>]+>", " ", markup).split())


def test_the_latest_monitoring_run_is_shown_with_its_alerts_and_drift(tracking_store, tmp_path):
    rng, ones = np.random.default_rng(1), np.full(10, 0.05)
    ones[1] = 0.55
    write_log(tmp_path / "log", stream(rng, 0.5, ones) + stream(rng, 24.5))
    for end in (END - timedelta(hours=24), END):  # the later window is the one shown
        CliRunner().invoke(cli, ["monitor", "--log", str(tmp_path / "log"), "--end", end.isoformat()])
    shown = section(build_dashboard([], tmp_path / "site"))
    said = words(shown)
    assert "run, 2026-12-06T12:00 to 2026-12-07T12:00 UTC: 600 records, refused rate 0.000" in said
    assert "Alerts: the predicted digits' mix drifted from the previous window's: chi-square p = " in said
    assert "previous window all digit chi-square" in said and "previous window all confidence Kolmogorov" in said
    assert 'alt="drift.png"' in shown and 'alt="digit_mix.png"' in shown


def test_a_store_without_monitoring_says_so(tracking_store, tmp_path):
    mlflow.create_experiment("nothing-yet")
    assert "No monitoring run yet" in section(build_dashboard(["nothing-yet"], tmp_path / "site"))
