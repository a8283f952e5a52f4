"""The baseline job: fit scikit-learn pipelines on MNIST, evaluate them and track each as a run."""

import pandas as pd

from mnist_mlops import tracking
from mnist_mlops.config import BASELINE_MODELS, JOB_FIELDS, BaselineConfig
from mnist_mlops.data import Mnist, load_mnist
from mnist_mlops.evaluate.report import classification_report
from mnist_mlops.train.candidates import fit_sklearn, score_splits

# Which config fields tune which pipeline parameter, per model.
PIPELINE_PARAMS = {
    "dummy": {},
    "logreg": {"C": "clf__C", "max_iter": "clf__max_iter"},
    "knn": {
        "k": "clf__n_neighbors",
        "weights": "clf__weights",
        "metric": "clf__metric",
        "pca_components": "pca__n_components",
    },
    "rf": {"n_estimators": "clf__n_estimators", "max_depth": "clf__max_depth"},
}
RUN_FIELDS = ("model", *JOB_FIELDS)  # what every baseline run logs besides its pipeline params


def pipeline_params(config: BaselineConfig, model: str) -> dict:
    """Return the set_params() arguments of one model, e.g. {'clf__C': 1.0}."""
    return {param: getattr(config, field) for field, param in PIPELINE_PARAMS[model].items()}


def run_params(config: BaselineConfig, model: str) -> dict:
    """Return the params one model's run logs: the job fields and that model's pipeline params."""
    job = {field: getattr(config, field) for field in RUN_FIELDS}
    return {**job, "model": model, **pipeline_params(config, model)}


def fit_and_track(config: BaselineConfig, model_name: str, data: Mnist, nested: bool) -> dict[str, float]:
    """Fit, evaluate and log one baseline as its own run; return its metrics."""
    tags = {"model_family": model_name, "model_kind": "sklearn"}
    with tracking.run(model_name, tags, nested=nested) as run_id:
        tracking.log_params(run_params(config, model_name))
        tracking.log_datasets(data)
        fitted = fit_sklearn(model_name, pipeline_params(config, model_name), data, config.seed)
        probabilities, timings = score_splits(fitted, data.splits())
        report = classification_report(probabilities, title=model_name)
        report.metrics.update(timings)
        tracking.log_report(report)
        tracking.log_sklearn_model(fitted.model, data.val.x[:5])
    return {"model": model_name, "run_id": run_id, **report.metrics}


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
        table = comparison_table([fit_and_track(config, name, data, nested=True) for name in BASELINE_MODELS])
        tracking.log_csv(table, "comparison.csv")
    return table
