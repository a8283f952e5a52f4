"""The main job: baselines, the default network, a short TPE search, the champion registered and
measured under corruption and on photographed paper, all nested under one pipeline run."""

from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from mnist_mlops import registry, tracking
from mnist_mlops.config import (
    JOB_FIELDS,
    RUN_CONFIG_FIELDS,
    BaselineConfig,
    PipelineConfig,
    RobustnessConfig,
    TrainConfig,
    TuneConfig,
)
from mnist_mlops.evaluate.paper import PAPERS
from mnist_mlops.jobs.baseline import run_baselines
from mnist_mlops.jobs.robustness import MEANS, run_robustness
from mnist_mlops.jobs.train import run_training
from mnist_mlops.jobs.tune import run_search


def stage(name: str, metrics: dict, registered: str = "") -> dict:
    """One row of the summary: a stage's validation and test accuracy and what the registry decided."""
    return {"stage": name, "val_accuracy": metrics["val_accuracy"], "test_accuracy": metrics["test_accuracy"],
            "registered": registered}  # fmt: skip


def network_label(config: PipelineConfig) -> str:
    """The network stage's name in the summary: cnn, or cnn x3 for three averaged."""
    return config.arch if config.members == 1 else f"{config.arch} x{config.members}"


@dataclass
class PipelineResult:
    """What the main job found."""

    summary: pd.DataFrame  # one row per stage: validation and test accuracy, what the registry decided
    robust_mean_accuracy: float  # the champion's, under the 13 corruptions at severity 3
    robust_paper_mean_accuracy: float  # the champion's, on the 9 kinds of photographed paper other than plain


def run_pipeline(config: PipelineConfig) -> PipelineResult:
    """Run every stage; the champion's robustness report scores as many test images as the job
    trains on with --limit (its paper suite spreads them over the kinds of paper), all of them otherwise."""
    shared = {field: getattr(config, field) for field in JOB_FIELDS}
    tracking.use_tracking(config.experiment)
    with tracking.run("pipeline", {"model_kind": "pipeline"}):
        tracking.log_params(asdict(config))
        baselines = run_baselines(BaselineConfig(model="all", **shared))
        shared |= {"quiet": config.quiet, "system_metrics": config.system_metrics}
        network = run_training(
            TrainConfig(arch=config.arch, epochs=config.epochs, members=config.members, register=True, **shared)
        )
        assert network.promotion is not None  # registered
        search = run_search(TuneConfig(family=config.tune_family, algo="tpe", max_evals=config.max_evals, **shared))
        summary = pd.DataFrame(
            [
                *(stage(f"baseline {row['model']}", row) for row in baselines.to_dict("records")),
                stage(f"{network_label(config)} (default)", network.metrics, network.promotion.decision),
                stage(f"tuned {config.tune_family}", search.metrics, search.promotion.decision),
            ]
        )
        tracking.log_csv(summary.set_index("stage"), "pipeline.csv")
        run_fields = {key: shared[key] for key in RUN_CONFIG_FIELDS}
        photos: dict[str, Any] = {"paper_images": max(1, config.limit // len(PAPERS))} if config.limit else {}
        robustness = run_robustness(RobustnessConfig(limit=config.limit, **photos, **run_fields))
        metrics = robustness.metrics
        means = {name: metrics[name] for name in MEANS}
        tracking.log_metrics({**registry.champion_metrics(), **means, "search_trials": float(len(search.history))})
        tracking.log_table(summary)
    return PipelineResult(summary, metrics["robust_mean_accuracy"], metrics["robust_paper_mean_accuracy"])
