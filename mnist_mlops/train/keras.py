"""Compiling and fitting Keras networks: optimizers, learning-rate schedules, early stopping."""

import math
import time
from collections.abc import Callable

import keras
import numpy as np

from mnist_mlops.data import Mnist, Split


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


def compile_model(
    model: keras.Model, optimizer: str, rate: float, schedule: str, weight_decay: float, total_steps: int
) -> None:
    """Compile for integer labels and softmax outputs, tracking accuracy."""
    model.compile(
        optimizer=make_optimizer(optimizer, learning_rate(rate, schedule, total_steps), weight_decay),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )


def steps_per_epoch(n_images: int, batch_size: int) -> int:
    """Return the batches in one pass over n_images."""
    return math.ceil(n_images / batch_size)


def fit(
    model: keras.Model,
    data: Mnist,
    batch_size: int,
    epochs: int,
    patience: int,
    schedule: str,
    on_epoch_end: Callable[[int, dict], None],
    verbose: int | str,
) -> tuple[keras.callbacks.History, keras.callbacks.EarlyStopping, float]:
    """Train on train, watch val; stop after `patience` epochs without a lower val_loss and keep the
    best weights. on_epoch_end(epoch, logs) sees each epoch's metrics. Return the history, the
    early-stopping callback and the seconds it took."""
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)

    def report_epoch(epoch: int, logs: dict) -> None:
        rate = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))  # the schedule's current value
        on_epoch_end(epoch, {**logs, "learning_rate": rate})

    callbacks = [stopper, keras.callbacks.LambdaCallback(on_epoch_end=report_epoch)]
    if schedule == "plateau":
        callbacks.insert(1, keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2))
    start = time.perf_counter()
    history = model.fit(
        data.train.x,
        data.train.y,
        validation_data=(data.val.x, data.val.y),
        batch_size=batch_size,
        epochs=epochs,
        callbacks=callbacks,
        verbose=verbose,
    )
    return history, stopper, time.perf_counter() - start


def predict_proba(model: keras.Model, split: Split, batch_size: int = 1024) -> tuple[np.ndarray, float]:
    """Return the (n, 10) softmax outputs on a split and the seconds it took."""
    start = time.perf_counter()
    proba = model.predict(split.x, batch_size=batch_size, verbose=0).astype(np.float64)
    seconds = time.perf_counter() - start
    return proba / proba.sum(axis=1, keepdims=True), seconds  # float32 softmax rows miss 1 by ~1e-7


def best_epoch(stopper: keras.callbacks.EarlyStopping) -> int:
    """Return the 1-based epoch whose weights the model holds: Keras 3 restores the best at the end."""
    return stopper.best_epoch + 1


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and the backend so a run can be repeated."""
    keras.utils.set_random_seed(seed)
