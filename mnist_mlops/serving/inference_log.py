"""The inference log: when $MNIST_MLOPS_INFERENCE_LOG names a folder, every answer of the serving model
is recorded there, whichever process gives it (`mlflow models serve`, the playground, `score`).

Each process writes its own Parquet files under day=YYYY-MM-DD/ (Hive partitioning, which pyarrow,
pandas and Spark read as a column), so workers never share a file. A request only appends what it
answered to memory; a thread writes it out every FLUSH_SECONDS as one new file, renamed into place
when complete, so readers never see half a file and a crash loses seconds. A stop signal or a clean
exit writes what is left.
"""

import atexit
import logging
import multiprocessing.util
import os
import re
import signal
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset
import pyarrow.parquet as pq

from mnist_mlops.errors import MnistMlopsError

VARIABLE = "MNIST_MLOPS_INFERENCE_LOG"
ANSWER_DECIMALS = 6  # an answer's probabilities as served; the log keeps them whole
FLUSH_SECONDS = 5.0  # the most a crash loses; also how often an idle-free process writes a file
MAX_PENDING_ROWS = 20_000  # beyond this a request writes the pending records itself (about 16 MB of images)
# A process's files of a day are merged into one when it has written this many (10 minutes at 5 s): a
# day of one busy worker is then 144 files, not 17,280, which readers open one by one.
MERGE_FILES = 120
# {host}-{pid}-{8 hex}-{n}.parquet, and a merged file {host}-{pid}-{8 hex}-{first n}-{last n}.parquet
NAMED = re.compile(r"^(?P<writer>.+-\d+-[0-9a-f]{8})-(?P<first>\d{6})(?:-(?P<last>\d{6}))?\.parquet$")
SCHEMA = pa.schema(
    [
        ("time", pa.timestamp("us", tz="UTC")),  # when the request was answered
        ("request_id", pa.string()),  # one per request, also in its answers
        ("row", pa.int32()),  # the answer's place in the request; null for a request refused whole
        ("model_version", pa.string()),  # the registered version, when the model was loaded through the registry
        ("model_id", pa.string()),  # the logged model (m-...) the version points to
        ("input_kind", pa.string()),  # pixels or image
        ("digit", pa.int8()),  # the digit; -1 for an image holding several or none
        ("number", pa.string()),  # every digit read, left to right ("" when refused)
        ("probabilities", pa.list_(pa.list_(pa.float32(), 10))),  # per digit read, its ten probabilities
        ("refused", pa.string()),  # why no digit was read; null when answered
        ("latency_ms", pa.float32()),  # the whole request's time in the model (every record of it says it)
        ("seen", pa.list_(pa.binary())),  # images: per digit, the 28x28 the model saw (784 bytes, row-major)
    ]
)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answered:
    """One request's answers as the log keeps them until they are written: arrays, one record per image
    or pixel row (one for a request refused whole)."""

    time: float  # seconds since the epoch
    request_id: str
    model_version: str | None
    model_id: str | None
    input_kind: str
    latency_ms: float
    proba: np.ndarray  # (digits read, 10)
    counts: np.ndarray  # per record, how many of those digits are its own
    refused: list[str] | None  # per record, why it was refused ("" if read); None: none refused
    seen: np.ndarray | None  # (digits read, 784) uint8, images only
    whole: bool = False  # the request was refused whole: its one record has no row

    def rows(self) -> int:
        """How many records it makes."""
        return len(self.counts)


def table_of(answered: Answered) -> pa.Table:
    """One request's records as a table of SCHEMA."""
    records, counts = len(answered.counts), answered.counts.astype(np.int32)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    read = answered.proba.argmax(axis=1) if len(answered.proba) else np.zeros(0, np.int64)
    digit = np.full(records, -1, np.int8)
    digit[counts == 1] = read[offsets[:-1][counts == 1]]
    number = read.astype(str) if (counts == 1).all() else ["".join(map(str, read[a:b])) for a, b in
                                                            zip(offsets[:-1], offsets[1:], strict=True)]  # fmt: skip
    per_digit = pa.FixedSizeListArray.from_arrays(pa.array(answered.proba.astype(np.float32).reshape(-1)), 10)
    seen = pa.nulls(records, SCHEMA.field("seen").type)
    if answered.seen is not None:
        pictures = pa.FixedSizeBinaryArray.from_buffers(
            pa.binary(784), len(answered.seen), [None, pa.py_buffer(answered.seen.tobytes())]
        )
        seen = pa.ListArray.from_arrays(pa.array(offsets), pictures.cast(pa.binary()))
    columns = {
        "time": pa.array(np.full(records, int(answered.time * 1e6)), SCHEMA.field("time").type),
        "request_id": pa.array([answered.request_id] * records, pa.string()),
        "row": pa.nulls(records, pa.int32()) if answered.whole else pa.array(np.arange(records, dtype=np.int32)),
        "model_version": pa.array([answered.model_version] * records, pa.string()),
        "model_id": pa.array([answered.model_id] * records, pa.string()),
        "input_kind": pa.array([answered.input_kind] * records, pa.string()),
        "digit": pa.array(digit),
        "number": pa.array(list(number), pa.string()),
        "probabilities": pa.ListArray.from_arrays(pa.array(offsets), per_digit),
        "refused": pa.array([reason or None for reason in answered.refused or [""] * records], pa.string()),
        "latency_ms": pa.array(np.full(records, answered.latency_ms, np.float32)),
        "seen": seen,
    }
    return pa.Table.from_pydict(columns, schema=SCHEMA)


