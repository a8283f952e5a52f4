"""Where the four MNIST files live, how they are verified, and how missing ones are fetched."""

import functools
import hashlib
import http.client
import logging
import os
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from mnist_mlops.errors import MnistMlopsError

log = logging.getLogger(__name__)

DATA_DIR_ENV = "MNIST_DATA_DIR"
MIRRORS_ENV = "MNIST_MIRRORS"
# Tried in order; each serves the four gzipped files under the same names.
DEFAULT_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
ATTEMPTS_PER_MIRROR = 2
TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class MnistFile:
    """One of the four published files, with the SHA-256 of its gzipped and raw forms."""

    name: str  # published name, without .gz
    sha256_gz: str
    sha256_raw: str


TRAIN_IMAGES = MnistFile(
    "train-images-idx3-ubyte",
    "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
)
TRAIN_LABELS = MnistFile(
    "train-labels-idx1-ubyte",
    "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
)
TEST_IMAGES = MnistFile(
    "t10k-images-idx3-ubyte",
    "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
)
TEST_LABELS = MnistFile(
    "t10k-labels-idx1-ubyte",
    "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
)
ALL_FILES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """Return --data-dir if given, else $MNIST_DATA_DIR, else the per-user cache folder."""
    chosen = data_dir or os.environ.get(DATA_DIR_ENV)
    if chosen:
        return Path(chosen).expanduser()
    return user_cache("mnist")


def user_cache(name: str) -> Path:
    """A file or folder of this project in the user's cache: $XDG_CACHE_HOME/mnist-mlops/NAME, by
    default ~/.cache/mnist-mlops/NAME (on Linux)."""
    return Path(platformdirs.user_cache_dir("mnist-mlops")) / name


def mirrors_from_env() -> tuple[str, ...]:
    """Return the mirrors named in $MNIST_MIRRORS (comma-separated), else the defaults."""
    named = os.environ.get(MIRRORS_ENV, "")
    return tuple(url.strip() for url in named.split(",") if url.strip()) or DEFAULT_MIRRORS


def file_key(path: Path) -> tuple[str, int, int]:
    """A file's resolved path, size and modification time: what a per-process cache of it keys on."""
    stat = path.stat()
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 of a file, computed once per process while its size and time stay the same."""
    return keyed_sha256(file_key(path))


@functools.lru_cache(maxsize=32)
def keyed_sha256(key: tuple[str, int, int]) -> str:
    """The hex SHA-256 of the file a file_key() names, read in chunks."""
    digest = hashlib.sha256()
    with open(key[0], "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verified_path(data_dir: Path, file: MnistFile) -> Path | None:
    """Return the verified gzipped or raw copy of a file in data_dir, None if there is none."""
    for path, expected in ((data_dir / f"{file.name}.gz", file.sha256_gz), (data_dir / file.name, file.sha256_raw)):
        if not path.exists():
            continue
        found = sha256_of(path)
        if found != expected:
            raise MnistMlopsError(
                f"{path}: SHA-256 mismatch (got {found[:12]}..., expected {expected[:12]}...); "
                "the file is corrupt or not the official MNIST file: delete it to download it again"
            )
        return path
    return None


def download(file: MnistFile, data_dir: Path, mirrors: tuple[str, ...]) -> Path:
    """Fetch file.gz from the first mirror that serves it intact; never leave a partial file."""
    data_dir.mkdir(parents=True, exist_ok=True)
    target = data_dir / f"{file.name}.gz"
    problems = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + f"/{file.name}.gz"
        for attempt in range(1, ATTEMPTS_PER_MIRROR + 1):
            try:
                _fetch_verified(url, target, file.sha256_gz)
                return target
            except (OSError, http.client.HTTPException, ValueError) as error:  # URLError is an OSError
                problems.append(f"{url}: {error}")
                log.warning("download %s failed (attempt %d): %s", url, attempt, error)
                if attempt < ATTEMPTS_PER_MIRROR:
                    time.sleep(attempt)
    raise MnistMlopsError(
        f"{file.name}.gz is not in {data_dir} and no mirror served it intact "
        f"({'; '.join(problems)}). Put the four MNIST files there, or point --data-dir "
        f"or ${DATA_DIR_ENV} at a folder that has them."
    )


def _fetch_verified(url: str, target: Path, sha256: str) -> None:
    """Stream url into a temporary file beside target, check its hash, then rename atomically."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        digest = hashlib.sha256()
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            for chunk in iter(lambda: response.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256:
            raise ValueError(f"served a file whose SHA-256 is {digest.hexdigest()[:12]}..., not the official one")
        os.replace(temporary, target)
    finally:
        Path(temporary).unlink(missing_ok=True)


def ensure_files(data_dir: Path, mirrors: tuple[str, ...] | None = None) -> dict[MnistFile, Path]:
    """Return a verified path for each MNIST file in data_dir, downloading the missing ones."""
    paths = {}
    for file in ALL_FILES:
        paths[file] = verified_path(data_dir, file) or download(file, data_dir, mirrors or mirrors_from_env())
    return paths
