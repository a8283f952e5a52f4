"""The main job, the suite's one full pipeline, as `mlflow run . -e main` runs it: every stage nested
under the project's run, a console that says what it does and found and nothing else, the logged
models ranked in MLflow's views; what the MLflow UI reads of it, through the REST API of a real
tracking server and in headless Chromium; and the docs' runnable blocks, run on its store as a
newcomer runs them after `make run`."""

import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys

import mlflow
import pytest
import requests
from mlflow import MlflowClient

from tests.docs_blocks import REPO, blocks
from tests.make_run_env import make_run_env

pytestmark = pytest.mark.slow
NOISE = re.compile(r"warning|traceback|error|^[IWEF]\d{4} ", re.IGNORECASE | re.MULTILINE)


@pytest.fixture(scope="module")
def main_job(tmp_path_factory, temporary_store, project):
    """The main job on 1,000 images: one epoch of the fast network, a 2-trial search; the finished
    `mlflow run` and its experiment's runs, read in its store."""
    folder = tmp_path_factory.mktemp("main")
    with temporary_store(folder):
        yield project.run("main", folder, "limit=1000", "epochs=1", "max_evals=2", "arch=fast")


def test_the_console_says_each_stage_and_no_warning(main_job):
    done, _ = main_job
    assert NOISE.search(done.stderr) is None, done.stderr
    for stage in ("baseline logreg: val_accuracy", "fast: registered as version 1", "tuned knn (trial",
                  "robustness of models:/mnist-digits@champion: robust_mean_accuracy"):  # fmt: skip
        assert stage in done.stderr
    assert "the champion under corruption: robust_mean_accuracy=" in done.stdout
    assert "on photographed paper: robust_paper_mean_accuracy=" in done.stdout


def test_every_stage_runs_under_the_project_run(main_job):
    _, runs = main_job
    project = runs[runs["tags.mlflow.project.entryPoint"] == "main"]
    assert len(project) == 1 and (runs["status"] == "FINISHED").all()
    under_project = runs[runs["tags.mlflow.parentRunId"] == project["run_id"].item()]
    assert sorted(under_project["tags.mlflow.runName"]) == ["baselines", "fast", "robustness", "search-knn-tpe"]
    robustness = under_project[under_project["tags.mlflow.runName"] == "robustness"].iloc[0]
    assert robustness["params.limit"] == "1000" and 0.3 < robustness["metrics.robust_mean_accuracy"] < 1
    assert robustness["params.paper_images"] == "100"  # 1,000 photos over the ten kinds of paper
    assert 0.3 < robustness["metrics.robust_paper_mean_accuracy"] < 1
    baselines = under_project[under_project["tags.mlflow.runName"] == "baselines"]["run_id"].item()
    names = sorted(runs[runs["tags.mlflow.parentRunId"] == baselines]["tags.mlflow.runName"])
    assert names == ["dummy", "knn", "logreg", "rf"]
    versions = MlflowClient().search_model_versions("name = 'mnist-digits'")
    assert sorted(version.tags["model_family"] for version in versions) == ["fast", "knn"]


def test_the_logged_models_rank_by_their_linked_validation_accuracy(main_job):
    models = mlflow.search_logged_models(
        experiment_ids=[mlflow.get_experiment_by_name("project-main").experiment_id],
        order_by=[{"field_name": "metrics.val_accuracy", "ascending": False}],
        output_format="list",
    )
    ranked = []
    for model in models:
        metrics = {metric.key: metric for metric in model.metrics}
        assert {"val_accuracy", "test_accuracy"} <= set(metrics), model.name
        assert metrics["val_accuracy"].dataset_name == "mnist-val"
        ranked.append(metrics["val_accuracy"].value)
    assert ranked == sorted(ranked, reverse=True)


@pytest.fixture(scope="module")
def ui(main_job, servers, tmp_path_factory):
    """`mlflow server` on the main job's store, as `mlflow ui` serves it; its URL and the experiment's id."""
    port = servers.free_port()
    command = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
               "--backend-store-uri", mlflow.get_tracking_uri(), "--workers", "1"]  # fmt: skip
    folder = tmp_path_factory.mktemp("ui")
    process = servers.start(command, f"http://127.0.0.1:{port}/health", dict(os.environ), folder)
    yield f"http://127.0.0.1:{port}", mlflow.get_experiment_by_name("project-main").experiment_id
    servers.stop(process)


