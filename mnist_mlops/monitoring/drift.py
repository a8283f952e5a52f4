"""Drift of a window's answers from a reference (the previous window, or a version's baseline): the
predicted digits' mix by chi-square, and the confidence and what the images look like by a two-sample
Kolmogorov-Smirnov test; one row per measure, and a chart of their distributions."""

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from scipy.stats import ks_2samp

from mnist_mlops.evaluate.plots import new_figure
from mnist_mlops.monitoring.images import FEATURES
from mnist_mlops.monitoring.profile import digit_counts, digit_drift

SAMPLED = ("confidence", *FEATURES)  # the measures compared as samples of numbers
MEASURES = ("digit", *SAMPLED)
TESTS = {"digit": "chi-square"} | dict.fromkeys(SAMPLED, "Kolmogorov-Smirnov")
PREVIOUS = "previous window"  # the reference of every version's answers together
CHART_POINTS = 5000  # the most points a distribution is drawn from
UNITS = {"confidence": "top probability", "ink": "full-ink pixels", "stroke": "width, pixels",
         "size": "box area, pixels"}  # fmt: skip


def baseline_of(version: str) -> str:
    """The reference name of a version's baseline."""
    return f"baseline of version {version}"


def sample_drift(current: np.ndarray, reference: np.ndarray, min_records: int) -> dict[str, float] | None:
    """How two samples of a measure differ: the Kolmogorov-Smirnov statistic (the largest difference of
    their cumulative shares, 0 to 1: also their distance) and p-value; None when either has fewer than
    min_records values (NaN left out)."""
    current, reference = current[~np.isnan(current)], reference[~np.isnan(reference)]
    if min(len(current), len(reference)) < min_records:
        return None
    result = ks_2samp(current, reference)
    return {"statistic": float(result.statistic), "p_value": float(result.pvalue), "distance": float(result.statistic)}


def drift_rows(current: pd.DataFrame, reference: pd.DataFrame, against: str, version: str,
               min_records: int) -> list[dict]:  # fmt: skip
    """One row per measure: the window's values (current) against a reference's, with the test's statistic,
    p-value and distance (NaN when either has too few values), how many values each had and their means."""
    rows = []
    for measure in MEASURES:
        if measure == "digit":
            found = digit_drift(current, reference, min_records)
            found = found and {"statistic": found["chi2"], "p_value": found["p_value"], "distance": found["distance"]}
            sizes, means = (digit_counts(current).sum(), digit_counts(reference).sum()), (np.nan, np.nan)
        else:
            now, then = (frame[measure].to_numpy(np.float64) for frame in (current, reference))
            found = sample_drift(now, then, min_records)
            sizes = (int(np.count_nonzero(~np.isnan(now))), int(np.count_nonzero(~np.isnan(then))))
            means = (float(np.nanmean(now)) if sizes[0] else np.nan, float(np.nanmean(then)) if sizes[1] else np.nan)
        rows.append({"against": against, "model_version": version, "measure": measure, "test": TESTS[measure],
                     "window_values": int(sizes[0]), "reference_values": int(sizes[1]), "window_mean": means[0],
                     "reference_mean": means[1]}
                    | (found or dict.fromkeys(("statistic", "p_value", "distance"), np.nan)))  # fmt: skip
    return rows


def version_name(version: str) -> str:
    """A version as metric names carry it: v3, or unregistered."""
    return f"v{version}" if version.isdigit() else version


def drift_metrics(table: pd.DataFrame) -> dict[str, float]:
    """The drift table's tests as metrics: drift_{measure}_{p_value, distance} against the previous window
    (and drift_digit_chi2), drift_baseline_v{N}_{measure}_... against version N's baseline."""
    metrics: dict[str, float] = {}
    for row in table.dropna(subset=["p_value"]).itertuples():
        prefix = "drift" if row.against == PREVIOUS else f"drift_baseline_{version_name(row.model_version)}"
        metrics |= {f"{prefix}_{row.measure}_p_value": row.p_value, f"{prefix}_{row.measure}_distance": row.distance}
        if row.measure == "digit":
            metrics[f"{prefix}_digit_chi2"] = row.statistic
    return metrics


def drift_figure(samples: dict[str, pd.DataFrame], title: str) -> Figure:
    """The cumulative distribution of the confidence and of each image measure in each sample (the window,
    the previous one, each version's baseline), one panel per measure."""
    rng = np.random.default_rng(0)
    parts = []
    for name, frame in samples.items():
        if len(frame) > CHART_POINTS:
            frame = frame.iloc[np.sort(rng.choice(len(frame), CHART_POINTS, replace=False))]
        parts.append(frame[list(SAMPLED)].assign(sample=name))
    long = pd.concat(parts, ignore_index=True).melt(id_vars="sample", var_name="measure").dropna()
    figure = new_figure(10, 7)
    for axes, measure in zip(figure.subplots(2, 2).flat, SAMPLED, strict=True):
        shown = long[long["measure"] == measure]
        if len(shown):
            sns.ecdfplot(shown, x="value", hue="sample", ax=axes)
            sns.move_legend(axes, "lower right")  # placed, not sought ("best" weighs every point: a second a chart)
        axes.set(title=measure, xlabel=UNITS[measure], ylabel="share at or below")
    figure.suptitle(title)
    return figure
