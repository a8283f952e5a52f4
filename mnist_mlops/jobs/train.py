"""The train job: fit a Keras MLP or CNN on MNIST, evaluate it and track it as one MLflow run."""

from dataclasses import asdict, dataclass

from mnist_mlops import tracking
from mnist_mlops.config import TrainConfig
from mnist_mlops.data import load_mnist
from mnist_mlops.evaluate.report import network_report
from mnist_mlops.train.candidates import fit_network, score_splits


@dataclass
class TrainResult:
    """What a training run produced."""

    run_id: str
    model_uri: str  # the logged model, loadable with mlflow.pyfunc.load_model
    metrics: dict[str, float]
    model: object  # the trained Keras network, in this process


def run_training(config: TrainConfig) -> TrainResult:
    """Train one network as one run: per-epoch curves, final metrics, figures and the model."""
    data = load_mnist(config.data_dir, config.val_fraction, config.limit, config.seed)
    tracking.use_tracking(config.experiment)
    with tracking.run(config.arch, {"model_family": config.arch, "model_kind": "keras"}) as run_id:
        tracking.log_params(asdict(config))
        tracking.log_datasets(data)
        fitted = fit_network(config, data, on_epoch_end=tracking.log_epoch)
        probabilities, timings = score_splits(fitted, data.splits())
        report = network_report(probabilities, data.test.x, fitted.history, fitted.best_epoch, config.arch, config.seed)
        epochs_run = len(fitted.history["loss"])
        report.metrics.update(timings, epochs_run=epochs_run, best_epoch=fitted.best_epoch)
        # Like MLflow's Keras autologging: the kept model's figures are the step after the last epoch.
        tracking.log_report(report, step=epochs_run + 1)
        model_uri = tracking.log_keras_model(fitted.model, data.val.x[:5])
    return TrainResult(run_id, model_uri, report.metrics, fitted.model)
