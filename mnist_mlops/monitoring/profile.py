"""A window of the inference log as a profile (requests, refusals, confidence, latency, the mix of digits
and of input kinds) and the drift of its predicted digits against another window or a baseline (chi-square)."""

import math
import re
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import seaborn as sns
from matplotlib.figure import Figure
from scipy.stats import chi2_contingency

from mnist_mlops.evaluate.plots import new_figure
from mnist_mlops.monitoring.images import FEATURES, seen_features
from mnist_mlops.serving.inference_log import ANSWER_DECIMALS, read_log

COLUMNS = ["request_id", "model_version", "input_kind", "digit", "number", "probabilities", "refused", "latency_ms",
           "seen"]  # fmt: skip
SLICE = timedelta(hours=1)  # a window is read this much at a time: only a slice's images are in memory at once
MEASURED = 2000  # records of a slice whose images are measured (evenly spread): plenty for a two-sample test
KINDS = ("pixels", "image")
ALL = "all"  # the profile row of every version together


def read_window(folder: Path, start: datetime, end: datetime) -> pd.DataFrame:
    """The window's records, read SLICE at a time (up to MEASURED of its records' images measured, then all
    dropped), each with the confidence of its least sure digit read and the mean of its images' features
    (NaN when none, or not measured)."""
    slices = [start + SLICE * step for step in range(math.ceil((end - start) / SLICE))]
    frames = [records(read_log(folder, COLUMNS, at, min(at + SLICE, end))) for at in slices]
    return pd.concat([frame for frame in frames if len(frame)] or frames[:1], ignore_index=True)


def records(table: pa.Table) -> pd.DataFrame:
    """The log's records as a frame without their probabilities and images: their confidence and features."""
    counts = pc.list_value_length(table["probabilities"]).to_numpy(zero_copy_only=False).astype(np.int64)
    values = pc.list_flatten(pc.list_flatten(table["probabilities"])).to_numpy(zero_copy_only=False)
    tops = values.reshape(-1, 10).max(axis=1) if len(values) else np.zeros(0)
    seen = pc.fill_null(pc.list_value_length(table["seen"]), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    chosen = np.flatnonzero(seen)  # the records whose images are measured: at most MEASURED, evenly spread
    if len(chosen) > MEASURED:
        chosen = chosen[np.linspace(0, len(chosen) - 1, MEASURED).astype(np.int64)]
    values = seen_features(table["seen"].take(pa.array(chosen))).astype(np.float64)
    measured = np.full((len(seen), len(FEATURES)), np.nan)
    measured[chosen] = per_record(values, seen[chosen], np.add) / seen[chosen, None]
    frame = table.drop_columns(["probabilities", "seen"]).to_pandas()
    # As served: a version's baseline is recorded from served answers, and compared with the log's whole
    # probabilities every baseline answer rounded up to 1 (15% of a good network's) would be a drift.
    frame["confidence"] = np.round(per_record(tops[:, None], counts, np.minimum)[:, 0], ANSWER_DECIMALS)
    frame[list(FEATURES)] = measured
    frame["model_version"] = frame["model_version"].fillna("unregistered")
    return frame


def per_record(values: np.ndarray, counts: np.ndarray, reduce: np.ufunc) -> np.ndarray:
    """Each record's values (counts[i] consecutive rows of values each) reduced to one row; NaN when none."""
    found = np.full((len(counts), values.shape[1]), np.nan)
    some = counts > 0
    if some.any():
        found[some] = reduce.reduceat(values, np.concatenate([[0], np.cumsum(counts)[:-1]])[some], axis=0)
    return found


def reason_name(refused: str) -> str:
    """A refusal's kind as a metric name: its text before the details, e.g. no_digit."""
    reason = re.sub(r"^image \d+: ", "", refused).split(":")[0].split("(")[0]
    return re.sub(r"[^a-z0-9]+", "_", reason.lower()).strip("_")[:40] or "other"


def digit_counts(frame: pd.DataFrame) -> np.ndarray:
    """How many records were answered with each digit (images of one digit, and pixel rows)."""
    return np.bincount(frame.loc[frame["digit"] >= 0, "digit"].astype(np.int64), minlength=10)[:10]


def profile(frame: pd.DataFrame) -> dict[str, float]:
    """A window's profile: records, requests, refused rate (and per reason), mean confidence, latency
    p50 and p99 per request, the share of each predicted digit and of each input kind."""
    refused = frame["refused"].dropna()
    latency = frame.drop_duplicates("request_id")["latency_ms"].to_numpy()
    found = {"records": len(frame), "requests": frame["request_id"].nunique(),
             "refused_rate": len(refused) / max(len(frame), 1),
             "mean_confidence": float(frame["confidence"].mean()) if frame["confidence"].notna().any() else np.nan,
             "latency_p50_ms": float(np.percentile(latency, 50)) if len(latency) else np.nan,
             "latency_p99_ms": float(np.percentile(latency, 99)) if len(latency) else np.nan}  # fmt: skip
    for reason, count in refused.map(reason_name).value_counts().items():
        found[f"refused_{reason}_rate"] = count / len(frame)
    counts = digit_counts(frame)
    found |= {f"digit_{digit}_share": count / max(counts.sum(), 1) for digit, count in enumerate(counts)}
    kinds = frame["input_kind"].value_counts()
    return found | {f"{kind}_share": kinds.get(kind, 0) / max(len(frame), 1) for kind in KINDS}


def digit_drift(current: pd.DataFrame, previous: pd.DataFrame, min_records: int) -> dict[str, float] | None:
    """How the predicted digits' mix of two windows differs: the chi-square statistic and p-value of their
    counts (digits neither window answered left out) and the distance of their shares (total variation:
    half the sum of the differences); None when either has fewer than min_records answered digits."""
    counts = np.stack([digit_counts(current), digit_counts(previous)])
    if counts.sum(axis=1).min() < min_records:
        return None
    result = chi2_contingency(counts[:, counts.sum(axis=0) > 0])
    shares = counts / counts.sum(axis=1, keepdims=True)
    distance = float(np.abs(shares[0] - shares[1]).sum() / 2)
    return {"chi2": float(result.statistic), "p_value": float(result.pvalue), "distance": distance}


def profile_table(windows: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Each window's profile, of every version together and of each version, one row each."""
    rows = []
    for window, frame in windows.items():
        groups = [(ALL, frame), *frame.groupby("model_version")] if len(frame) else []
        rows += [{"window": window, "model_version": version, **profile(part)} for version, part in groups]
    return pd.DataFrame(rows)


def digit_mix_figure(windows: dict[str, pd.DataFrame], title: str) -> Figure:
    """The share of each predicted digit in each window, side by side."""
    rows = []
    for window, frame in windows.items():
        counts = digit_counts(frame)
        rows += [{"window": window, "digit": digit, "share": count / max(counts.sum(), 1)}
                 for digit, count in enumerate(counts)]  # fmt: skip
    figure = new_figure(8, 4)
    axes = figure.subplots()
    sns.barplot(pd.DataFrame(rows), x="digit", y="share", hue="window", ax=axes)
    axes.set(title=title, ylabel="share of the answered digits")
    return figure
