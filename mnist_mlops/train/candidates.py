"""Fitting any model family the same way, and scoring it on every split, timed."""

from dataclasses import dataclass, replace

import numpy as np

from mnist_mlops.config import TrainConfig
from mnist_mlops.data import Mnist, Split
from mnist_mlops.models.baselines import build_baseline
from mnist_mlops.train import sklearn as sklearn_train


@dataclass
class Fitted:
    """A fitted model and what its training recorded."""

    model: object  # a scikit-learn Pipeline or a Keras network
    fit_seconds: float
    history: dict[str, list[float]] | None = None  # networks: Keras' per-epoch metrics
    best_epoch: int | None = None  # networks: the 1-based epoch whose weights were kept

    def predict_proba(self, split: Split) -> tuple[np.ndarray, float]:
        """Return the (n, 10) class probabilities on a split and the seconds it took."""
        if self.history is None:
            return sklearn_train.predict_proba(self.model, split)
        from mnist_mlops.train import keras as keras_train

        return keras_train.predict_proba(self.model, split)


def fit_sklearn(family: str, params: dict, data: Mnist, seed: int) -> Fitted:
    """Fit the family's pipeline with params (set_params names) on the training split."""
    model = build_baseline(family, params, seed)
    return Fitted(model, sklearn_train.fit(model, data.train))


def prepare_network(config: TrainConfig, data: Mnist):
    """Seed, build and compile the network a config describes (imports TensorFlow on first use)."""
    from mnist_mlops.models.networks import build_network
    from mnist_mlops.train import keras as keras_train

    keras_train.seed_everything(config.seed)
    model = build_network(config)
    total_steps = config.epochs * keras_train.steps_per_epoch(len(data.train), config.batch_size)
    keras_train.compile_model(
        model, config.optimizer, config.learning_rate, config.schedule, config.weight_decay, total_steps
    )
    return model


def train_network(model, config: TrainConfig, data: Mnist, on_epoch_end) -> Fitted:
    """Train a prepared network as the config says; on_epoch_end(epoch, logs) sees every epoch."""
    from mnist_mlops.train import keras as keras_train

    history, stopper, seconds = keras_train.fit(
        model,
        data,
        config.batch_size,
        config.epochs,
        config.patience,
        config.schedule,
        on_epoch_end=on_epoch_end,
        verbose=0 if config.quiet else "auto",
    )
    return Fitted(model, seconds, history.history, keras_train.best_epoch(stopper))


def fit_network(config: TrainConfig, data: Mnist, on_epoch_end) -> Fitted:
    """Prepare and train the network a config describes."""
    return train_network(prepare_network(config, data), config, data, on_epoch_end)


def network_config(base: TrainConfig, params: dict) -> TrainConfig:
    """Return base with a trial's params applied (lists become tuples, as the config holds them)."""
    return replace(base, **{key: tuple(v) if isinstance(v, list) else v for key, v in params.items()})


def score_splits(fitted: Fitted, splits: tuple[Split, ...]) -> tuple[dict, dict[str, float]]:
    """Return {split: (labels, probabilities)} and {split}_predict_seconds for each split."""
    probabilities, timings = {}, {"fit_seconds": fitted.fit_seconds}
    for split in splits:
        proba, seconds = fitted.predict_proba(split)
        probabilities[split.name] = (split.y, proba)
        timings[f"{split.name}_predict_seconds"] = seconds
    return probabilities, timings
