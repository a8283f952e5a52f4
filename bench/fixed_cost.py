"""The fixed-cost trial of bench/scaling.py, in a module of its own: a Spark worker imports it to
unpickle the trial, and should import no more than a search's trial module does."""

import time

import mlflow
from hyperopt import STATUS_OK

from mnist_mlops.tracking.trials import Parent, child_run

TRIAL_SECONDS = 2.0


def fixed_cost_trial(parent: Parent):
    """A trial that logs like a search's trial and waits TRIAL_SECONDS, as if a GPU elsewhere trained."""

    def objective(sample: dict) -> dict:
        with child_run(parent, "trial") as run_id:
            mlflow.log_params(sample)
            time.sleep(TRIAL_SECONDS)
            loss = (sample["x"] - 1) ** 2 + sample["y"]
            mlflow.log_metrics({"val_loss": loss, "fit_seconds": TRIAL_SECONDS})
        return {"status": STATUS_OK, "loss": loss, "run_id": run_id}

    return objective
