"""`mnist-mlops score` on this machine: pixel rows, encoded images and a folder of image files
answered as the served model answers them, refusals kept on their rows, the run recorded, and an
output that is complete or absent."""

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from mnist_mlops.cli import cli
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.jobs.score import run_scoring
from mnist_mlops.scoring.config import ScoreConfig
from mnist_mlops.serving.inputs import image_requests
from mnist_mlops.serving.model import answer_all, load_served
from tests.conftest import photo_png, registered_copy

CHAMPION = "models:/mnist-digits@champion"
ROWS = 300


@pytest.fixture(scope="module")
def store(registered_store, tmp_path_factory, temporary_store):
    """A copy of the registered store (the scoring runs go into it), entered for the module."""
    with temporary_store(folder := registered_copy(registered_store, tmp_path_factory, "score")):
        yield folder


@pytest.fixture(scope="module")
def inputs(store, small_mnist) -> Path:
    """pixels.parquet (ROWS test digits, 0-255, a key column), split/ (the same in two files),
    images.parquet (PNG bytes; row 3 is not an image, row 5 blank paper, row 7 null) and files/ (the same as PNGs)."""
    folder = store / "inputs"
    (folder / "split").mkdir(parents=True)
    (folder / "files").mkdir()
    pixels = pd.DataFrame((small_mnist.test.x[:ROWS] * 255).round().astype(np.uint8),
                          columns=[f"pixel{i}" for i in range(784)])  # fmt: skip
    pixels.insert(0, "key", [f"test-{i}" for i in range(ROWS)])
    pixels.to_parquet(folder / "pixels.parquet")
    pixels[:100].to_parquet(folder / "split" / "a.parquet")
    pixels[100:].to_parquet(folder / "split" / "b.parquet")
    images = [photo_png(image) for image in small_mnist.test.images[:40, ..., 0]]
    images[3], images[5], images[7] = b"not an image", photo_png(np.zeros((28, 28), np.float32)), None
    pd.DataFrame({"id": range(40), "image": images}).to_parquet(folder / "images.parquet")
    for number, image in enumerate(images):
        if image is not None:
            (folder / "files" / f"digit-{number:02d}.png").write_bytes(image)
    return folder


def scored(inputs: Path, source: str, **options) -> tuple[pd.DataFrame, dict]:
    """Score inputs/source into a new Parquet file; return it and the run's metrics."""
    output = inputs / f"{source.split('.')[0]}-{len(list(inputs.glob('*.out')))}.out"
    metrics = run_scoring(ScoreConfig(input=str(inputs / source), output=str(output), quiet=True, **options))
    return pd.read_parquet(output), metrics


def test_pixel_rows_are_answered_as_the_served_model_answers_them(inputs, small_mnist):
    answers, metrics = scored(inputs, "pixels.parquet", chunk_rows=128)
    expected = answer_all(load_served(CHAMPION), pd.read_parquet(inputs / "pixels.parquet").drop(columns="key"))
    assert list(answers.columns) == ["key", "digit", "probabilities", "number", "refused"]
    assert list(answers["key"]) == [f"test-{i}" for i in range(ROWS)]  # in the input's order, across chunks
    assert (answers["digit"] == expected["digit"]).all() and (answers["refused"] == "").all()
    assert np.allclose(np.stack(answers["probabilities"]), np.stack(expected["probabilities"]))
    assert (answers["digit"] == small_mnist.test.y[:ROWS]).mean() > 0.85
    assert metrics["rows"] == ROWS and metrics["refused"] == 0 and metrics["images_per_second"] > 0

    run = mlflow.search_runs(experiment_names=["mnist-score"], order_by=["start_time DESC"]).iloc[0]
    assert run["status"] == "FINISHED" and run["params.model_version"] == "1" and run["metrics.rows"] == ROWS
    assert run["params.input_kind"] == "pixels" and run["metrics.seconds"] > 0


def test_a_folder_of_parquet_files_is_one_input(inputs):
    whole, _ = scored(inputs, "pixels.parquet")
    split, _ = scored(inputs, "split", chunk_rows=64)  # chunks across the two files
    pd.testing.assert_frame_equal(whole, split)