class InferenceLog:
    """One process's writer into a log folder: records kept in memory, written as a new Parquet file every
    FLUSH_SECONDS (by a thread), when MAX_PENDING_ROWS wait, on a stop signal and at exit."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.pending: list[Answered] = []
        self.pending_rows = 0
        self.lock = threading.RLock()  # re-entrant: a stop signal's handler may run inside record()
        self.writing = threading.RLock()
        self.process: int | None = None  # the process whose thread writes, and whose name the files carry
        self.prefix = ""
        self.files = 0
        self.unmerged: dict[str, list[tuple[int, Path]]] = {}  # per day, this process's files since the last merge
        self.stopping = False  # after a stop signal every record is written at once

    def record(self, answered: Answered) -> None:
        """Keep one request's answers to write; write now when too many wait or the process is stopping."""
        with self.lock:
            if self.process != os.getpid():  # first use in this process (or a fork's copy of another's)
                self.start()
            self.pending.append(answered)
            self.pending_rows += answered.rows()
            full = self.stopping or self.pending_rows >= MAX_PENDING_ROWS or in_spark_task()
        if full:
            self.flush()

    def start(self) -> None:
        """Begin in this process: nothing inherited pending, its own file names, its writing thread."""
        self.process, self.pending, self.pending_rows, self.unmerged = os.getpid(), [], 0, {}
        self.prefix = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        threading.Thread(target=self.flush_every, args=(os.getpid(),), name="inference-log", daemon=True).start()

    def flush_every(self, process: int) -> None:
        """The writing thread: write what waits every FLUSH_SECONDS, until the process is another's."""
        while self.process == process:
            time.sleep(FLUSH_SECONDS)
            self.flush()

    def flush(self) -> None:
        """Write every waiting record: a file per day they fall on, renamed into place when complete."""
        with self.writing:
            with self.lock:
                batch, self.pending, self.pending_rows = self.pending, [], 0
            if not batch:
                return
            try:
                self.write(batch)
            except OSError as error:  # a full or lost disk: say what is lost, keep answering
                log.error(f"inference log: {sum(a.rows() for a in batch)} records not written to {self.folder}: "
                          f"{error}")  # fmt: skip

    def write(self, batch: list[Answered]) -> None:
        """Write records as one Parquet file per day (UTC) under day=YYYY-MM-DD/; merge the day's files
        once there are MERGE_FILES."""
        days: dict[str, list[pa.Table]] = {}
        for answered in batch:
            day = datetime.fromtimestamp(answered.time, UTC).strftime("%Y-%m-%d")
            days.setdefault(day, []).append(table_of(answered))
        for day, tables in days.items():
            self.files += 1
            path = self.write_file(day, f"{self.prefix}-{self.files:06d}.parquet", pa.concat_tables(tables))
            self.unmerged.setdefault(day, []).append((self.files, path))
            if len(self.unmerged[day]) >= MERGE_FILES:
                self.merge(day)

    def write_file(self, day: str, name: str, table: pa.Table) -> Path:
        """Write a table into the day's folder under a hidden name (pyarrow and Spark skip it), then rename it."""
        folder = self.folder / f"day={day}"
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{name}.partial"
        pq.write_table(table, partial)
        os.replace(partial, folder / name)
        return folder / name

    def merge(self, day: str) -> None:
        """Replace this process's files of a day since the last merge by one, named first-last: it is
        renamed into place before they are removed, and readers skip the files a merged one holds."""
        files = self.unmerged.pop(day)
        table = pa.concat_tables([pq.ParquetFile(path).read() for _, path in files])
        self.write_file(day, f"{self.prefix}-{files[0][0]:06d}-{files[-1][0]:06d}.parquet", table)
        for _, path in files:
            path.unlink()

    def stop(self) -> None:
        """A stop signal came: write what waits, and from now on each record as it comes."""
        self.stopping = True
        self.flush()


