"""What `mnist-mlops score` writes: Parquet built under a temporary name beside the output and
renamed into place when complete, so a failed job never leaves an output that looks finished."""

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from mnist_mlops.errors import MnistMlopsError

ANSWER = pa.schema([("digit", pa.int64()), ("probabilities", pa.list_(pa.float64())), ("number", pa.string()),
                    ("refused", pa.string())])  # fmt: skip
# digit is -1 where an image holds no digit or several (read number); refused is "" unless refused.


def check_output(path: Path, overwrite: bool) -> None:
    """Fail before scoring if the output exists and may not be replaced, or its folder is missing."""
    if path.exists() and not overwrite:
        raise MnistMlopsError(f"--output {path} exists; pass --overwrite to replace it")
    if not path.parent.is_dir():
        raise MnistMlopsError(f"--output {path}: its folder {path.parent} does not exist")


@contextlib.contextmanager
def written_in_place(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside path to write into; move it to path when the block succeeds,
    remove it when it fails."""
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        yield partial
        remove(path)
        partial.rename(path)
    finally:
        remove(partial)


def remove(path: Path) -> None:
    """Remove a file or folder if it exists."""
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


class AnswerWriter:
    """Writes chunks of keys and answers into one Parquet file."""

    def __init__(self, path: Path):
        self.path = path
        self.writer: pq.ParquetWriter | None = None  # opened with the first chunk's schema

    def write(self, keys: pd.Series, answers: pd.DataFrame) -> None:
        """Append a chunk: each row's key and the model's answer (pixel rows: their digit as the
        number, none refused, as an image of one digit)."""
        if "number" not in answers:
            answers = answers.assign(number=answers["digit"].astype(str), refused="")
        table = pa.Table.from_pandas(answers[ANSWER.names], schema=ANSWER, preserve_index=False)
        table = table.add_column(0, keys.name, pa.array(keys))
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema)
        self.writer.write_table(table.cast(self.writer.schema))

    def close(self) -> None:
        """Finish the file."""
        if self.writer is not None:
            self.writer.close()


def counted(path: Path) -> tuple[int, int]:
    """The rows of a written output and how many of them were refused."""
    refused = ds.dataset(path, format="parquet").to_table(columns=["refused"]).column("refused")
    return len(refused), pc.sum(pc.not_equal(refused, "")).as_py() or 0
