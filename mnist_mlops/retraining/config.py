"""The config of `mnist-mlops retrain`, light enough for the command line's start."""

from dataclasses import dataclass

from mnist_mlops import models
from mnist_mlops.config import JobConfig, TrainConfig
from mnist_mlops.config_fields import option


@dataclass(frozen=True)
class RetrainConfig(JobConfig):
    """Everything a `mnist-mlops retrain` invocation depends on; logged whole as run params."""

    arch: str = option("cnn", "Network architecture of the challenger.", choices=lambda: models.names("keras"))
    epochs: int | None = option(None, "Most passes over the data (0: the architecture's recipe).", low=1)
    members: int = option(1, "Networks to train, the i-th with seed + i; several are averaged as one model.", low=1)
    copies: int = option(
        10, "Times each correction's digits are among the training images (its weight): as read, then each "
        "copy moved by a random rotation, zoom and shift.", low=1
    )  # fmt: skip
    held_out: float = option(
        0.2, "Share of the corrections, the most recent, kept out of training to judge the challenger and the "
        "champion on.", low=0, high=1, open_low=True, open_high=True
    )  # fmt: skip
    min_held_out: int = option(10, "Fewest held-out corrections the decision may rest on.", low=1)
    system_metrics: bool = option(
        True, "Log the machine's CPU, memory and disk use as system/* metrics of the run (MLflow's monitor).", flag=True
    )
    quiet: bool = option(False, "No progress bars.", flag=True)

    def train_config(self) -> TrainConfig:
        """The training it runs: train's, registered, with the architecture's recipe for what is not set here."""
        shared = ("arch", "epochs", "members", "seed", "experiment", "data_dir", "limit", "val_fraction")
        chosen = {name: getattr(self, name) for name in (*shared, "system_metrics", "quiet")}
        return TrainConfig(**chosen, register=True)
