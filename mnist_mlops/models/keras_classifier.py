"""A Keras network behind the Classifier interface: optimizer, learning-rate schedule, early stopping."""

import math
from collections.abc import Callable

import keras
import numpy as np

from mnist_mlops.data import Split


def learning_rate(
    rate: float, schedule: str, total_steps: int
) -> float | keras.optimizers.schedules.LearningRateSchedule:
    """Return a constant rate, or cosine decay to zero over the whole training."""
    if schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(rate, decay_steps=total_steps)
    return rate


def make_optimizer(name: str, rate, weight_decay: float) -> keras.optimizers.Optimizer:
    """Return Adam, AdamW (decoupled weight decay) or SGD with Nesterov momentum 0.9."""
    if name == "adam":
        return keras.optimizers.Adam(rate)
    if name == "adamw":
        return keras.optimizers.AdamW(rate, weight_decay=weight_decay)
    return keras.optimizers.SGD(rate, momentum=0.9, nesterov=True)


class NetworkClassifier:
    """An uncompiled network and how to train it; fit() compiles and trains it, watching val."""

    flavor = "keras"

    def __init__(
        self,
        network: keras.Model,
        optimizer: str,  # adam, adamw or sgd
        learning_rate: float,  # initial rate
        weight_decay: float,  # adamw only
        schedule: str,  # constant, cosine or plateau
        batch_size: int,
        epochs: int,  # the most epochs; early stopping may end sooner
        patience: int,  # epochs without a lower val_loss before stopping
        quiet: bool,  # no progress bar
    ):
        self.estimator, self.optimizer, self.rate = network, optimizer, learning_rate
        self.weight_decay, self.schedule, self.batch_size = weight_decay, schedule, batch_size
        self.epochs, self.patience, self.quiet = epochs, patience, quiet
        self.history: dict[str, list[float]] = {}
        self.best_epoch: int | None = None

    def compile(self, n_train: int) -> None:
        """Compile for integer labels and softmax outputs, tracking accuracy."""
        total_steps = self.epochs * math.ceil(n_train / self.batch_size)
        rate = learning_rate(self.rate, self.schedule, total_steps)
        self.estimator.compile(
            optimizer=make_optimizer(self.optimizer, rate, self.weight_decay),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )

    def fit(self, train: Split, val: Split, on_epoch_end: Callable[[int, dict], None]) -> "NetworkClassifier":
        """Train on train, watch val; stop after `patience` epochs without a lower val_loss and keep
        the best weights. on_epoch_end(epoch, logs) sees each epoch's metrics and learning rate."""
        self.compile(len(train))
        network = self.estimator
        stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=self.patience, restore_best_weights=True)

        def report_epoch(epoch: int, logs: dict) -> None:
            rate = float(keras.ops.convert_to_numpy(network.optimizer.learning_rate))  # the schedule's current value
            on_epoch_end(epoch, {**logs, "learning_rate": rate})

        callbacks = [stopper, keras.callbacks.LambdaCallback(on_epoch_end=report_epoch)]
        if self.schedule == "plateau":
            callbacks.insert(1, keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2))
        history = network.fit(
            train.x,
            train.y,
            validation_data=(val.x, val.y),
            batch_size=self.batch_size,
            epochs=self.epochs,
            callbacks=callbacks,
            verbose=0 if self.quiet else "auto",
        )
        self.history = history.history
        self.best_epoch = stopper.best_epoch + 1  # 1-based; Keras 3 restores the best weights at the end
        return self

    def predict_proba(self, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """Return the (n, 10) softmax outputs as float64 rows that sum to 1."""
        proba = self.estimator.predict(x, batch_size=batch_size, verbose=0).astype(np.float64)
        return proba / proba.sum(axis=1, keepdims=True)  # float32 softmax rows miss 1 by ~1e-7


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and the backend so a run can be repeated."""
    keras.utils.set_random_seed(seed)
