"""The baseline job: fit scikit-learn families on MNIST, evaluate them and track each as a run."""

import pandas as pd

from mnist_mlops import models, tracking
from mnist_mlops.config import JOB_FIELDS, BaselineConfig
from mnist_mlops.data import Mnist, load_mnist
from mnist_mlops.jobs.record import record
from mnist_mlops.train.fitting import fit

RUN_FIELDS = ("model", *JOB_FIELDS)  # what every baseline run logs besides its pipeline params


def fit_and_track(config: BaselineConfig, name: str, data: Mnist, nested: bool) -> dict[str, float | str]:
    """Fit, evaluate and log one baseline as its own run; return its metrics."""
    family = models.family(name)
    params = family.hyperparameters(config)
    with tracking.run(name, {"model_family": name, "model_kind": family.kind}, nested=nested) as run_id:
        tracking.log_params({**{field: getattr(config, field) for field in RUN_FIELDS}, "model": name, **params})
        tracking.log_datasets(data)
        fitted = fit(family, params, data, config.seed)
        recorded = record(fitted, data, name, models.model_name(name), name, config.seed, said=f"baseline {name}")
    return {"model": name, "run_id": run_id, **recorded.metrics}


def comparison_table(results: list[dict]) -> pd.DataFrame:
    """Return one row per model, best validation accuracy first."""
    columns = ["model", "val_accuracy", "test_accuracy", "val_f1_macro", "fit_seconds", "run_id"]
    return pd.DataFrame(results)[columns].sort_values("val_accuracy", ascending=False, ignore_index=True)


def run_baselines(config: BaselineConfig) -> pd.DataFrame:
    """Run the chosen baseline, or every one under a parent run, and return the comparison table."""
    data = load_mnist(config.data_dir, config.val_fraction, config.limit, config.seed)
    tracking.use_tracking(config.experiment)
    if config.model != "all":
        return comparison_table([fit_and_track(config, config.model, data, nested=False)])
    with tracking.run("baselines", {"model_kind": "sklearn"}):
        tracking.log_params({field: getattr(config, field) for field in RUN_FIELDS})
        table = comparison_table([fit_and_track(config, name, data, nested=True) for name in models.names("sklearn")])
        tracking.log_csv(table, "comparison.csv")
    return table
