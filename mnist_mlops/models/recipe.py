"""How a network trains by default. `Recipe` holds the defaults every architecture shares; each
architecture registers its own values over them (models/architectures.py). TrainConfig's training
fields of the same names override them, and the logged params are the values a network trained with.

This module imports nothing heavy, so families register without loading TensorFlow.
"""

from dataclasses import dataclass
from pathlib import Path


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
    precision: str = "auto"  # resolved (resolve_params) before a run logs it or a network trains
    target_accuracy: float | None = None  # None: no target
    quiet: bool = False


BFLOAT16_FLAGS = {"amx_bf16", "avx512_bf16"}  # /proc/cpuinfo names of the instructions


def cpu_bfloat16(cpuinfo: Path = Path("/proc/cpuinfo")) -> list[str]:
    """The CPU's bfloat16 instructions by their /proc/cpuinfo names (none where it cannot tell)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return []
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return sorted(BFLOAT16_FLAGS & set(flags))


def cpu_has_bfloat16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether the CPU has bfloat16 matrix or vector instructions (False where it cannot tell)."""
    return bool(cpu_bfloat16(cpuinfo))


def resolve(precision: str) -> str:
    """float32 or mixed_bfloat16: auto becomes mixed_bfloat16 where the CPU has bfloat16 instructions."""
    if precision == "auto":
        return "mixed_bfloat16" if cpu_has_bfloat16() else "float32"
    return precision


def resolve_params(params: dict) -> dict:
    """A network's hyperparameters as it trains on this machine: precision auto resolved."""
    return {**params, "precision": resolve(params["precision"])}
