"""Reading the IDX format of the MNIST files, gzipped or not, with checks that name the problem.

IDX layout (big-endian): a 4-byte magic number (0x00000803 = 2051 for images, 0x00000801 = 2049
for labels), one 4-byte size per dimension, then the unsigned bytes.
"""

import gzip
import zlib
from pathlib import Path

import numpy as np

from mnist_mlops.errors import MnistMlopsError

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
IMAGE_SIDE = 28
_DIMENSIONS = {IMAGES_MAGIC: 3, LABELS_MAGIC: 1}


def read_bytes(path: Path) -> bytes:
    """Return the file's content, decompressed when it is gzipped."""
    raw = path.read_bytes()
    if not raw.startswith(b"\x1f\x8b"):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise MnistMlopsError(f"{path.name}: corrupt gzip stream ({error})") from error


def parse_idx(content: bytes, name: str, magic: int) -> np.ndarray:
    """Parse IDX bytes into a uint8 array, checking magic number, dimensions and length."""
    dims = _DIMENSIONS[magic]
    header_size = 4 + 4 * dims
    if len(content) < header_size:
        raise MnistMlopsError(f"{name}: truncated header ({len(content)} bytes)")
    found = int.from_bytes(content[:4], "big")
    if found != magic:
        raise MnistMlopsError(f"{name}: wrong magic number {found}, expected {magic}")
    shape = tuple(int.from_bytes(content[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    if dims == 3 and shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise MnistMlopsError(f"{name}: images are {shape[1]}x{shape[2]}, expected 28x28")
    expected = header_size + int(np.prod(shape))
    if len(content) != expected:
        raise MnistMlopsError(f"{name}: {len(content)} bytes, expected {expected} for shape {shape} (truncated file?)")
    return np.frombuffer(content, dtype=np.uint8, offset=header_size).reshape(shape)


def read_images(path: Path) -> np.ndarray:
    """Read an IDX images file into a (n, 28, 28) uint8 array."""
    return parse_idx(read_bytes(path), path.name, IMAGES_MAGIC)


def read_labels(path: Path) -> np.ndarray:
    """Read an IDX labels file into a (n,) uint8 array of digits 0-9."""
    labels = parse_idx(read_bytes(path), path.name, LABELS_MAGIC)
    if labels.size and labels.max() > 9:
        raise MnistMlopsError(f"{path.name}: label {labels.max()} is not a digit 0-9")
    return labels
