"""Servers as processes: started in their own process group, waited for until they answer, and stopped
with every process below them. `mnist-mlops server`, the Spark cluster, the tests' servers and the
benchmarks' all start and stop through here."""

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import psutil

from mnist_mlops.errors import MnistMlopsError

STOP_SECONDS = 30  # a server's grace after SIGTERM before what is left of its tree is killed


def free_port() -> int:
    """A TCP port free on the loopback address now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(command: list[str], **popen) -> subprocess.Popen:
    """Start command in a process group of its own (popen: subprocess.Popen's other arguments): a
    terminal's Ctrl-C reaches only the caller, and stop() signals the whole group."""
    return subprocess.Popen(command, process_group=0, **popen)


def wait_until_answering(url: str, process: subprocess.Popen, seconds: float) -> None:
    """Poll url until it answers 200; fail if the process ends or time runs out. A server that accepts
    the connection but is still starting up (a read timeout) is polled again."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise MnistMlopsError(f"the server exited with code {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):  # not listening yet, or busy starting up
            time.sleep(0.3)
    raise MnistMlopsError(f"{url} did not answer within {seconds:.0f} s")


def tree_of(process: subprocess.Popen) -> list[int]:
    """The process and every process below it (read before stopping: orphans are adopted elsewhere)."""
    try:
        return [process.pid, *(child.pid for child in psutil.Process(process.pid).children(recursive=True))]
    except psutil.NoSuchProcess:
        return [process.pid]


def is_alive(pid: int) -> bool:
    """Whether a process runs (a zombie, ended and not yet waited for, does not)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def still_running(pids: list[int], seconds: float = 15) -> list[int]:
    """The processes still alive after up to seconds: a server's children may stop just after it."""
    deadline = time.monotonic() + seconds
    while alive := [pid for pid in pids if is_alive(pid)]:
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    return alive


def kill(*started: subprocess.Popen) -> None:
    """Kill processes started by start() and their trees with SIGKILL, as a crash would: none gets to
    clean up or answer (a server may start groups of its own, so every process of the trees is sent it)."""
    for pid in [pid for process in started for pid in tree_of(process)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for process in started:
        process.wait()


def stop(*started: subprocess.Popen, seconds: float = STOP_SECONDS) -> bool:
    """Stop processes started by start() and their trees, together: SIGTERM to each group, then, after
    seconds, SIGKILL to every process of the trees still alive (a server may start groups of its own).
    True if SIGTERM stopped every tree."""
    trees = [pid for process in started for pid in tree_of(process)]
    for process in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    left = still_running(trees, seconds=seconds)  # the children too: they may outlive their parent
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for process in started:
        process.wait()  # ended, or killed just now
    return not left
