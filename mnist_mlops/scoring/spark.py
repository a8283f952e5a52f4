"""`mnist-mlops score --backend spark`: the input read by Spark, answered by the served model in
Spark's workers and written by them into the output folder."""

from pathlib import Path

from mnist_mlops.scoring.sources import FILE_KEY, Source
from mnist_mlops.serving.inputs import IMAGE_COLUMN
from mnist_mlops.serving.model import spark_answers
from mnist_mlops.tuning.spark import spark_session


def input_frame(session, source: Source):
    """The input as a Spark DataFrame of the key and the columns the model reads (images as base64)."""
    from pyspark.sql import functions

    session.conf.set("spark.sql.chunkBase64String.enabled", "false")  # one line, as clients send it
    if source.kind == "files":
        files = session.read.format("binaryFile").load([str(path) for path in source.files or []])
        return files.select(functions.element_at(functions.split("path", "/"), -1).alias(FILE_KEY),
                            functions.base64("content").alias(IMAGE_COLUMN))  # fmt: skip
    frame = session.read.parquet(str(source.path))
    if source.kind == "images" and dict(frame.dtypes)[IMAGE_COLUMN] == "binary":
        frame = frame.withColumn(IMAGE_COLUMN, functions.base64(IMAGE_COLUMN))
    return frame.select(source.key, *source.columns)


def score_on_spark(source: Source, model_uri: str, master: str, output: Path) -> None:
    """Answer every row on Spark and write the key and answers as Parquet into the folder output."""
    with spark_session(master, "mnist-mlops score") as session:
        spark_answers(session, model_uri, input_frame(session, source), source.columns).write.parquet(str(output))
