"""Checksums, data-folder resolution and downloads from mirrors served on 127.0.0.1."""

import functools
import shutil
import socket
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mnist_mlops.data import files
from mnist_mlops.errors import MnistMlopsError


class CorruptingHandler(SimpleHTTPRequestHandler):
    """Serves the real files with one byte changed, as a broken mirror would."""

    def copyfile(self, source, outputfile):
        content = bytearray(source.read())
        content[len(content) // 2] ^= 0xFF
        outputfile.write(bytes(content))


def serve(directory: Path, handler=SimpleHTTPRequestHandler):
    """Start an HTTP server for directory on a free loopback port; return it and its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(directory)))
    server.RequestHandlerClass.log_message = lambda *args: None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


@pytest.fixture
def mirrors(offline_data):
    """A mirror that is down, one that corrupts every file, and a good one, in that order."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{probe.getsockname()[1]}/"
    corrupt_server, corrupt = serve(offline_data, CorruptingHandler)
    good_server, good = serve(offline_data)
    yield down, corrupt, good
    for server in (corrupt_server, good_server):
        server.shutdown()
        server.server_close()


def test_downloads_past_a_down_and_a_corrupt_mirror(mirrors, tmp_path, caplog):
    paths = files.ensure_files(tmp_path / "cache", mirrors)
    for file, path in paths.items():
        assert path == tmp_path / "cache" / f"{file.name}.gz"
        assert files.sha256_of(path) == file.sha256_gz
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted(f"{f.name}.gz" for f in files.ALL_FILES)
    assert "SHA-256 is" in caplog.text and "Connection refused" in caplog.text


def test_no_intact_mirror_leaves_no_file_and_says_what_to_do(mirrors, tmp_path):
    down, corrupt, _ = mirrors
    with pytest.raises(MnistMlopsError) as raised:
        files.ensure_files(tmp_path / "cache", (down, corrupt))
    message = str(raised.value)
    assert "train-images-idx3-ubyte.gz is not in" in message and "no mirror served it intact" in message
    assert "--data-dir" in message and "\n" not in message
    assert list((tmp_path / "cache").iterdir()) == []


def test_present_files_are_used_without_network(offline_data, tmp_path):
    for path in offline_data.glob("*.gz"):
        shutil.copy(path, tmp_path)
    paths = files.ensure_files(tmp_path, ("http://127.0.0.1:9/",))
    assert all(path.parent == tmp_path for path in paths.values())


def test_checksum_mismatch_is_an_error_not_a_silent_download(offline_data, tmp_path):
    for path in offline_data.glob("*.gz"):
        shutil.copy(path, tmp_path)
    damaged = tmp_path / "t10k-labels-idx1-ubyte.gz"
    content = damaged.read_bytes()
    damaged.write_bytes(content[:-1] + bytes([content[-1] ^ 0xFF]))
    with pytest.raises(MnistMlopsError, match="t10k-labels-idx1-ubyte.gz: SHA-256 mismatch.*delete it"):
        files.ensure_files(tmp_path)
    assert damaged.exists()


def test_a_file_changed_after_a_load_is_verified_again(offline_data, tmp_path):
    """Hashes are kept per process, but only while a file keeps its size and modification time."""
    for path in offline_data.glob("*.gz"):
        shutil.copy(path, tmp_path)
    labels = tmp_path / "t10k-labels-idx1-ubyte.gz"
    assert files.ensure_files(tmp_path)[files.TEST_LABELS] == labels
    content = labels.read_bytes()
    labels.write_bytes(content[:-1] + bytes([content[-1] ^ 0xFF]))  # same size, a new modification time
    with pytest.raises(MnistMlopsError, match="t10k-labels-idx1-ubyte.gz: SHA-256 mismatch"):
        files.ensure_files(tmp_path)


def test_uncompressed_files_are_verified_too(offline_data, tmp_path):
    import gzip

    raw = tmp_path / "t10k-labels-idx1-ubyte"
    raw.write_bytes(gzip.decompress((offline_data / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    assert files.verified_path(tmp_path, files.TEST_LABELS) == raw


def test_data_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv(files.DATA_DIR_ENV, str(tmp_path / "from-env"))
    assert files.resolve_data_dir(tmp_path / "given") == tmp_path / "given"
    assert files.resolve_data_dir(None) == tmp_path / "from-env"
    monkeypatch.delenv(files.DATA_DIR_ENV)
    assert files.resolve_data_dir(None).parts[-2:] == ("mnist-mlops", "mnist")


def test_mirrors_from_env(monkeypatch):
    monkeypatch.setenv(files.MIRRORS_ENV, "http://a/, http://b/")
    assert files.mirrors_from_env() == ("http://a/", "http://b/")
    monkeypatch.delenv(files.MIRRORS_ENV)
    assert files.mirrors_from_env() == files.DEFAULT_MIRRORS and len(files.DEFAULT_MIRRORS) >= 2
