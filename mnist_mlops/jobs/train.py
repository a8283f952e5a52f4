"""The train job: fit a Keras network on MNIST, evaluate it and track it as one MLflow run; with
--register, offer it to the registry, whose promotion rule decides whether it becomes champion."""

from dataclasses import asdict, dataclass

import pandas as pd

from mnist_mlops import models, tracking
from mnist_mlops.config import TrainConfig
from mnist_mlops.data import Mnist, load_mnist
from mnist_mlops.evaluate.metrics import split_metrics
from mnist_mlops.evaluate.report import uncalibrated_metrics
from mnist_mlops.jobs.record import record
from mnist_mlops.models import arithmetic
from mnist_mlops.registry import Promotion
from mnist_mlops.train.fitting import Fitted, averaged, calibrate, fit


@dataclass
class TrainResult:
    """What a training run produced."""

    run_id: str
    model_uri: str  # the logged model, loadable with mlflow.pyfunc.load_model
    metrics: dict[str, float]
    model: object  # the trained Keras network, in this process (with --calibrate, its temperature inside)
    promotion: Promotion | None  # what the registry decided, with --register


def run_training(config: TrainConfig) -> TrainResult:
    """Train one network as one run: per-epoch curves, final metrics, figures and the model."""
    data = load_mnist(config.data_dir, config.val_fraction, config.limit, config.seed)
    family = models.family(config.arch)
    tracking.use_tracking(config.experiment)
    tags = {"model_family": config.arch, "model_kind": family.kind}
    with tracking.run(config.arch, tags, system_metrics=config.system_metrics) as run_id:
        params = family.hyperparameters(config)  # the config, with the architecture's recipe where it is unset
        tracking.log_params({**asdict(config), **params})
        tracking.log_precision(arithmetic.chosen(family.asked(config)))  # auto: measured once per CPU model
        tracking.log_datasets(data)
        fitted, leaderboard = fit_members(config, family, params, data)
        if config.calibrate:
            tracking.log_metrics(uncalibrated_metrics(fitted, data))
            fitted = calibrate(fitted, data)
            tracking.log_metrics({"temperature": fitted.classifier.params()["temperature"]})
        # Like MLflow's Keras autologging: the kept model's figures are the step after the last epoch.
        step = fitted.epochs.run + 1
        name = models.model_name(config.arch, members=config.members, calibrated=config.calibrate)
        recorded = record(fitted, data, config.arch, name, config.arch, config.seed, config.register, step)
        if config.members > 1:  # the members and their average, comparable on the train run's row
            average = {"model": name, "val_accuracy": recorded.metrics["val_accuracy"]}
            tracking.log_table(pd.DataFrame([*leaderboard, average]))
    model = fitted.classifier.estimator
    return TrainResult(run_id, recorded.model_uri, recorded.metrics, model, recorded.promotion)


def fit_members(config: TrainConfig, family: models.Family, params: dict, data: Mnist) -> tuple[Fitted, list[dict]]:
    """Fit the network; with --members N, N networks averaged as one model, the i-th with seed + i
    (one seed would give each the same mistakes) on a run of its own nested under this one. Also
    return each member's name and validation accuracy."""
    if config.members == 1:
        return fit(family, params, data, config.seed, on_epoch_end=tracking.log_epoch), []
    members, leaderboard = [], []
    for seed in range(config.seed, config.seed + config.members):
        with tracking.run(f"{config.arch}-seed-{seed}", {"model_family": config.arch, "model_kind": "member"}):
            tracking.log_params({"seed": seed})
            members.append(fit(family, params, data, seed, on_epoch_end=tracking.log_epoch))
            scores = split_metrics("val", data.val.y, members[-1].predict_proba(data.val)[0])
            leaderboard.append({"model": f"{config.arch}-seed-{seed}", "val_accuracy": scores["val_accuracy"]})
    return averaged(members), leaderboard
