"""The registry's lock, kept by a real tracking store: one holder at a time, a clear error naming a
holder that does not let go, and a retried creation that finds its own lock."""

import socket
import subprocess

import pytest
from mlflow import MlflowClient

from mnist_mlops import registry_lock
from mnist_mlops.errors import MnistMlopsError


def test_one_holder_at_a_time(tracking_store):
    with registry_lock.held("model"):
        assert MlflowClient().get_registered_model("model.lock").description == "held"
        held_for = r"the registry lock 'model.lock' has been held for 1 s by process \d+"
        with pytest.raises(MnistMlopsError, match=held_for), registry_lock.held("model", wait_seconds=1):
            pass
    with registry_lock.held("model"):  # released: taken again at once
        pass
    assert [model.name for model in MlflowClient().search_registered_models()] == []


def test_a_lock_left_by_a_process_that_ended_says_how_to_release_it(tracking_store):
    ended = subprocess.Popen(["true"])
    ended.wait()
    tags = {registry_lock.OWNER_TAG: f"{socket.gethostname()}:{ended.pid}:left", "since": "2026-01-01T00:00:00+00:00"}
    MlflowClient().create_registered_model("model.lock", tags=tags)
    with pytest.raises(MnistMlopsError) as raised, registry_lock.held("model", wait_seconds=0.5):
        pass
    said = str(raised.value)
    assert f"by process {ended.pid} on {socket.gethostname()} (that process has ended), since 2026-01-01" in said
    assert "delete the registered model 'model.lock'" in said


def test_a_creation_retried_after_it_went_through_holds_the_lock(tracking_store):
    registry_lock.take("model.lock", "host:1:me", wait_seconds=0)
    registry_lock.take("model.lock", "host:1:me", wait_seconds=0)  # its own lock: held, no wait
    with pytest.raises(MnistMlopsError, match="held for 0 s by process 1 on host"):
        registry_lock.take("model.lock", "host:2:other", wait_seconds=0)
    registry_lock.release("model.lock")
    registry_lock.release("model.lock")  # gone already: fine
