"""The one place that talks to MLflow tracking: runs, params, metrics, artifacts, datasets, logged
models and search trials."""

from mnist_mlops.tracking.models import log_model
from mnist_mlops.tracking.runs import (
    active_run_id,
    annotate,
    download,
    latest_run_tagged,
    load_table,
    log_csv,
    log_datasets,
    log_epoch,
    log_figure,
    log_json,
    log_metrics,
    log_model_metrics,
    log_params,
    log_precision,
    log_report,
    log_table,
    run,
    set_tags,
    use_tracking,
    use_tracking_uri,
)
from mnist_mlops.tracking.trials import SearchTracking, search_tracking

__all__ = [
    "active_run_id",
    "annotate",
    "SearchTracking",
    "download",
    "latest_run_tagged",
    "load_table",
    "log_csv",
    "log_datasets",
    "log_epoch",
    "log_figure",
    "log_json",
    "log_metrics",
    "log_model_metrics",
    "log_model",
    "log_params",
    "log_precision",
    "log_report",
    "log_table",
    "run",
    "search_tracking",
    "set_tags",
    "use_tracking",
    "use_tracking_uri",
]