def rest(ui, path: str, **body) -> dict:
    """MLflow's REST API as the UI calls it: GET path, or POST body to it."""
    url = f"{ui[0]}/api/2.0/mlflow/{path}"
    response = requests.post(url, json=body, timeout=30) if body else requests.get(url, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def tags_of(entity: dict) -> dict:
    return {tag["key"]: tag["value"] for tag in entity.get("tags", [])}


def table(ui, run: dict, file_name: str = "leaderboard.json") -> dict:
    """A table the run logged with mlflow.log_table, as the UI downloads it."""
    response = requests.get(f"{ui[0]}/get-artifact", params={"path": file_name, "run_uuid": run["info"]["run_id"]})
    assert response.status_code == 200, response.text
    return json.loads(response.text)


def test_logged_models_are_named_for_what_they_are(ui):
    models = rest(ui, "logged-models/search", experiment_ids=[ui[1]])["models"]
    names = sorted(model["info"]["name"] for model in models)
    # the four baselines, the network, the tuned kNN, and the serving models of the two registered
    assert names == ["dummy", "fast-x2", "fast-x2-serving", "knn", "knn-tuned", "knn-tuned-serving", "logreg", "rf"]


def test_every_version_links_to_its_logged_model_and_says_what_was_decided(ui):
    versions = rest(ui, "model-versions/search?filter=name%3D%27mnist-digits%27")["model_versions"]
    described = {}
    for version in versions:
        model = rest(ui, f"logged-models/{version['source'].removeprefix('models:/')}")["model"]
        listed = json.loads(tags_of(model["info"])["mlflow.modelVersions"])  # what the Models tab shows
        assert listed == [{"name": "mnist-digits", "version": version["version"]}]
        described[model["info"]["name"]] = version["description"]
    assert set(described) == {"fast-x2-serving", "knn-tuned-serving"}
    assert re.fullmatch(r"fast-x2 \(fast\) · val \d+\.\d\d% · test \d+\.\d\d% · promoted: there was no champion",
                        described["fast-x2-serving"])  # fmt: skip
    assert re.search(
        r"^knn-tuned \(knn\) · val .* · test .* · (not )?promoted: .*McNemar p=", described["knn-tuned-serving"]
    )


def test_the_pipeline_and_the_search_runs_summarise_what_is_below_them(ui):
    runs = {run["info"]["run_name"]: run for run in rest(ui, "runs/search", experiment_ids=[ui[1]])["runs"]}
    pipeline = next(run for run in runs.values() if tags_of(run["data"]).get("mlflow.project.entryPoint") == "main")
    metrics = {metric["key"]: metric["value"] for metric in pipeline["data"]["metrics"]}
    champion = MlflowClient().get_model_version_by_alias("mnist-digits", "champion")
    assert metrics["champion_version"] == int(champion.version)
    assert metrics["champion_test_accuracy"] == pytest.approx(float(champion.tags["test_accuracy"]))
    assert metrics["champion_val_accuracy"] == pytest.approx(float(champion.tags["val_accuracy"]))
    assert 0.3 < metrics["robust_mean_accuracy"] < 1 and 0.3 < metrics["robust_paper_mean_accuracy"] < 1
    assert metrics["search_trials"] == 2
    leaderboard = table(ui, pipeline)
    assert leaderboard["columns"] == ["stage", "val_accuracy", "test_accuracy", "registered"]
    assert [row[0] for row in leaderboard["data"]][-2:] == ["fast x2 (default)", "tuned knn"]
    search = runs["search-knn-tpe"]
    assert {"val_accuracy", "test_accuracy", "trials_finished"} <= {
        metric["key"] for metric in search["data"]["metrics"]
    }
    assert len(table(ui, search)["data"]) == 2
    assert {"corruption", "accuracy"} <= set(table(ui, runs["robustness"], "robustness.json")["columns"])


def test_the_mlflow_ui_shows_the_pipeline_and_the_named_models(ui, browser, pictures):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    def body() -> str:
        return browser.find_element(By.TAG_NAME, "body").text

    def shows(*texts):
        try:
            WebDriverWait(browser, 60).until(lambda _: all(text in body() for text in texts))
        except TimeoutException:
            raise AssertionError(f"{texts} not all on {browser.current_url}:\n{body()}") from None

    def show_column(metric: str):  # as a user does, from the runs table's Columns menu
        browser.find_element(By.XPATH, "//button[contains(., 'Columns')]").click()
        browser.find_element(By.CSS_SELECTOR, "input[placeholder='Search columns']").send_keys(metric)
        browser.find_element(By.XPATH, f"//strong[normalize-space(text())='{metric}']").click()
        browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)

    assert mlflow.get_experiment(ui[1]).tags["mlflow.experimentKind"] == "custom_model_development"
    browser.set_window_size(1800, 700)
    # MLflow 3.17's UI follows its GenAI / Model training switch (kept in the browser) over the tag
    browser.get(f"{ui[0]}/#/experiments/{ui[1]}/runs?workflowType=machine_learning")
    shows("pipeline", "Columns")
    browser.find_element(By.CSS_SELECTOR, "button[aria-label='Close']").click()  # the assistant's panel
    for metric in ("champion_test_accuracy", "champion_val_accuracy", "champion_version"):
        show_column(metric)
    accuracy = MlflowClient().get_model_version_by_alias("mnist-digits", "champion").tags["test_accuracy"]
    shows("champion_test_accuracy", f"{float(accuracy):.4f}".rstrip("0"))  # the UI rounds to 4 places
    browser.save_screenshot(str(pictures / "mlflow-runs.png"))
    browser.get(f"{ui[0]}/#/experiments/{ui[1]}/models?workflowType=machine_learning")
    shows("knn-tuned-serving", "fast-x2-serving", "Registered models", "mnist-digits\nv1", "mnist-digits\nv2")
    browser.save_screenshot(str(pictures / "mlflow-models.png"))
    browser.get(f"{ui[0]}/#/models/mnist-digits/versions/1")
    shows("Source Model\n:\nfast-x2-serving", "fast-x2 (fast) · val")


