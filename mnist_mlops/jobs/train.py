"""The train job: fit a Keras MLP or CNN on MNIST, evaluate it and track it as one MLflow run."""

from dataclasses import asdict, dataclass

import keras

from mnist_mlops import tracking
from mnist_mlops.config import TrainConfig
from mnist_mlops.data import load_mnist
from mnist_mlops.evaluate.report import network_report
from mnist_mlops.models.networks import build_cnn, build_mlp
from mnist_mlops.train import keras as train


def build_network(config: TrainConfig):
    """Return the uncompiled network the config describes."""
    if config.arch == "mlp":
        return build_mlp(
            config.hidden, config.activation, config.dropout, config.batch_norm, config.augment, config.seed
        )
    return build_cnn(
        config.filters,
        config.kernel_size,
        config.pool,
        config.dense,
        config.activation,
        config.dropout,
        config.batch_norm,
        config.augment,
        config.seed,
    )


@dataclass
class TrainResult:
    """What a training run produced."""

    run_id: str
    model_uri: str  # the logged model, loadable with mlflow.pyfunc.load_model
    metrics: dict[str, float]
    model: keras.Model  # the trained network, in this process


def run_training(config: TrainConfig) -> TrainResult:
    """Train one network as one run: per-epoch curves, final metrics, figures and the model."""
    data = load_mnist(config.data_dir, config.val_fraction, config.limit, config.seed)
    tracking.use_tracking(config.experiment)
    train.seed_everything(config.seed)
    model = build_network(config)
    total_steps = config.epochs * train.steps_per_epoch(len(data.train), config.batch_size)
    train.compile_model(
        model, config.optimizer, config.learning_rate, config.schedule, config.weight_decay, total_steps
    )
    with tracking.run(config.arch, {"model_family": config.arch, "model_kind": "keras"}) as run_id:
        tracking.log_params(asdict(config))
        tracking.log_datasets(data)
        history, stopper, fit_seconds = train.fit(
            model,
            data,
            config.batch_size,
            config.epochs,
            config.patience,
            config.schedule,
            on_epoch_end=tracking.log_epoch,
            verbose=0 if config.quiet else "auto",
        )
        epochs_run, kept = len(history.epoch), train.best_epoch(stopper)
        probabilities, timings = {}, {"fit_seconds": fit_seconds}
        for split in data.splits():
            proba, seconds = train.predict_proba(model, split)
            probabilities[split.name] = (split.y, proba)
            timings[f"{split.name}_predict_seconds"] = seconds
        report = network_report(probabilities, data.test.x, history.history, kept, config.arch, config.seed)
        report.metrics.update(timings, epochs_run=epochs_run, best_epoch=kept)
        # Like MLflow's Keras autologging: the kept model's figures are the step after the last epoch.
        tracking.log_report(report, step=epochs_run + 1)
        model_uri = tracking.log_keras_model(model, data.val.x[:5])
    return TrainResult(run_id, model_uri, report.metrics, model)
