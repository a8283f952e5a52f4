"""Stop signals (SIGTERM, and SIGHUP from a closed terminal) end a job with exit 128 + signal and
its open MLflow runs FAILED, also when the exit they raise lands where Python swallows it."""

import signal
import sys

_received: list[int] = []


def _exit(signum: int, frame) -> None:
    _received.append(signum)
    sys.exit(128 + signum)


def exit_on_stop_signals() -> None:
    """Exit on SIGTERM, and on SIGHUP unless it is ignored (nohup), so runs end FAILED, not RUNNING."""
    signal.signal(signal.SIGTERM, _exit)
    if signal.getsignal(signal.SIGHUP) is signal.SIG_DFL:
        signal.signal(signal.SIGHUP, _exit)


def exit_if_stopped() -> None:
    """Exit now if a stop signal came and its exit was swallowed (inside a GC callback, say)."""
    if _received:
        sys.exit(128 + _received[0])
