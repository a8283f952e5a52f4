"""`mnist-mlops retrain` in a real SQLite store: a champion that misreads a style (mirrored 3s), people's
corrections of it, and a challenger retrained on them, judged with the champion on the newest ones; bad
feedback sets are refused with one line before any run."""

import json
import shutil
from pathlib import Path

import mlflow
import pytest
from click.testing import CliRunner
from mlflow import MlflowClient

from mnist_mlops import registry
from mnist_mlops.cli import cli
from mnist_mlops.config import TrainConfig
from mnist_mlops.jobs.feedback import feedback_accuracy
from mnist_mlops.jobs.train import run_training
from mnist_mlops.tracking.feedback import add_corrections, corrections
from tests.conftest import photo_png

EXPERIMENT = "test-retrain"
QUICK = ["--arch", "fast", "--limit", "1000", "--epochs", "5", "--quiet", "--no-system-metrics",
         "--experiment", EXPERIMENT]  # fmt: skip


def retrain(*args: str):
    return CliRunner().invoke(cli, ["retrain", *QUICK, *args])


def mirrored_threes(mnist, count: int) -> list[bytes]:
    """Test 3s drawn mirrored, as a writer who does so would: photographs of them, ink on white."""
    threes = mnist.test.images[mnist.test.y == 3][:count, ..., 0]
    return [photo_png(three[:, ::-1]) for three in threes]


@pytest.fixture(scope="module")
def retrained(tmp_path_factory, temporary_store, small_mnist):
    """Version 1, the champion: the fast network, 5 epochs on 1,000 images. Then 40 corrections of
    mirrored 3s and `retrain` with the newest quarter held out: version 2."""
    with temporary_store(tmp_path_factory.mktemp("retrain")):
        champion = run_training(TrainConfig(arch="fast", limit=1000, epochs=5, quiet=True, register=True,
                                            system_metrics=False, experiment=EXPERIMENT))  # fmt: skip
        assert champion.promotion is not None and champion.promotion.version == "1"
        add_corrections(mirrored_threes(small_mnist, 40), "3")
        done = retrain("--held-out", "0.25", "--copies", "10")
        yield done


def test_it_prints_both_judgements_and_the_decision(retrained):
    assert retrained.exit_code == 0, retrained.output
    judged, decided = retrained.output.strip().splitlines()[-2:]
    metrics = run_of(retrained).data.metrics
    assert judged == (f"test_accuracy={metrics['test_accuracy']:.4f} feedback_accuracy="
                      f"{metrics['feedback_accuracy']:.4f} (the champion's {metrics['champion_feedback_accuracy']:.4f})"
                      " on 10 held-out corrections")  # fmt: skip
    assert decided.startswith("version 2: promoted: not significantly worse on the test set (accuracy")
    assert decided.endswith(f"and better on the 10 held-out corrections (accuracy {metrics['feedback_accuracy']:.4f} "
                            f"vs {metrics['champion_feedback_accuracy']:.4f})")  # fmt: skip


def run_of(done) -> mlflow.entities.Run:
    """The retrain run of the module's store."""
    found = mlflow.search_runs(experiment_names=[EXPERIMENT], filter_string="tags.mlflow.runName = 'retrain'",
                               output_format="list")  # fmt: skip
    assert len(found) == 1
    return found[0]


def test_held_out_accuracies_are_the_versions_own_on_the_newest_corrections(retrained):
    run = run_of(retrained)
    metrics, held_out = run.data.metrics, corrections()[-10:]
    assert metrics["feedback_images"] == 10
    assert metrics["feedback_accuracy"] == feedback_accuracy(registry.load("2"), held_out)
    assert metrics["champion_feedback_accuracy"] == feedback_accuracy(registry.load("1"), held_out)
    # the champion never saw a mirrored 3 (it reads a few as 3s by chance); the challenger learnt them
    # from the 30 older corrections
    champion, challenger = metrics["champion_feedback_accuracy"], metrics["feedback_accuracy"]
    assert champion <= 0.4 and challenger >= 0.7 and challenger - champion >= 0.3
    assert (metrics["train_corrections"], metrics["train_corrections_skipped"]) == (30, 0)
    assert metrics["train_correction_images"] == 300 and run.info.status == "FINISHED"
    recorded = mlflow.artifacts.load_dict(f"runs:/{run.info.run_id}/held_out.json")
    assert recorded == {"corrections": [correction.name for correction in held_out]}
    train = next(item.dataset for item in run.inputs.dataset_inputs if item.dataset.name == "mnist-train")
    assert json.loads(train.profile)["features_shape"] == [900 + 300, 784]  # MNIST's 900 and the copies
    assert (run.data.params["copies"], run.data.params["held_out"], run.data.params["arch"]) == ("10", "0.25", "fast")


