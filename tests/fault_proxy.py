"""A fault proxy for tests: an HTTP proxy in front of a real server that forwards every request, except
that the paths it is told to fail get a chosen fault (an HTTP status, the connection dropped, or a slow
answer that a client's timeout gives up on)."""

import contextlib
import http.client
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

DROP = "drop"  # close the connection without answering


@dataclass(frozen=True)
class Slow:
    """A fault: forward the request only after seconds (past MLFLOW_HTTP_REQUEST_TIMEOUT, a timeout)."""

    seconds: float


HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "proxy-connection"}


class FaultProxy:
    """Listens on a free 127.0.0.1 port (url) and forwards to target; faults maps a path (without its
    query) to the status it answers, DROP, or Slow(seconds). hits counts the faulted requests by path."""

    def __init__(self, target: str):
        self.target = urlsplit(target)
        self.faults: dict[str, int | str | Slow] = {}
        self.hits: Counter[str] = Counter()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "FaultProxy":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def forward(self) -> None:
                path = self.path.split("?", 1)[0]
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fault = proxy.faults.get(path)
                if fault is not None:
                    proxy.hits[path] += 1
                    if not isinstance(fault, Slow):
                        self.fail(fault)
                        return
                    time.sleep(fault.seconds)
                upstream = http.client.HTTPConnection(proxy.target.hostname, proxy.target.port, timeout=600)
                headers = {key: value for key, value in self.headers.items() if key.lower() not in HOP_BY_HOP}
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                content = response.read()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                with contextlib.suppress(OSError):  # a client that timed out has gone
                    self.wfile.write(content)
                upstream.close()

            def fail(self, fault: int | str) -> None:
                if fault == DROP:
                    self.close_connection = True
                    self.connection.close()
                    return
                content = b'{"error_code": "TEMPORARILY_UNAVAILABLE", "message": "injected fault"}'
                self.send_response(int(fault))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = forward

            def log_message(self, *args) -> None:  # quiet: pytest shows what the test asserts
                pass

        return Handler


@contextlib.contextmanager
def through(proxy: FaultProxy, tracking_server: str):
    """This process's MLflow calls go through the proxy for the block (set_tracking_uri sets the
    environment variable too, which the jobs read)."""
    import mlflow
    import pytest

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", proxy.url)
        mlflow.set_tracking_uri(proxy.url)
        try:
            yield
        finally:
            mlflow.set_tracking_uri(tracking_server)
