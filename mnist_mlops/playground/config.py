"""The config of `mnist-mlops playground`, light enough for the command line's start."""

from dataclasses import dataclass

from mnist_mlops.config_fields import check_fields, option

PASSWORD_VARIABLE = "MNIST_MLOPS_PLAYGROUND_PASSWORD"


@dataclass(frozen=True)
class PlaygroundConfig:
    """Everything `mnist-mlops playground` depends on."""

    model_uri: str = option(
        "models:/mnist-digits@champion",
        "The model on the left, loaded in the page's process (models:/ or runs:/ URI); the right one is "
        "@challenger. Every registered version and alias can be picked in the page.",
    )
    model_url: str | None = option(
        None, "A running model server's /invocations URL to ask on the left instead (`mlflow models serve`)."
    )
    host: str = option("127.0.0.1", "Address to bind; beyond loopback it needs a password or --insecure.")
    port: int = option(7860, "Port to listen on.", low=1, high=65535)
    user: str = option("mnist", "The user name the password goes with.")
    password_file: str | None = option(
        None, f"A file holding the page's password, which it then asks for [default: ${PASSWORD_VARIABLE}]."
    )
    insecure: bool = option(False, "Serve beyond loopback without a password.", flag=True)

    def __post_init__(self):
        check_fields(self)
