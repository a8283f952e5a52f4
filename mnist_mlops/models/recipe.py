"""How a network trains by default. `Recipe` holds the defaults every architecture shares; each
architecture registers its own values over them (models/architectures.py). TrainConfig's training
fields of the same names override them, and the logged params are the values a network trained with.

This module imports nothing heavy, so families register without loading TensorFlow.
"""

from dataclasses import dataclass

from mnist_mlops.models.arithmetic import choose


@dataclass(frozen=True)
class Recipe:
    """A network's training options, as TrainConfig's fields of the same names describe them."""

    optimizer: str = "adam"
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4  # adamw only
    schedule: str = "onecycle"
    batch_size: int = 128
    epochs: int = 10  # the most: early stopping or the target may end sooner
    patience: int = 5
    augment: bool = True
    label_smoothing: float = 0.0
    ema: float = 0.0  # 0: no moving average of the weights
    precision: str = "auto"  # auto: the faster here, measured once; resolved before a run logs it or trains
    target_accuracy: float | None = None  # None: no target
    quiet: bool = False


def resolve(precision: str) -> str:
    """float32 or mixed_bfloat16: auto becomes the faster of them on this CPU (models/arithmetic.py)."""
    if precision == "auto":
        return choose().precision
    return precision


def resolve_params(params: dict) -> dict:
    """A network's hyperparameters as it trains on this machine: precision auto resolved."""
    return {**params, "precision": resolve(params["precision"])}
