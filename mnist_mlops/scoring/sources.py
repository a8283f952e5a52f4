"""What `mnist-mlops score` reads: a Parquet file or folder of pixel rows or encoded images, or a
folder of image files; checked before anything is asked, then read a chunk at a time."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from mnist_mlops.data import N_PIXELS
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.serving.inputs import IMAGE_COLUMN, image_requests

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".tif", ".tiff", ".bmp")  # what serving/decoding.py reads
DEFAULT_KEY = "key"  # the key column when --key is not given and the input has one
ROW_KEY, FILE_KEY = "row", "file"  # the output's key otherwise: the row number, or the image's file name


@dataclass(frozen=True)
class Source:
    """An input, checked: its rows, the columns the model reads and the key copied beside them."""

    path: Path
    rows: int
    columns: list[str]  # the 784 pixel columns or the image column (a folder's images are read into it)
    key: str  # the input's key column, or ROW_KEY or FILE_KEY
    files: list[Path] | None = None  # a folder of images, in name order

    @property
    def kind(self) -> str:
        """pixels, images (a Parquet column) or files (a folder of images)."""
        return "files" if self.files is not None else "images" if self.columns == [IMAGE_COLUMN] else "pixels"

    @property
    def numbered(self) -> bool:
        """Whether rows are keyed by their number (a Parquet input without a key column)."""
        return self.key == ROW_KEY


def image_files(folder: Path) -> list[Path]:
    """The image files of a folder (PNG, JPEG, WebP, GIF, TIFF, BMP), in name order."""
    return sorted(path for path in folder.iterdir() if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file())


def open_source(path: str, key: str | None) -> Source:
    """Check an input and say what it holds; a clear error naming what is missing or unknown."""
    folder = Path(path)
    if not folder.exists():
        raise MnistMlopsError(f"--input {path}: no such file or folder")
    if folder.is_dir() and not any(folder.rglob("*.parquet")):
        files = image_files(folder)
        if not files:
            raise MnistMlopsError(f"--input {path}: no Parquet or image files (PNG, JPEG, WebP, GIF, TIFF, BMP) in it")
        return Source(folder, len(files), [IMAGE_COLUMN], FILE_KEY, files)
    try:
        dataset = ds.dataset(folder, format="parquet")
        schema = dataset.schema
    except (pa.ArrowInvalid, OSError) as error:
        raise MnistMlopsError(f"--input {path}: not Parquet ({error})") from error
    names = list(schema.names)
    if key is not None and key not in names:
        raise MnistMlopsError(f"--key {key}: the input has no such column (it has {shown(names)})")
    key = key or (DEFAULT_KEY if DEFAULT_KEY in names else None)
    columns = [name for name in names if name != key]
    check_columns(path, schema, columns)
    return Source(folder, dataset.count_rows(), columns, key or ROW_KEY)


def check_columns(path: str, schema: pa.Schema, columns: list[str]) -> None:
    """Fail unless the columns are 784 numbers, or one image column of bytes or base64 text."""
    if columns == [IMAGE_COLUMN]:
        kind = schema.field(IMAGE_COLUMN).type
        if not (pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_string(kind)):
            raise MnistMlopsError(f"--input {path}: column {IMAGE_COLUMN!r} holds {kind}; expected image bytes "
                                  "or base64 text")  # fmt: skip
        return
    if IMAGE_COLUMN in columns:
        others = [name for name in columns if name != IMAGE_COLUMN]
        raise MnistMlopsError(f"--input {path}: unknown columns beside {IMAGE_COLUMN!r}: {shown(others)}")
    if len(columns) != N_PIXELS:
        raise MnistMlopsError(f"--input {path}: expected 784 pixel columns or one {IMAGE_COLUMN!r} column "
                              f"(besides the key), got {len(columns)}: {shown(columns)}")  # fmt: skip
    text = [name for name in columns if not pa.types.is_integer(kind := schema.field(name).type)
            and not pa.types.is_floating(kind)]  # fmt: skip
    if text:
        raise MnistMlopsError(f"--input {path}: pixel columns must hold numbers; not {shown(text)}")


def shown(names: list[str], most: int = 5) -> str:
    """Column names as an error lists them: the first few and how many more."""
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return ", ".join(map(repr, names[:most])) + more if names else "none"


def chunks(source: Source, rows: int) -> Iterator[tuple[pd.Series, pd.DataFrame]]:
    """The input, rows at a time: each chunk's keys and the request the served model reads."""
    if source.files is not None:
        for start in range(0, len(source.files), rows):
            files = source.files[start : start + rows]
            names = pd.Series([file.name for file in files], name=FILE_KEY)
            yield names, image_requests([file.read_bytes() for file in files])
        return
    columns = source.columns + ([] if source.numbered else [source.key])
    start = 0
    # Read as needed: by default the scanner buffers a file's row groups ahead, more of a larger file
    # (a million rows peaked at 1.9 GiB, 100,000 at 0.8 GiB).
    unbuffered = ds.ParquetFragmentScanOptions(pre_buffer=False)
    scanner = ds.dataset(source.path, format="parquet").scanner(
        columns=columns, batch_size=rows, batch_readahead=1, fragment_readahead=1, fragment_scan_options=unbuffered
    )
    for batch in scanner.to_batches():
        if batch.num_rows == 0:
            continue
        frame = batch.to_pandas()
        keys = pd.Series(range(start, start + len(frame)), name=ROW_KEY) if source.numbered else frame[source.key]
        start += len(frame)
        if source.kind == "images":
            yield keys.reset_index(drop=True), image_requests(list(frame[IMAGE_COLUMN]))
        else:
            yield keys.reset_index(drop=True), frame[source.columns].reset_index(drop=True)
