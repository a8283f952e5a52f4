"""The monitor job: a window of the inference log profiled, compared with the window before it and with
each version's baseline, and its labelled records scored, as one run of the experiment mnist-monitoring;
and the alerts its rules raise."""

import math
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

import pandas as pd

from mnist_mlops import registry, tracking
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.monitoring.accuracy import accuracy_metrics, live_accuracy
from mnist_mlops.monitoring.baseline import BASELINE
from mnist_mlops.monitoring.config import MonitorConfig
from mnist_mlops.monitoring.drift import PREVIOUS, baseline_of, drift_figure, drift_metrics, drift_rows
from mnist_mlops.monitoring.profile import ALL, digit_mix_figure, profile, profile_table, read_window
from mnist_mlops.tracking.feedback import request_labels

PREVIOUS_METRICS = ("records", "refused_rate", "mean_confidence")  # of the previous window, beside the current's
WHAT = {"digit": "the predicted digits' mix", "confidence": "the confidence", "ink": "the images' ink mass",
        "stroke": "the images' stroke width", "size": "the images' size in frame"}  # fmt: skip


@dataclass(frozen=True)
class Monitored:
    """What the monitoring run found."""

    run_id: str
    window: str  # its start and end, as printed
    metrics: dict[str, float]  # window_{name}, previous_{name}, drift_{measure}_{statistic}, drift_baseline_...
    drift: pd.DataFrame  # every drift test, one row each (drift.json)
    accuracy: pd.DataFrame  # live accuracy per version and of all (live_accuracy.json)
    notes: list[str]  # what could not be compared, each in one line
    alerts: list[str]  # the rules that fired, each in one line


def drift_alerts(table: pd.DataFrame, config: MonitorConfig) -> list[str]:
    """The drift tests that are drift: p-value at or below --drift-p-value and distance at least the measure's."""
    fired = []
    for row in table.itertuples():
        limit = config.drift_distance if row.measure == "digit" else config.drift_ks_distance
        baseline = row.against != PREVIOUS
        if row.p_value <= config.drift_p_value and row.distance >= limit and (config.baseline_alerts or not baseline):
            reference = f"version {row.model_version}'s baseline" if baseline else "the previous window's"
            fired.append(f"{WHAT[row.measure]} drifted from {reference}: {row.test} p = {row.p_value:.3g} <= "
                         f"{config.drift_p_value}, distance {row.distance:.3f} >= {limit}")  # fmt: skip
    return fired


def alerts_of(metrics: dict[str, float], drift: pd.DataFrame, accuracy: pd.DataFrame, config: MonitorConfig
              ) -> list[str]:  # fmt: skip
    """The alert rules that fire on a window's metrics, drift tests and live accuracy."""
    fired = []
    if metrics["window_refused_rate"] > config.max_refused_rate:
        fired.append(f"refused_rate {metrics['window_refused_rate']:.3f} is above {config.max_refused_rate}")
    fired += drift_alerts(drift, config)
    for row in accuracy[accuracy["model_version"] != ALL].itertuples():
        if row.labelled >= config.min_labelled and row.live_accuracy < config.min_live_accuracy:
            fired.append(f"version {row.model_version}'s live accuracy {row.live_accuracy:.3f} on {row.labelled} "
                         f"labelled records is below {config.min_live_accuracy}")  # fmt: skip
    return fired