def test_images_and_image_files_keep_their_refusals_on_their_rows(inputs, small_mnist):
    images, metrics = scored(inputs, "images.parquet", key="id")
    files, _ = scored(inputs, "files")
    assert list(images["id"]) == list(range(40)) and metrics["refused"] == 3 and metrics["rows"] == 40
    assert list(files["file"]) == [f"digit-{n:02d}.png" for n in range(40) if n != 7]
    assert images.loc[7, "refused"] == "no image (null)"
    images = images.drop(index=7).reset_index(drop=True)
    for answers in (images, files):
        assert answers.loc[3, "refused"] == "the bytes are not an image (PNG, JPEG, WebP, GIF, TIFF or BMP)"
        assert answers.loc[5, "refused"].startswith("no digit")
        assert list(answers.loc[[3, 5], "digit"]) == [-1, -1]
        read = answers.drop(index=[3, 5])
        assert (read["refused"] == "").all() and (read["number"] == read["digit"].astype(str)).all()
        assert (read["digit"] == np.delete(small_mnist.test.y[:40], [3, 5, 7])).mean() > 0.8
    pd.testing.assert_frame_equal(images.drop(columns="id"), files.drop(columns="file"))
    in_two_processes, _ = scored(inputs, "files", workers=2, chunk_rows=16)  # 40 images: one by default
    pd.testing.assert_frame_equal(in_two_processes, files)


def test_a_model_that_does_not_load_in_the_worker_processes_is_a_clear_error(inputs):
    paths = {"input": str(inputs / "files"), "output": str(inputs / "x.out")}
    config = ScoreConfig(**paths, model_uri="runs:/nope/model", workers=2)
    with pytest.raises(MnistMlopsError, match="cannot load runs:/nope/model"):
        run_scoring(config)
    assert not (inputs / "x.out").exists()


def test_an_existing_output_is_kept_unless_overwrite(inputs):
    output = inputs / "kept.parquet"
    output.write_bytes(b"earlier results")
    command = ["score", "--input", str(inputs / "pixels.parquet"), "--output", str(output), "--quiet"]
    refused = CliRunner().invoke(cli, command)
    assert refused.exit_code == 1 and "exists; pass --overwrite" in refused.output
    assert output.read_bytes() == b"earlier results"
    replaced = CliRunner().invoke(cli, [*command, "--overwrite"])
    assert replaced.exit_code == 0, replaced.output
    assert f"{ROWS} rows, 0 refused" in replaced.output and len(pd.read_parquet(output)) == ROWS


def test_a_failure_leaves_no_output_and_a_failed_run(inputs):
    table = pd.read_parquet(inputs / "pixels.parquet")
    table.loc[250, "pixel300"] = np.nan  # in the third chunk of 100
    table.astype({"pixel300": "float64"}).to_parquet(inputs / "broken.parquet")
    output = inputs / "broken.out"
    with pytest.raises(MnistMlopsError, match="rows 200 to 299: row 50 holds NaN"):
        run_scoring(ScoreConfig(input=str(inputs / "broken.parquet"), output=str(output), chunk_rows=100, quiet=True))
    assert not output.exists() and not list(inputs.glob(".broken.out*"))  # no partial file either
    run = mlflow.search_runs(experiment_names=["mnist-score"], order_by=["start_time DESC"]).iloc[0]
    assert run["status"] == "FAILED" and "holds NaN" in run["tags.error"]


@pytest.mark.parametrize(
    ("columns", "options", "message"),
    [
        (["key", "image", "pixel0"], {}, "unknown columns beside 'image': 'pixel0'"),
        (["key", *(f"pixel{i}" for i in range(783))], {}, "expected 784 pixel columns or one 'image' column"),
        (["id", "image"], {"key": "name"}, "--key name: the input has no such column"),
        (["image"], {"backend": "spark"}, "--backend spark needs a key column"),
    ],
)
def test_bad_inputs_are_refused_before_a_run_starts(inputs, columns, options, message):
    path = inputs / "bad.parquet"
    pd.DataFrame({name: [b"x" if name == "image" else 0] for name in columns}).to_parquet(path)
    before = len(mlflow.search_runs(experiment_names=["mnist-score"]))
    with pytest.raises(MnistMlopsError, match=message):
        run_scoring(ScoreConfig(input=str(path), output=str(inputs / "bad.out"), **options))
    assert len(mlflow.search_runs(experiment_names=["mnist-score"])) == before


def test_images_are_sent_as_the_model_reads_them():
    request = image_requests([b"\x89PNG", "aGVsbG8=", None])
    assert list(request["image"]) == ["iVBORw==", "aGVsbG8=", None]  # bytes encoded, text and nothing as they are
