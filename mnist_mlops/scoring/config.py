"""The config of `mnist-mlops score`, light enough for the command line's start."""

from dataclasses import dataclass

from mnist_mlops.config_fields import check_fields, option
from mnist_mlops.errors import MnistMlopsError

BACKENDS = ("local", "spark")


@dataclass(frozen=True)
class ScoreConfig:
    """Everything `mnist-mlops score` depends on; logged whole as its run's params."""

    input: str | None = option(
        None, "Parquet file or folder (784 pixel columns, or an 'image' column of PNG/JPEG), or a folder of images."
    )
    output: str | None = option(
        None,
        "Parquet to write: each row's key, digit, probabilities, number and refused reason (a file; "
        "a folder of parts with --backend spark).",
    )
    model_uri: str = option("models:/mnist-digits@champion", "The served model to ask (models:/ or runs:/ URI).")
    key: str | None = option(
        None, "Input column copied to the output as each row's key [default: key if present, else the row number; "
        "a folder of images: the file name]."
    )  # fmt: skip
    backend: str = option("local", "local: chunks in this process; spark: mlflow.pyfunc.spark_udf.", choices=BACKENDS)
    spark_master: str | None = option(None, "Spark master URL, e.g. spark://host:7077 [default: local[*]].")
    chunk_rows: int = option(10_000, "Rows asked at a time (local): memory stays bounded by it.", low=1, high=10_000)
    workers: int = option(
        0, "Processes that read images at once (local; 0: one per core, at most one per 1,000 images). Pixel "
        "rows take one, whose network uses every core.", low=0
    )  # fmt: skip
    overwrite: bool = option(False, "Replace an existing output.", flag=True)
    experiment: str = option("mnist-score", "MLflow experiment to record the scoring run in.")
    quiet: bool = option(False, "No progress bar.", flag=True)

    def __post_init__(self):
        check_fields(self)
        if not self.input or not self.output:
            raise MnistMlopsError("--input and --output are required")
        if self.backend == "local" and self.spark_master:
            raise MnistMlopsError("--spark-master needs --backend spark")