def test_the_version_carries_the_evidence_and_is_champion(retrained):
    metrics = run_of(retrained).data.metrics
    tags = MlflowClient().get_model_version(registry.MODEL_NAME, "2").tags
    assert tags["feedback_accuracy"] == tags["challenger_feedback_accuracy"] == f"{metrics['feedback_accuracy']:.6f}"
    assert tags["champion_feedback_accuracy"] == f"{metrics['champion_feedback_accuracy']:.6f}"
    assert (tags["feedback_held_out_images"], tags["feedback_images"], tags["compared_with_version"]) == (
        "10",
        "10",
        "1",
    )
    assert (
        tags["model_name"] == "fast-retrained" and tags["challenger_test_accuracy"] == f"{metrics['test_accuracy']:.6f}"
    )
    assert registry.alias_map() == {"champion": "2", "challenger": "2"}


def no_run_opened() -> None:
    """Only the feedback set's own run, if any, and nothing RUNNING."""
    runs = mlflow.search_runs(search_all_experiments=True, output_format="list")
    assert [run.info.run_name for run in runs] in ([], ["feedback"])
    assert all(run.info.status == "FINISHED" for run in runs)


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (0, "Error: the feedback set holds no corrections: nothing to retrain from"),
        (12, "Error: too few corrections to hold out: the newest 20% of the feedback set's 12 are 3, fewer than "
             "--min-held-out 10"),
    ],
)  # fmt: skip
def test_too_few_corrections_are_refused_before_any_run(tracking_store, small_mnist, images, message):
    if images:
        add_corrections(mirrored_threes(small_mnist, images), "3")
    no_run_opened()  # the store's tables made, so that MLflow's lines of making them are not the job's output
    done = retrain()
    assert done.exit_code == 1 and done.output.strip().startswith(message) and len(done.output.splitlines()) == 1
    no_run_opened()


def test_an_unreadable_correction_is_refused_before_any_run(tracking_store, small_mnist):
    add_corrections(mirrored_threes(small_mnist, 49), "3")
    name = add_corrections([b"GIF89a, cut short"], "3")[0]  # the newest, held out; the playground saves unchecked
    done = retrain()
    assert done.exit_code == 1 and len(done.output.splitlines()) == 1
    assert done.output.startswith(f"Error: the correction {name} cannot be read: the bytes are not an image")
    no_run_opened()


def test_a_failure_inside_the_run_ends_it_failed_and_registry_promote_decides_later(retrained, tmp_path):
    """Last of the module's store: with the champion's files away, no decision can be taken; `registry
    promote` takes it later, on the same held-out corrections."""
    champion = registry.resolve("champion")
    files = Path(MlflowClient().get_logged_model(champion.source.removeprefix("models:/")).artifact_location)
    shutil.move(files, tmp_path / "away")
    done = retrain("--held-out", "0.25")
    assert done.exit_code == 1
    assert (
        done.output.strip()
        .splitlines()[-1]
        .startswith("Error: version 3 of mnist-digits is undecided: the model registry at sqlite:")
    )
    runs = mlflow.search_runs(experiment_names=[EXPERIMENT], order_by=["attributes.start_time DESC"],
                              output_format="list")  # fmt: skip
    assert (runs[0].info.run_name, runs[0].info.status) == ("retrain", "FAILED")
    assert all(run.info.status != "RUNNING" for run in runs)
    assert registry.resolve("3").tags["promotion_decision"].startswith("undecided: ")
    shutil.move(tmp_path / "away", files)
    # the same training as version 2's, so as good on the test set and on the held-out corrections
    promoted = CliRunner().invoke(cli, ["registry", "promote", "3"])
    assert promoted.exit_code == 0, promoted.output
    assert promoted.output.startswith("version 3: not promoted: not significantly worse on the test set (accuracy")
    assert "but not better on the 10 held-out corrections (accuracy " in promoted.output
    plain = CliRunner().invoke(cli, ["registry", "promote", "1"])  # trained by `train`: the test set alone
    assert plain.output.startswith("version 1: not promoted: accuracy ") and "held-out" not in plain.output
    assert registry.alias_map()["champion"] == "2"
