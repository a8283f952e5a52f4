"""A tracking server that requires a login (`mnist-mlops server --auth`): its refusals in one line."""

import os
import re

import mlflow
from mlflow.exceptions import MlflowException

REQUEST = re.compile(r"endpoint (/\S+) failed")


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
