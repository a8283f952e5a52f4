"""The dashboard, built from real small runs of every kind and opened in headless Chromium (the
MLflow UI is opened on the main job's store, in tests/jobs/test_pipeline.py)."""

import re

import mlflow
import pytest
from click.testing import CliRunner

from mnist_mlops.cli import cli
from mnist_mlops.config import BaselineConfig, RobustnessConfig, TrainConfig, TuneConfig
from mnist_mlops.jobs.baseline import run_baselines
from mnist_mlops.jobs.dashboard import build_dashboard
from mnist_mlops.jobs.robustness import run_robustness
from mnist_mlops.jobs.train import run_training
from mnist_mlops.jobs.tune import run_search

pytestmark = pytest.mark.slow
SMALL = {"limit": 1000, "seed": 4, "experiment": "dash"}


@pytest.fixture(scope="module")
def store_with_every_kind(tmp_path_factory, temporary_store):
    """Baselines, a network, a TPE and a random search, and a registered champion with its robustness
    report (20 photos of each kind of paper: the page shows the figure, whatever it is)."""
    with temporary_store(tmp_path_factory.mktemp("dash")) as uri:
        run_baselines(BaselineConfig(model="all", **SMALL))
        run_training(TrainConfig(arch="mlp", hidden=(32,), epochs=2, quiet=True, augment=False, **SMALL))
        tpe = run_search(TuneConfig(family="knn", algo="tpe", max_evals=3, quiet=True, **SMALL))
        run_search(TuneConfig(family="knn", algo="random", max_evals=3, quiet=True, **SMALL))
        run_robustness(RobustnessConfig(input_format="rows", paper_images=20, experiment=SMALL["experiment"]))
        yield uri, tpe


def errors_in_console(driver) -> list:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_dashboard_shows_every_section_with_real_numbers(store_with_every_kind, browser, tmp_path):
    _, tpe = store_with_every_kind
    page = build_dashboard(["dash"], tmp_path / "site")
    html = page.read_text()
    assert "http://" not in re.sub(r'href="[^"]*"', "", html) and "https://" not in html  # nothing fetched
    browser.get(page.as_uri())
    text = browser.find_element("tag name", "body").text
    for heading in ("Leaderboard", "Best run per family", "Tuning", "Champion", "Registry"):
        assert heading in text
    for family in ("dummy", "logreg", "knn", "rf", "mlp"):
        assert family in browser.find_element("id", "leaderboard").text
    champion = browser.find_element("id", "champion")
    assert f"{tpe.metrics['test_accuracy']:.4f}" in champion.text
    assert re.search(r"mean accuracy under corruption 0\.\d{4} \(severity 3\), on paper 0\.\d{4}", champion.text)
    assert champion.find_elements("css selector", "img[alt='robustness_accuracy.png']")
    assert champion.find_elements("css selector", "img[alt='robustness_paper.png']")
    tuning = browser.find_element("id", "tuning")
    assert tuning.find_elements("css selector", "img[alt='tuning knn']")
    assert "search-knn-tpe" in tuning.text and "search-knn-random" in tuning.text
    assert "promoted: there was no champion" in browser.find_element("id", "registry").text
    images = browser.find_elements("tag name", "img")
    assert len(images) >= 5 and all(browser.execute_script("return arguments[0].naturalWidth", i) > 0 for i in images)
    assert errors_in_console(browser) == []
    browser.save_screenshot(str(tmp_path / "dashboard.png"))
    assert (tmp_path / "dashboard.png").stat().st_size > 20_000


def test_an_empty_experiment_says_so(tracking_store, browser, tmp_path):
    mlflow.create_experiment("nothing-yet")
    browser.get(build_dashboard(["nothing-yet"], tmp_path / "site").as_uri())
    assert "No runs yet" in browser.find_element("id", "empty").text
    assert errors_in_console(browser) == []


def test_an_unknown_experiment_is_a_clear_error(tracking_store, tmp_path):
    result = CliRunner().invoke(cli, ["dashboard", "--experiment", "nope", "--out", str(tmp_path)])
    assert result.exit_code == 1 and "experiment 'nope' does not exist" in result.output
