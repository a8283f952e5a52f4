"""The config of `mnist-mlops monitor`, light enough for the command line's start."""

from dataclasses import dataclass
from datetime import UTC, datetime

from mnist_mlops.config_fields import check_fields, option
from mnist_mlops.errors import MnistMlopsError


@dataclass(frozen=True)
class MonitorConfig:
    """Everything `mnist-mlops monitor` depends on; logged whole as its run's params."""

    log: str | None = option(
        None, "The inference log's folder [default: $MNIST_MLOPS_INFERENCE_LOG].", envvar="MNIST_MLOPS_INFERENCE_LOG"
    )
    hours: float = option(24.0, "Length of the window profiled, and of the previous one it is compared with.", low=0,
                          open_low=True)  # fmt: skip
    end: str | None = option(None, "End of the window, an ISO time (UTC unless it says) [default: now].")
    max_refused_rate: float = option(0.2, "Alert when more of the window's records than this were refused.", low=0,
                                     high=1)  # fmt: skip
    drift_p_value: float = option(
        0.001, "Alert on drift when a measure of the window (the predicted digits' mix, the confidence, the "
        "images' ink, stroke or size) differs from the previous window's or the version's baseline at this "
        "p-value or below, and by at least its distance (0.001: one false alert in about 1,000 tests of an "
        "unchanged stream).", low=0, high=1, open_low=True, open_high=True
    )  # fmt: skip
    drift_distance: float = option(
        0.05, "The least difference of two digit mixes that is drift (total variation distance: half the sum of "
        "the digits' share differences), so that a large window's tiny shifts raise no alert.", low=0, high=1
    )  # fmt: skip
    drift_ks_distance: float = option(
        0.1, "The least difference of two samples of the confidence or of an image measure that is drift (the "
        "Kolmogorov-Smirnov statistic: the largest difference of their cumulative shares).", low=0, high=1
    )  # fmt: skip
    baseline_alerts: bool = option(
        True, "Alert on drift from a version's baseline (its answers on MNIST validation images) too; "
        "--no-baseline-alerts: report it only, for a stream that is not MNIST-like by nature.", flag=True
    )  # fmt: skip
    min_records: int = option(100, "Values each sample needs before two are compared (answered digits, "
                              "confidences, images).", low=1)  # fmt: skip
    min_live_accuracy: float = option(
        0.9, "Alert when a version's live accuracy (its share of labelled records answered as the label says) "
        "is below this. Labels that only correct wrong answers make it 0: label a sample.", low=0, high=1
    )  # fmt: skip
    min_labelled: int = option(20, "Labelled records a version needs in the window before its live accuracy "
                               "can raise an alert.", low=1)  # fmt: skip
    experiment: str = option("mnist-monitoring", "MLflow experiment to record the monitoring run in.")

    def __post_init__(self):
        check_fields(self)
        if not self.log:
            raise MnistMlopsError("--log or $MNIST_MLOPS_INFERENCE_LOG: name the inference log's folder")
        self.end_time()  # a bad --end fails here, before anything is read

    def end_time(self) -> datetime:
        """The window's end, in UTC."""
        if self.end is None:
            return datetime.now(UTC)
        try:
            end = datetime.fromisoformat(self.end)
        except ValueError as error:
            raise MnistMlopsError(f"--end {self.end!r}: not an ISO time such as 2026-12-07T14:00") from error
        return end.replace(tzinfo=UTC) if end.tzinfo is None else end.astimezone(UTC)
