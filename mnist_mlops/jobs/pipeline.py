"""The main job: baselines, the default network, a short TPE search, and the champion registered,
all nested under one pipeline run."""

from dataclasses import asdict

import pandas as pd

from mnist_mlops import registry, tracking
from mnist_mlops.config import JOB_FIELDS, BaselineConfig, PipelineConfig, TrainConfig, TuneConfig
from mnist_mlops.jobs.baseline import run_baselines
from mnist_mlops.jobs.train import run_training
from mnist_mlops.jobs.tune import run_search


def run_pipeline(config: PipelineConfig) -> pd.DataFrame:
    """Run every stage and return one row per stage: its validation and test accuracy."""
    shared = {field: getattr(config, field) for field in JOB_FIELDS}
    tracking.use_tracking(config.experiment)
    with tracking.run("pipeline", {"model_kind": "pipeline"}):
        tracking.log_params(asdict(config))
        baselines = run_baselines(BaselineConfig(model="all", **shared))
        network = run_training(TrainConfig(arch=config.arch, epochs=config.epochs, quiet=config.quiet, **shared))
        registered = registry.register_challenger(
            tracking.log_serving_model(network.model_uri),
            config.arch,
            network.metrics["test_accuracy"],
            network.metrics["val_accuracy"],
            network.run_id,
        )
        search = run_search(
            TuneConfig(family=config.tune_family, algo="tpe", max_evals=config.max_evals, quiet=config.quiet, **shared)
        )
        stages = [
            *(
                {
                    "stage": f"baseline {row.model}",
                    "val_accuracy": row.val_accuracy,
                    "test_accuracy": row.test_accuracy,
                    "registered": "",
                }
                for row in baselines.itertuples()
            ),
            {
                "stage": f"{config.arch} (default)",
                "val_accuracy": network.metrics["val_accuracy"],
                "test_accuracy": network.metrics["test_accuracy"],
                "registered": registered.decision,
            },
            {
                "stage": f"tuned {config.tune_family}",
                "val_accuracy": search.metrics["val_accuracy"],
                "test_accuracy": search.metrics["test_accuracy"],
                "registered": search.promotion.decision,
            },
        ]
        summary = pd.DataFrame(stages)
        tracking.log_csv(summary.set_index("stage"), "pipeline.csv")
    return summary
