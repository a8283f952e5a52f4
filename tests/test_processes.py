"""Starting, waiting for and stopping servers, on real processes: a tree stopped whole by SIGTERM, one
that ignores it killed, a tree killed at once as a crash would, and a server that dies before it answers
named in the error."""

import subprocess
import sys

import pytest

from mnist_mlops import processes
from mnist_mlops.errors import MnistMlopsError

# A parent that serves HTTP on a port and starts a child of its own, which sleeps.
SERVER = """
import http.server, subprocess, sys
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), http.server.SimpleHTTPRequestHandler).serve_forever()
"""
STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"


def test_a_server_is_waited_for_and_stopped_with_its_children(tmp_path):
    port = processes.free_port()
    server = processes.start([sys.executable, "-c", SERVER, str(port)], cwd=tmp_path, stderr=subprocess.DEVNULL)
    processes.wait_until_answering(f"http://127.0.0.1:{port}/", server, seconds=60)
    tree = processes.tree_of(server)
    assert len(tree) == 2
    assert processes.stop(server) and not processes.still_running(tree, seconds=0)


def test_a_process_that_ignores_sigterm_is_killed_and_said_so():
    stubborn = processes.start([sys.executable, "-c", STUBBORN])
    processes.still_running([stubborn.pid], seconds=1)  # time to set its handler
    assert not processes.stop(stubborn, seconds=1)
    assert stubborn.returncode == -9 and not processes.still_running([stubborn.pid], seconds=0)


def test_a_killed_tree_leaves_no_process_even_a_child_in_a_group_of_its_own(tmp_path):
    port = processes.free_port()
    grouped = SERVER.replace('time.sleep(600)"])', 'time.sleep(600)"], process_group=0)')
    server = processes.start([sys.executable, "-c", grouped, str(port)], cwd=tmp_path, stderr=subprocess.DEVNULL)
    processes.wait_until_answering(f"http://127.0.0.1:{port}/", server, seconds=60)
    tree = processes.tree_of(server)
    processes.kill(server)
    assert len(tree) == 2 and server.returncode == -9 and not processes.still_running(tree, seconds=5)


def test_a_server_that_exits_before_answering_is_an_error():
    ended = processes.start([sys.executable, "-c", "raise SystemExit(3)"])
    with pytest.raises(MnistMlopsError, match="the server exited with code 3 before http://127.0.0.1:9/ answered"):
        processes.wait_until_answering("http://127.0.0.1:9/", ended, seconds=30)