def baselines(versions: list[str]) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Each version's baseline, recorded on its source run when it was registered; and a note for each
    version without one."""
    found, notes, registered = {}, [], set(registry.version_numbers())
    for version in versions:
        table = None
        if version in registered:
            table = tracking.load_table(registry.source_run(registry.resolve(version)), BASELINE)
        if table is None:
            why = "registered before baselines were recorded" if version in registered else "not in this registry"
            notes.append(f"version {version} has no baseline ({why}): compared with the previous window only")
        else:
            found[version] = table
    return found, notes


def run_monitor(config: MonitorConfig) -> Monitored:
    """Profile the window ending at --end against the one before it and the baselines of its versions, as
    one run; refuse an absent or empty window before opening one."""
    assert config.log  # MonitorConfig requires it
    folder, end = Path(config.log), config.end_time()
    start, length = end - timedelta(hours=config.hours), timedelta(hours=config.hours)
    window = f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"
    if not folder.is_dir():
        raise MnistMlopsError(f"--log {folder}: no inference log there (no such folder)")
    current = read_window(folder, start, end)
    if current.empty:
        raise MnistMlopsError(f"no records in {folder} from {window}")
    previous = read_window(folder, start - length, start)
    tracking.use_tracking_uri()
    versions = sorted((v for v in set(current["model_version"]) if v.isdigit()), key=int)  # registered ones
    references, notes = baselines(versions)
    metrics = {f"window_{name}": value for name, value in profile(current).items()}
    if len(previous):
        metrics |= {f"previous_{name}": value for name, value in profile(previous).items() if name in PREVIOUS_METRICS}
    rows = drift_rows(current, previous, PREVIOUS, ALL, config.min_records)
    for version, reference in references.items():
        mine = current[current["model_version"] == version]
        rows += drift_rows(mine, reference, baseline_of(version), version, config.min_records)
    drift, accuracy = pd.DataFrame(rows), live_accuracy(current, request_labels())
    metrics |= drift_metrics(drift) | accuracy_metrics(accuracy)
    fired = alerts_of(metrics, drift, accuracy, config)
    tracking.use_tracking(config.experiment)
    with tracking.run("monitor", {"model_kind": "monitor"}) as run_id:
        tracking.log_params(asdict(config) | {"window_start": start.isoformat(), "window_end": end.isoformat()})
        tracking.log_metrics({name: float(value) for name, value in metrics.items() if not math.isnan(value)})
        windows = {"current": current, "previous": previous}
        tracking.log_table(profile_table(windows), "profile.json")
        tracking.log_table(drift, "drift.json")
        if len(accuracy):
            tracking.log_table(accuracy, "live_accuracy.json")
        samples = windows | {baseline_of(version): table for version, table in references.items()}
        digit_p = metrics.get("drift_digit_p_value")
        drift_text = "too few answers to compare" if digit_p is None else f"chi-square p = {digit_p:.3g}"
        tracking.log_figure(digit_mix_figure(samples, f"{window}: {drift_text}"), "digit_mix.png")
        tracking.log_figure(drift_figure(samples, f"{window}: {len(fired)} alerts"), "drift.png")
        tracking.set_tags({"alerts": "; ".join(fired) or "none"})
    return Monitored(run_id, window, metrics, drift, accuracy, notes, fired)


def summary(found: Monitored, min_records: int) -> list[str]:
    """What `mnist-mlops monitor` prints: the profile, a line per drift reference, notes, live accuracy."""
    metrics = found.metrics
    lines = [f"{found.window}: {metrics['window_records']:.0f} records of {metrics['window_requests']:.0f} requests, "
             f"refused_rate {metrics['window_refused_rate']:.3f}, mean_confidence "
             f"{metrics['window_mean_confidence']:.3f}, latency p50 {metrics['window_latency_p50_ms']:.1f} ms, "
             f"p99 {metrics['window_latency_p99_ms']:.1f} ms"]  # fmt: skip
    for against, tests in found.drift.groupby("against", sort=False):
        done = tests.dropna(subset=["p_value"])
        said = ", ".join(f"{row.measure} p = {row.p_value:.3g} (distance {row.distance:.3f})"
                         for row in done.itertuples())  # fmt: skip
        lines.append(f"against the {against}: {said}" if said else
                     f"no drift test against the {against}: fewer than {min_records} values to compare")  # fmt: skip
    lines += found.notes
    for row in found.accuracy.itertuples():
        whose = "all versions" if row.model_version == ALL else f"version {row.model_version}"
        lines.append(f"live accuracy of {whose}: {row.live_accuracy:.3f} on {row.labelled} labelled records")
    return lines
