"""A lock kept by the tracking store itself, so that promotions in any number of processes, on any
number of machines, against one store take turns.

MLflow has no conditional update (no "move this alias only if it still points at V"), but creating a
registered model is atomic: its name is the primary key of the store's table, so of any number of
creations of one name at once exactly one succeeds and the others get RESOURCE_ALREADY_EXISTS. A
registered model named `<model>.lock` is therefore a mutex: whoever created it holds it; deleting it
releases it. The argument needs no clocks and no timeouts: a holder that is merely slow still holds
the lock, so no two processes ever hold it together. What it gives up is liveness after a crash: a
holder killed without its `finally` (SIGKILL, power loss) leaves the lock behind, and the next
promotion waits LOCK_WAIT_SECONDS and then fails, naming the holder and how to release it. Breaking a
stale lock automatically would need a conditional delete, which MLflow does not have either.

A creation whose answer was lost and that MLflow's client retried finds its own lock: the lock's
owner tag, written in the same creation, tells it apart from another holder's.
"""

import contextlib
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import psutil
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from mnist_mlops.errors import MnistMlopsError

log = logging.getLogger(__name__)

LOCK_WAIT_SECONDS = 120  # a holder keeps it for a few requests; waiting longer means it is stale
OWNER_TAG = "lock_owner"  # host:pid:random, unique to one holding
BUSY = ("RESOURCE_ALREADY_EXISTS", "RESOURCE_DOES_NOT_EXIST")  # held; or released while its holder was read


def lock_name(model_name: str) -> str:
    """The registered model that is the lock on a model's aliases."""
    return f"{model_name}.lock"


@contextlib.contextmanager
def held(model_name: str, wait_seconds: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
    """Hold the store's lock on a model's aliases for the block; wait for it up to wait_seconds."""
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
    take(lock_name(model_name), owner, wait_seconds)
    try:
        yield
    finally:
        release(lock_name(model_name))


def take(name: str, owner: str, wait_seconds: float) -> None:
    """Create the lock `name` as owner, waiting while another holder has it."""
    client, deadline = MlflowClient(), time.monotonic() + wait_seconds
    while True:
        since = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            client.create_registered_model(name, tags={OWNER_TAG: owner, "since": since}, description="held")
            return
        except MlflowException as error:
            if error.error_code not in BUSY:
                raise
        holder = holder_of(name)
        if holder is not None and holder.get(OWNER_TAG) == owner:  # our creation went through; its retry did not
            return
        if time.monotonic() > deadline:
            raise MnistMlopsError(stale_text(name, holder or {}, wait_seconds))
        time.sleep(random.uniform(0.05, 0.3))  # spread the next tries of several waiters


def holder_of(name: str) -> dict[str, str] | None:
    """The tags of the lock's holder, or None when nobody holds it now."""
    try:
        return dict(MlflowClient().get_registered_model(name).tags)
    except MlflowException as error:
        if error.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise


def stale_text(name: str, holder: dict[str, str], wait_seconds: float) -> str:
    """Why the lock could not be taken, who holds it and how to release it."""
    host, _, rest = holder.get(OWNER_TAG, "?:?:").partition(":")
    pid = rest.partition(":")[0]
    gone = host == socket.gethostname() and pid.isdigit() and not psutil.pid_exists(int(pid))
    state = " (that process has ended)" if gone else ""
    return (
        f"the registry lock {name!r} has been held for {wait_seconds:.0f} s by process {pid} on {host}{state}, "
        f"since {holder.get('since', '?')}; if that process is gone, delete the registered model {name!r} "
        "(MLflow UI, or MlflowClient().delete_registered_model) and try again"
    )


def release(name: str) -> None:
    """Delete the lock; already gone is fine (cleared by hand). A failure is said, not raised: what the
    lock guarded is written by then, and the next promotion names the lock left behind."""
    try:
        MlflowClient().delete_registered_model(name)
    except MlflowException as error:
        if error.error_code != "RESOURCE_DOES_NOT_EXIST":
            log.warning(f"could not release the registry lock {name!r} ({error.message}): delete that registered model")
