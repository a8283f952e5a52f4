"""Live accuracy: the window's records that people labelled (corrections naming the request they
correct), and how many of them the model had answered right, per version."""

import pandas as pd

from mnist_mlops.monitoring.drift import version_name
from mnist_mlops.monitoring.profile import ALL


def live_accuracy(frame: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """Per version (and all): how many of the window's records a label names (requests of one record: a
    correction names a request, not its row) and the share whose number is the label (a refusal is wrong)."""
    single = frame.groupby("request_id")["request_id"].transform("size") == 1
    labelled = frame[single & frame["request_id"].isin(labels.keys())]
    right = labelled["number"].fillna("") == labelled["request_id"].map(labels)
    parts = [(ALL, right), *right.groupby(labelled["model_version"])] if len(labelled) else []
    return pd.DataFrame(
        [{"model_version": version, "labelled": len(part), "live_accuracy": part.mean()} for version, part in parts],
        columns=["model_version", "labelled", "live_accuracy"],
    )


def accuracy_metrics(table: pd.DataFrame) -> dict[str, float]:
    """The live accuracy table as metrics: window_labelled and window_live_accuracy of every version
    together, window_v{N}_labelled and window_v{N}_live_accuracy of each."""
    metrics: dict[str, float] = {}
    for row in table.itertuples():
        prefix = "window" if row.model_version == ALL else f"window_{version_name(row.model_version)}"
        metrics |= {f"{prefix}_labelled": float(row.labelled), f"{prefix}_live_accuracy": float(row.live_accuracy)}
    return metrics
