"""`mnist-mlops score` of the champion: images per second for pixel rows and for 160x160 PNG photos on
this machine, the same on Spark local[2], and the peak memory of scoring a million rows. Run with
`python -m bench.scoring` (about 9 minutes on 2 cores).

The champion is what `make run` registers, two CNNs averaged (trained one epoch on 5,000 images, as
in bench/serving.py: speed does not depend on how well they learned). Every figure is a whole job
as a user runs it, in its own process: the model's loading and Spark's start are in the seconds.
Spark is compared with one process on a million rows, the inputs it is for, and on 300,000, where
its start (a JVM, a Python worker per core, each loading the model) is a larger part.
"""

import os
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from bench.common import REPO, bench_runs, run_measured, store_uri, write_report
from bench.serving import register_champion
from mnist_mlops.data import load_mnist

MILLION = 1_000_000
SPARK_ROWS = 300_000  # local and Spark local[2] compared on the same rows
PHOTOS = 10_000  # all the test digits: enough that the worker processes' start (seconds) is a small part
SIDE = 160  # a phone's crop of one digit
ON_SPARK = ("--backend", "spark", "--spark-master", "local[2]")


def write_pixels(path: Path, rows: int, pixels: np.ndarray) -> None:
    """rows pixel rows (0-255, the test set repeated) with a key column, written a test set at a time."""
    columns = [f"pixel{i}" for i in range(pixels.shape[1])]
    table = pd.DataFrame((pixels * 255).round().astype(np.uint8), columns=columns)
    with pq.ParquetWriter(path, pa.Table.from_pandas(table.assign(key=0), preserve_index=False).schema) as writer:
        for start in range(0, rows, len(table)):
            part = table[: rows - start].assign(key=np.arange(start, start + min(len(table), rows - start)))
            writer.write_table(pa.Table.from_pandas(part, preserve_index=False))


def write_photos(folder: Path, images: np.ndarray) -> None:
    """Test digits as dark ink on white SIDE x SIDE PNG files."""
    folder.mkdir()
    for number, image in enumerate(images):
        ink = cv2.resize(image, (SIDE - 40, SIDE - 40), interpolation=cv2.INTER_LINEAR)
        photo = np.pad(255 - np.round(ink * 255), 20, constant_values=255).astype(np.uint8)
        cv2.imwrite(str(folder / f"{number:05d}.png"), photo)


def scored(workdir: Path, source: Path, *options: str) -> dict:
    """Run the score job on source; its wall time, peak memory and logged metrics."""
    output = workdir / f"{source.stem}-{len(list(workdir.glob('*.out')))}.out"
    arguments = ["score", "--input", str(source), "--output", str(output), "--quiet", "--experiment", "bench"]
    process = run_measured([*arguments, *options], workdir)
    run = bench_runs(workdir).sort_values("start_time").iloc[-1]  # the job's own run
    logged = ("rows", "refused", "seconds", "images_per_second")
    return {**process, **{name: round(float(run[f"metrics.{name}"]), 1) for name in logged}}


def share(figures: dict, spark: str, local: str) -> float:
    """Spark's images per second as a share of one process's, on the same rows."""
    return round(figures[spark]["images_per_second"] / figures[local]["images_per_second"], 3)


def main() -> None:
    """Measure and report."""
    test = load_mnist().test
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        os.environ["MLFLOW_TRACKING_URI"] = store_uri(workdir)
        os.environ["PYTHONPATH"] = str(REPO)
        os.chdir(workdir)
        register_champion()
        write_pixels(workdir / "million.parquet", MILLION, test.x)
        write_pixels(workdir / "rows.parquet", SPARK_ROWS, test.x)
        write_photos(workdir / "photos", test.images[:PHOTOS, ..., 0])
        figures = {
            "pixel_rows_million_local": scored(workdir, workdir / "million.parquet"),
            "photos_local": scored(workdir, workdir / "photos"),  # a worker process per core
            "photos_one_process": scored(workdir, workdir / "photos", "--workers", "1"),
            "pixel_rows_local": scored(workdir, workdir / "rows.parquet"),
            "pixel_rows_spark_local_2": scored(workdir, workdir / "rows.parquet", *ON_SPARK),
            "pixel_rows_million_spark_local_2": scored(workdir, workdir / "million.parquet", *ON_SPARK),
        }
        outputs = sorted(workdir.glob("rows-*.out"))
        local, spark = pd.read_parquet(outputs[0]), pd.read_parquet(outputs[1]).sort_values("key")
        figures["spark_answers_identical"] = bool((local["digit"].to_numpy() == spark["digit"].to_numpy()).all())
    figures["spark_share_of_local"] = share(figures, "pixel_rows_spark_local_2", "pixel_rows_local")
    figures["spark_million_share_of_local"] = share(
        figures, "pixel_rows_million_spark_local_2", "pixel_rows_million_local"
    )
    goals = [
        (
            "images/s, pixel rows, local (a million rows)",
            figures["pixel_rows_million_local"]["images_per_second"],
            ">=",
            8000,
        ),  # fmt: skip
        ("images/s, 160x160 PNG files, local", figures["photos_local"]["images_per_second"], ">=", 1000),
        (
            "Spark local[2] throughput, share of local's (a million rows)",
            figures["spark_million_share_of_local"],
            ">=",
            0.7,
        ),  # fmt: skip
        ("Spark answers identical to local", int(figures["spark_answers_identical"]), ">=", 1),
        ("peak memory scoring a million rows, GiB", figures["pixel_rows_million_local"]["peak_rss_gib"], "<=", 2),
    ]
    print(write_report("scoring", figures, goals).read_text())


if __name__ == "__main__":
    main()
