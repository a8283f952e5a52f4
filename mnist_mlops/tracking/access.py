"""A tracking server's refusals (`mnist-mlops server --auth`) and outages, each in one line, and a run
ended through an outage."""

import os
import re
import time

import mlflow
import requests
from mlflow.exceptions import MlflowException, RestException

REQUEST = re.compile(r"endpoint (/\S+) failed")
# How MLflow's client says that a request got no answer once its retries (MLFLOW_HTTP_REQUEST_MAX_RETRIES,
# default 7 over about 4 minutes) ran out: refused or dropped connections, timeouts, 5xx answers.
UNANSWERED = re.compile(r"API request to \S+ failed with (timeout )?exception")
OUTAGE_SECONDS = 120  # how long a job that failed waits for the tracking server to come back and end its run


def needed_right(endpoint: str) -> str:
    """The permission MLflow's basic-auth app asks for an endpoint, and on what."""
    action = endpoint.rstrip("/").rsplit("/", 1)[-1]
    right = "MANAGE" if "delete" in action else "READ" if action.startswith(("get", "search", "list")) else "EDIT"
    kind = "the registered model" if re.search(r"registered-models|model-versions", endpoint) else "the experiment"
    return f"{right} on {kind}"


def refusal(error: Exception) -> str | None:
    """The one-line message for a 401 or 403 of the tracking server, naming it, the user and the
    right that is missing; None for any other error."""
    if not isinstance(error, MlflowException) or error.get_http_status_code() not in (401, 403):
        return None
    server, user = mlflow.get_tracking_uri(), os.environ.get("MLFLOW_TRACKING_USERNAME")
    if error.get_http_status_code() == 401:
        who = f"user {user!r} with the password given" if user else "a request without a user"
        return (
            f"{server} refused {who} (HTTP 401): set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD "
            "to an account on that server"
        )
    found = REQUEST.search(str(error))
    endpoint = found.group(1) if found else "the request"
    right = needed_right(endpoint) if found else "a permission"
    return f"{server} refused {endpoint} to user {user!r} (HTTP 403): it needs {right}; its admin can grant it"


def outage(error: BaseException) -> str | None:
    """The one-line message for a tracking server that did not answer (a refused or dropped
    connection, a timeout, 5xx answers past MLflow's retries); None for any other error."""
    if isinstance(error, requests.RequestException):
        unanswered = error.response is None or error.response.status_code >= 500
    elif isinstance(error, RestException):  # the server's own answer, past MLflow's retries
        unanswered = error.get_http_status_code() >= 500
    else:
        unanswered = isinstance(error, MlflowException) and UNANSWERED.search(error.message) is not None
    if not unanswered:
        return None
    return " ".join(f"the tracking server at {mlflow.get_tracking_uri()} did not answer: {error}".split())[:600]


def end_after_outage(run_id: str, error: str | None, said: str, seconds: float = OUTAGE_SECONDS) -> str | None:
    """End run_id FAILED with the error tag error (FINISHED when None), waiting up to seconds for a
    tracking server that does not answer; the job's one line after said, None if it finished after all."""
    client, deadline = mlflow.MlflowClient(), time.monotonic() + seconds
    while True:
        try:
            if error is not None:
                client.set_tag(run_id, "error", error)
            client.set_terminated(run_id, "FINISHED" if error is None else "FAILED")
            return None if error is None else f"{said}; run {run_id} ended FAILED"
        except Exception as failed:
            if outage(failed) is None:
                raise
            if time.monotonic() > deadline:
                return (f"{said}; run {run_id} is left RUNNING (no answer for {seconds:.0f} s more): end it once the "
                        f"server answers, with MlflowClient().set_terminated({run_id!r}, 'FAILED')")  # fmt: skip
            time.sleep(2)