SMALL_RUNS = {"MNIST_MLOPS_BASELINE_LIMIT": "1000", "MNIST_MLOPS_TRAIN_LIMIT": "1000", "MNIST_MLOPS_TUNE_LIMIT": "1000"}


def run_block(block, folder, env: dict) -> str:
    """Run a block that runs to its end; return its output."""
    command = ["bash", "-e", "-o", "pipefail", "-c", block.text]
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    shell = subprocess.Popen(command, cwd=folder, env=env, start_new_session=True, **pipes)
    try:
        out, err = shell.communicate(timeout=600)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(shell.pid, signal.SIGKILL)  # a server a block left behind
    assert shell.returncode == 0, f"{block.where} failed:\n{block.text}\n{err[-3000:]}"
    return out


def test_every_runnable_block_of_the_docs_works_after_the_main_job(main_job, servers, tmp_path):
    """README first, then docs/, in a folder like a clone after `make run` (the main job's store, the
    virtual environment with only what `make run` installs, docs/), on 1,000 training images
    (MNIST_MLOPS_*_LIMIT); a block that serves until Ctrl-C, until its page answers."""
    with sqlite3.connect(mlflow.get_tracking_uri().removeprefix("sqlite:///")) as store:
        store.backup(sqlite3.connect(tmp_path / "mlflow.db"))
    (tmp_path / ".venv").symlink_to(sys.prefix)
    (tmp_path / "docs").symlink_to(REPO / "docs")
    env = {key: value for key, value in os.environ.items() if not key.startswith("MLFLOW_")} | SMALL_RUNS
    env |= {"MLFLOW_TRACKING_URI": "sqlite:///mlflow.db", "PATH": f"{sys.prefix}/bin:{env['PATH']}"} | make_run_env()
    for block in [block for block in blocks() if block.runs or block.serves]:
        if block.serves:
            servers.stop(servers.start(["bash", "-e", "-c", block.text], block.serves, env, tmp_path))
            continue
        out = run_block(block, tmp_path, env)
        if "/invocations" in block.text:  # the answer, among the server's access log lines
            assert '{"predictions"' in out, out
            answer, _ = json.JSONDecoder().raw_decode(out[out.index('{"predictions"') :])
            assert answer["predictions"][0]["digit"] == 7 and answer["predictions"][0]["number"] == "7"
