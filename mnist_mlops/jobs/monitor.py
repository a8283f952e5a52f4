"""The monitor job: a window of the inference log profiled and compared with the window before it, as
one run of the experiment mnist-monitoring, and the alerts its rules raise."""

import math
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

from mnist_mlops import tracking
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.monitoring.config import MonitorConfig
from mnist_mlops.monitoring.profile import digit_drift, digit_mix_figure, profile, profile_table, read_window

PREVIOUS = ("records", "refused_rate", "mean_confidence")  # of the previous window, logged beside the current's


@dataclass(frozen=True)
class Monitored:
    """What the monitoring run found."""

    run_id: str
    window: str  # its start and end, as printed
    metrics: dict[str, float]  # window_{name}, previous_{name} and drift_digit_{chi2, p_value, distance}
    alerts: list[str]  # the rules that fired, each in one line


def alerts_of(metrics: dict[str, float], config: MonitorConfig) -> list[str]:
    """The alert rules that fire on a window's metrics."""
    fired = []
    if metrics["window_refused_rate"] > config.max_refused_rate:
        fired.append(f"refused_rate {metrics['window_refused_rate']:.3f} is above {config.max_refused_rate}")
    p_value, distance = metrics.get("drift_digit_p_value", 1.0), metrics.get("drift_digit_distance", 0.0)
    if p_value <= config.drift_p_value and distance >= config.drift_distance:
        fired.append(f"the predicted digits' mix drifted from the previous window's: chi-square p = {p_value:.3g} "
                     f"<= {config.drift_p_value}, distance {distance:.3f} >= {config.drift_distance}")  # fmt: skip
    return fired


def run_monitor(config: MonitorConfig) -> Monitored:
    """Profile the window ending at --end against the one before it, as one run; refuse an absent or
    empty window before opening one."""
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
    metrics = {f"window_{name}": value for name, value in profile(current).items()}
    if len(previous):
        metrics |= {f"previous_{name}": value for name, value in profile(previous).items() if name in PREVIOUS}
    if drift := digit_drift(current, previous, config.min_records):
        metrics |= {f"drift_digit_{name}": value for name, value in drift.items()}
    fired = alerts_of(metrics, config)
    tracking.use_tracking(config.experiment)
    with tracking.run("monitor", {"model_kind": "monitor"}) as run_id:
        tracking.log_params(asdict(config) | {"window_start": start.isoformat(), "window_end": end.isoformat()})
        tracking.log_metrics({name: float(value) for name, value in metrics.items() if not math.isnan(value)})
        windows = {"current": current, "previous": previous}
        tracking.log_table(profile_table(windows), "profile.json")
        drift_text = f"chi-square p = {drift['p_value']:.3g}" if drift else "too few answers to compare"
        tracking.log_figure(digit_mix_figure(windows, f"{window}: {drift_text}"), "digit_mix.png")
        tracking.set_tags({"alerts": "; ".join(fired) or "none"})
    return Monitored(run_id, window, metrics, fired)
