"""A Keras network behind the Classifier interface: a tf.data pipeline, optimizer, learning-rate
schedule, label smoothing, early stopping and a stop at a target validation accuracy."""

import math
import os
import sys
from collections.abc import Callable
from dataclasses import asdict

import keras
import numpy as np
import tensorflow as tf

from mnist_mlops.data import Split
from mnist_mlops.models.batches import batches
from mnist_mlops.models.family import Epochs
from mnist_mlops.models.precision import in_float32
from mnist_mlops.models.recipe import Recipe


def learning_rate(rate: float, schedule: str, total_steps: int):
    """A constant rate; cosine decay to zero; or one cycle: a linear rise from rate/25 to rate over
    the first 25% of the steps, then a cosine fall to rate/10,000."""
    if schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(rate, decay_steps=total_steps)
    if schedule == "onecycle":
        warmup = max(1, total_steps // 4)
        return keras.optimizers.schedules.CosineDecay(
            rate / 25, decay_steps=max(1, total_steps - warmup), alpha=1e-4, warmup_target=rate, warmup_steps=warmup
        )
    return rate


def make_optimizer(name: str, rate, weight_decay: float, ema: float) -> keras.optimizers.Optimizer:
    """Return Adam, AdamW (decoupled weight decay) or SGD with Nesterov momentum 0.9; keeping a
    moving average of the weights with momentum ema, if above 0."""
    averaging = {"use_ema": True, "ema_momentum": ema} if ema else {}
    if name == "adam":
        return keras.optimizers.Adam(rate, **averaging)
    if name == "adamw":
        return keras.optimizers.AdamW(rate, weight_decay=weight_decay, **averaging)
    return keras.optimizers.SGD(rate, momentum=0.9, nesterov=True, **averaging)


class StopAtTarget(keras.callbacks.Callback):
    """End training after the first epoch whose validation accuracy reaches the target."""

    def __init__(self, target: float):
        super().__init__()
        self.target = target

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if (logs or {}).get("val_accuracy", 0.0) >= self.target:
            self.model.stop_training = True


def forward_flops(network) -> float:
    """Floating-point operations of one image's forward pass through the convolutions and dense
    layers (a multiply-add counts two); the rest (normalisation, pooling, activations) is small."""
    total = 0
    for layer in network._flatten_layers(include_self=False, recursive=True):
        kernel = getattr(layer, "kernel", None)
        if kernel is None or type(layer).__name__ not in ("Conv2D", "Dense"):
            continue
        positions = math.prod(layer.output.shape[1:-1])  # output pixels of a convolution; 1 for Dense
        total += 2 * math.prod(kernel.shape) * positions
    return float(total)


def progress_style() -> int:
    """Keras' progress: a live bar on a terminal, one line per epoch into a log file or pipe."""
    return 1 if sys.stdout.isatty() else 2


class NetworkClassifier:
    """An uncompiled network and its recipe; fit() compiles and trains it, watching val."""

    flavor = "keras"

    def __init__(self, network: keras.Model, recipe: Recipe, seed: int):
        self.estimator, self.recipe, self.seed = network, recipe, seed

    def compile(self, n_train: int) -> None:
        """Compile with the recipe's optimizer, schedule and loss, tracking accuracy."""
        recipe = self.recipe
        rate = learning_rate(
            recipe.learning_rate, recipe.schedule, recipe.epochs * math.ceil(n_train / recipe.batch_size)
        )
        loss = (
            keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing)
            if recipe.label_smoothing
            else keras.losses.SparseCategoricalCrossentropy()
        )
        self.estimator.compile(
            optimizer=make_optimizer(recipe.optimizer, rate, recipe.weight_decay, recipe.ema),
            loss=loss,
            metrics=["accuracy"],
        )

    def callbacks(self, on_epoch_end: Callable[[int, dict], bool | None]) -> tuple[list, keras.callbacks.EarlyStopping]:
        """Early stopping on val_loss (the best weights kept), the epoch reporter, and the recipe's
        others. With a moving average of the weights, it is what validation scores and what the
        epoch's callbacks (and so early stopping) see and keep."""
        recipe, network = self.recipe, self.estimator
        stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=recipe.patience, restore_best_weights=True)
        averaged = [keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if recipe.ema else []

        def report_epoch(epoch: int, logs: dict) -> None:
            rate = float(keras.ops.convert_to_numpy(network.optimizer.learning_rate))  # the schedule's current value
            if on_epoch_end(epoch, {**logs, "learning_rate": rate}):
                network.stop_training = True  # asked to stop: a pruned search trial

        found = [*averaged, stopper, keras.callbacks.LambdaCallback(on_epoch_end=report_epoch)]
        if recipe.schedule == "plateau":
            found.append(keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2))
        if recipe.target_accuracy:
            found.append(StopAtTarget(recipe.target_accuracy))
        return found, stopper

    def fit(self, train: Split, val: Split, on_epoch_end: Callable[[int, dict], bool | None]) -> Epochs:
        """Train on batches of train, validate on val after every epoch; on_epoch_end(epoch, logs)
        sees each epoch's metrics and learning rate, and ends the training if it returns True."""
        recipe, smoothing = self.recipe, bool(self.recipe.label_smoothing)
        self.compile(len(train))
        callbacks, stopper = self.callbacks(on_epoch_end)
        history = self.estimator.fit(
            batches(train.x, train.y, recipe.batch_size, self.seed, True, recipe.augment, smoothing),
            validation_data=batches(val.x, val.y, 1024, self.seed, False, False, smoothing),
            epochs=recipe.epochs,
            callbacks=callbacks,
            shuffle=False,  # the pipeline shuffles
            verbose=0 if recipe.quiet else progress_style(),
        )
        self.estimator = in_float32(self.estimator)  # trained in bfloat16 or not, it predicts in float32
        return Epochs(history.history, best=stopper.best_epoch + 1)  # Keras 3 restores the best weights at the end

    def params(self) -> dict:
        """The recipe it trains with (its shape params are the config's)."""
        return asdict(self.recipe)

    def size(self) -> dict[str, float]:
        """The network's parameter count and the forward MFLOPs of one image."""
        return {"parameters": float(self.estimator.count_params()), "mflops": forward_flops(self.estimator) / 1e6}

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Return the (n, 10) softmax outputs as float64 rows that sum to 1."""
        return network_probabilities(self.estimator, x)


def network_probabilities(network: keras.Model, x: np.ndarray) -> np.ndarray:
    """A network's (n, 10) softmax outputs as float64 rows that sum to 1."""
    proba = network.predict(x, batch_size=1024, verbose=0).astype(np.float64)
    return proba / proba.sum(axis=1, keepdims=True)  # float32 softmax rows miss 1 by ~1e-7


def use_every_core() -> None:
    """Run each operation on all of this process's cores, one operation at a time: on 2 cores this
    trains small networks up to 1.6x faster than TensorFlow's default of concurrent operations
    competing for them. A limit set in the environment (a Spark task's cores) is kept; TensorFlow
    takes the setting only before its first operation."""
    if "TF_NUM_INTRAOP_THREADS" in os.environ:
        return
    try:
        tf.config.threading.set_intra_op_parallelism_threads(len(os.sched_getaffinity(0)))
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # TensorFlow has started already: its threads are set for this process
        pass


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and the backend so a run can be repeated."""
    keras.utils.set_random_seed(seed)
