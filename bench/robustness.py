"""The default CNN trained with and without augmentation (same seed, both calibrated and
registered), then the robustness report on each: accuracy under every corruption through the
serving path, for the augmented one also as raw pixel rows; test ECE before and after temperature
scaling; the report's time. Run with `python -m bench.robustness` (about 12 minutes on 2 cores).
"""

import tempfile
from pathlib import Path

from bench.common import bench_runs, run_measured, write_report
from mnist_mlops import registry
from mnist_mlops.evaluate.corruptions import CORRUPTIONS

SEVERITY = 3


def rounded(row, names: list[str]) -> dict:
    """Metrics of a runs row, rounded."""
    return {name: round(float(row[f"metrics.{name}"]), 4) for name in names}


def trained(workdir: Path) -> dict:
    """Train both networks; return their accuracy and calibration figures by augment setting."""
    found = {}
    for augment in ("true", "false"):
        run_measured(["train", "--augment", augment, "--calibrate", "--register", "--quiet", "--experiment", "bench"],
                     workdir)  # fmt: skip
        row = bench_runs(workdir, f"params.augment = '{augment.title()}'").iloc[0]  # logged as Python writes it
        names = ["val_accuracy", "test_accuracy", "test_uncalibrated_ece", "test_ece", "val_uncalibrated_log_loss",
                 "val_log_loss", "temperature"]  # fmt: skip
        found[f"augment={augment}"] = {"version": row["tags.registered_version"], **rounded(row, names)}
    return found


def robustness(workdir: Path, version: str, input_format: str) -> dict:
    """The robustness report of a registered version: per-corruption accuracy, mean, seconds."""
    arguments = ["robustness", "--model-uri", f"models:/mnist-digits/{version}", "--input-format", input_format]
    process = run_measured([*arguments, "--severity", str(SEVERITY), "--experiment", "bench"], workdir)
    filter_string = f"params.model_uri = 'models:/mnist-digits/{version}' and params.input_format = '{input_format}'"
    row = bench_runs(workdir, filter_string).iloc[0]
    names = ["robust_clean_accuracy", *(f"robust_{name}_accuracy" for name in CORRUPTIONS), "robust_mean_accuracy"]
    return {**rounded(row, names), "report_seconds": round(float(row["metrics.robustness_seconds"]), 1),
            "command_wall_seconds": process["wall_seconds"]}  # fmt: skip


def main() -> None:
    """Train, measure, then write results/robustness.md."""
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        models = trained(workdir)
        for model in models.values():
            model["robustness"] = robustness(workdir, model["version"], "images")
        models["augment=true"]["robustness_as_rows"] = robustness(workdir, models["augment=true"]["version"], "rows")
        champion_version = str(registry.resolve(registry.CHAMPION).version)  # in the store bench_runs opened
    chosen = next(model for model in models.values() if model["version"] == champion_version)
    augmented, plain = models["augment=true"], models["augment=false"]
    goals = [
        ("champion's robust_mean_accuracy (severity 3, as images)", chosen["robustness"]["robust_mean_accuracy"],
         ">=", 0.95),
        ("champion's test ECE after temperature scaling", chosen["test_ece"], "<=", 0.01),
        ("robustness report of the CNN, seconds", augmented["robustness"]["report_seconds"], "<=", 120),
        ("augmentation gain in robust_mean_accuracy", round(augmented["robustness"]["robust_mean_accuracy"]
         - plain["robustness"]["robust_mean_accuracy"], 4), ">=", 0.0),
    ]  # fmt: skip
    figures = {"severity": SEVERITY, "champion_version": champion_version, **models}
    print(write_report("robustness", figures, goals).read_text())


if __name__ == "__main__":
    main()