def in_spark_task() -> bool:
    """Whether this process answers a Spark task: Spark ends its Python workers without exit handlers,
    so each of its batches (thousands of rows) is written as it is answered."""
    pyspark = sys.modules.get("pyspark")
    return pyspark is not None and pyspark.TaskContext.get() is not None


LOGS: dict[Path, InferenceLog] = {}  # this process's writers, by folder
OPENING = threading.Lock()
PREVIOUS_HANDLER: list = []  # SIGTERM's handler before ours, called after writing


def on_stop_signal(signum: int, frame) -> None:
    """SIGTERM: write every log, then do what the signal did before (uvicorn's graceful stop, a job's
    exit, or the default end)."""
    for inference_log in list(LOGS.values()):
        inference_log.stop()
    previous = PREVIOUS_HANDLER[0]
    if callable(previous):
        previous(signum, frame)
    elif previous in (signal.SIG_DFL, None):  # None: a handler set outside Python, treated as the default
        signal.signal(signum, signal.SIG_DFL)
        signal.raise_signal(signum)


def write_all() -> None:
    """Write every log's waiting records (at exit)."""
    for inference_log in list(LOGS.values()):
        inference_log.flush()


def watch_exits() -> None:
    """Write the logs on SIGTERM (from the main thread only, where handlers can be set), at the
    interpreter's exit and at a multiprocessing worker's, which skips atexit."""
    atexit.register(write_all)
    multiprocessing.util.Finalize(None, write_all, exitpriority=100)
    if threading.current_thread() is threading.main_thread():
        PREVIOUS_HANDLER[:] = [signal.signal(signal.SIGTERM, on_stop_signal)]


def check_writable(folder: Path) -> None:
    """Make the folder and write a file in it, or stop with a clear error."""
    probe = folder / f".probe-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise MnistMlopsError(f"${VARIABLE}={folder}: the inference log cannot be written there "
                              f"({error.strerror or error})") from error  # fmt: skip


def inference_log() -> InferenceLog | None:
    """This process's writer into $MNIST_MLOPS_INFERENCE_LOG, checked writable; None when it is unset."""
    named = os.environ.get(VARIABLE)
    if not named:
        return None
    folder = Path(named).expanduser().absolute()
    with OPENING:
        if folder not in LOGS:
            check_writable(folder)
            if not LOGS:
                watch_exits()
            LOGS[folder] = InferenceLog(folder)
        return LOGS[folder]


def log_files(folder: Path, start: datetime | None = None, end: datetime | None = None) -> list[Path]:
    """The complete files of a log folder (of the days from start to end, when given), without those a
    merged file holds."""
    days = sorted(path for path in folder.glob("day=*") if path.is_dir())
    if start is not None and end is not None:
        days = [day for day in days if f"day={start:%Y-%m-%d}" <= day.name <= f"day={end:%Y-%m-%d}"]
    named = [(path, match) for day in days for path in day.glob("*.parquet") if (match := NAMED.match(path.name))]
    merged = [(match["writer"], int(match["first"]), int(match["last"])) for _, match in named if match["last"]]
    return [path for path, match in named
            if match["last"] or not any(writer == match["writer"] and first <= int(match["first"]) <= last
                                        for writer, first, last in merged)]  # fmt: skip


def read_log(folder: Path, columns: list[str] | None = None, start: datetime | None = None,
             end: datetime | None = None) -> pa.Table:  # fmt: skip
    """The records of a log folder answered from start (inclusive) to end (exclusive), or all of them,
    with their day; an empty table when there are none."""
    try:
        return read_files(folder, columns, start, end)
    except FileNotFoundError:  # merged away between listing and reading: the merged file now holds them
        return read_files(folder, columns, start, end)


def read_files(folder: Path, columns: list[str] | None, start: datetime | None, end: datetime | None) -> pa.Table:
    """The records of the log's files as listed now, within start and end when given."""
    files = log_files(folder, start, end) if folder.is_dir() else []
    if not files:
        return SCHEMA.empty_table().select(columns or SCHEMA.names)
    where = None
    if start is not None and end is not None:
        time, time_type = pyarrow.dataset.field("time"), SCHEMA.field("time").type
        where = (time >= pa.scalar(start, time_type)) & (time < pa.scalar(end, time_type))
    partitioning = pyarrow.dataset.partitioning(pa.schema([("day", pa.string())]), flavor="hive")
    dataset = pyarrow.dataset.dataset([str(path) for path in files], format="parquet", partitioning=partitioning,
                                      partition_base_dir=str(folder))  # fmt: skip
    return dataset.to_table(columns=columns, filter=where)
