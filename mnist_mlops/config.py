"""One config object per job, every field described once: its help, and the choices or range it
must keep. Configs check themselves on construction, so a notebook gets the same one-line errors
as the command line, whose options are made from these fields (options.py). Runs log them whole.

This module imports nothing heavy, so `mnist-mlops --help` starts fast.
"""

import ipaddress
from collections import Counter
from dataclasses import asdict, dataclass, fields
from types import SimpleNamespace
from typing import Any

from mnist_mlops import models
from mnist_mlops.config_fields import check_fields, option
from mnist_mlops.errors import MnistMlopsError

ALGORITHMS = ("tpe", "random")
BACKENDS = ("sequential", "spark")
# What every trial logs on the validation split; a search may optimise any of them.
TUNE_METRICS = ("val_accuracy", "val_f1_macro", "val_log_loss")
# What MLflow's basic-auth app lets a user do on an experiment or a registered model.
PERMISSIONS = ("READ", "EDIT", "MANAGE", "NO_PERMISSIONS")


@dataclass(frozen=True)
class RunConfig:
    """The fields of every job that records runs from the MNIST files."""

    seed: int = option(42, "Seeds everything random: the split, the subset, the models, searches, corruptions.")
    experiment: str = option("mnist-mlops", "MLflow experiment to record runs in.", envvar="MLFLOW_EXPERIMENT_NAME")
    data_dir: str | None = option(
        None, "Folder with the four MNIST files [default: $MNIST_DATA_DIR, else the user cache]."
    )

    def __post_init__(self):
        check_fields(self)


@dataclass(frozen=True)
class JobConfig(RunConfig):
    """The data and bookkeeping fields every training job shares."""

    limit: int | None = option(
        None, "Use a stratified subset of N training images for quick runs (0: all 60,000).", low=1
    )
    val_fraction: float = option(
        0.1, "Share of the training images held out for validation.", low=0, high=1, open_low=True, open_high=True
    )


def recipe_values(name: str) -> str:
    """What the registered architectures' recipes set a field to: the value most share, then the
    others' (e.g. '10; fast 2, deep 20'); each one's where only some set it (e.g. 'mlp 0.3, cnn 0.18')."""
    networks = [family for family in models.FAMILIES.values() if family.kind == "keras"]
    values = {family.name: family.recipe[name] for family in networks if name in family.recipe}
    spelled = {
        arch: str(value).lower() if isinstance(value, bool | None) else str(value) for arch, value in values.items()
    }
    if len(values) < len(networks):
        return ", ".join(f"{arch} {value}" for arch, value in spelled.items())
    common = Counter(spelled.values()).most_common(1)[0][0]
    others = ", ".join(f"{arch} {value}" for arch, value in spelled.items() if value != common)
    return f"{common}; {others}" if others else common


def from_recipe(name: str, help: str, **accepts) -> Any:
    """A TrainConfig field unset by default (None; empty or 0 on the command line), which then takes
    the architecture's recipe; its help lists the recipe's values, read from the registered families."""
    return option(None, f"{help} [recipe: {recipe_values(name)}]", **accepts)


RUN_CONFIG_FIELDS = tuple(spec.name for spec in fields(RunConfig))
JOB_FIELDS = tuple(spec.name for spec in fields(JobConfig))


@dataclass(frozen=True)
class BaselineConfig(JobConfig):
    """Everything a `mnist-mlops baseline` invocation depends on; logged as run params."""

    model: str = option(
        "all",
        "Baseline to fit; 'all' fits each as its own run and prints a comparison.",
        choices=lambda: (*models.names("sklearn"), "all"),
    )
    C: float = option(1.0, "logreg: inverse regularisation strength.", low=0, open_low=True)
    max_iter: int = option(
        1000, "logreg: most solver iterations; lbfgs stops once it converges (about 250 on all images).", low=1
    )
    k: int = option(4, "knn: neighbours that vote.", low=1)
    weights: str = option("distance", "knn: how neighbours' votes are weighted.", choices=("uniform", "distance"))
    metric: str = option(
        "euclidean", "knn: distance between PCA-projected images.", choices=("euclidean", "manhattan", "cosine")
    )
    pca_components: int = option(50, "knn: PCA dimensions the neighbour search runs in.", low=1, high=784)
    n_estimators: int = option(200, "rf: trees.", low=1)
    max_depth: int | None = option(None, "rf: depth limit (0: grow until leaves are pure).", low=1)


@dataclass(frozen=True)
class TrainConfig(JobConfig):
    """Everything a `mnist-mlops train` invocation depends on; logged whole as run params."""

    arch: str = option("cnn", "Network architecture.", choices=lambda: models.names("keras"))
    # Shape of the configurable architectures (mlp, cnn).
    hidden: tuple[int, ...] = option((512, 256), "mlp: hidden layer sizes.", low=1)
    filters: tuple[int, ...] = option(
        (32, 64, 128), "cnn: filters of each conv block (a 'same' convolution, then pooling).", low=1
    )
    kernel_size: int = option(3, "cnn: convolution kernel side.", low=1, high=28)
    pool: str = option("max", "cnn: pooling after each block.", choices=("max", "avg"))
    dense: int = option(192, "cnn: units of the dense head.", low=1)
    activation: str = option(
        "relu", "mlp, cnn: hidden activation.", choices=("relu", "gelu", "elu", "selu", "swish", "tanh")
    )
    dropout: float | None = from_recipe(
        "dropout",
        "mlp, cnn: dropout rate.",
        low=0,
        high=1,
        open_high=True,
    )
    batch_norm: bool = option(
        True, "mlp, cnn: batch normalisation after each hidden layer and convolution (true/false)."
    )
    # Training (models/recipe.py): unset (None; empty or 0 on the command line) takes the architecture's recipe.
    optimizer: str | None = from_recipe(
        "optimizer", "adam, adamw, or sgd with Nesterov momentum 0.9.", choices=("adam", "adamw", "sgd")
    )
    learning_rate: float | None = from_recipe(
        "learning_rate", "Initial learning rate (one-cycle: the peak).", low=0, open_low=True
    )
    weight_decay: float | None = from_recipe("weight_decay", "adamw: weight decay.", low=0)
    schedule: str | None = from_recipe(
        "schedule",
        "Learning rate: constant, cosine decay to zero, onecycle (a rise over the first quarter, then a "
        "cosine fall to near zero), or halved when val_loss stalls (plateau).",
        choices=("constant", "cosine", "onecycle", "plateau"),
    )
    batch_size: int | None = from_recipe("batch_size", "Images per step.", low=1)
    epochs: int | None = from_recipe("epochs", "Most passes over the data.", low=1)
    patience: int | None = from_recipe(
        "patience", "Early stopping: epochs without a lower val_loss; the best weights are kept.", low=1
    )
    augment: bool | None = from_recipe(
        "augment",
        "Random rotations (<= 10 degrees), zooms (<= 10%) and shifts (<= 3 px) of the training images (true/false).",
    )
    label_smoothing: float | None = from_recipe(
        "label_smoothing",
        "Share of each label spread over the other digits (underconfident: add --calibrate).",
        low=0,
        high=1,
        open_high=True,
    )
    ema: float | None = from_recipe(
        "ema",
        "Momentum of a moving average of the weights (e.g. 0.99) that validation scores and training keeps (0: none).",
        low=0,
        high=1,
        open_high=True,
    )
    precision: str | None = from_recipe(
        "precision",
        "Arithmetic of training: float32, or mixed_bfloat16 (float32 weights); auto: the faster on this CPU, "
        "measured once per CPU model (float32 without AMX, AVX512-BF16). The network predicts in float32.",
        choices=("auto", "float32", "mixed_bfloat16"),
    )
    target_accuracy: float | None = from_recipe(
        "target_accuracy",
        "Stop after the first epoch whose validation accuracy reaches this (never the test set).",
        low=0,
        high=1,
        open_low=True,
    )
    members: int = option(1, "Networks to train, the i-th with seed + i; several are averaged as one model.", low=1)
    calibrate: bool = option(
        False,
        "Fit a temperature on the validation split that the served model applies to its probabilities "
        "(temperature scaling); ECE and log loss before it are logged as {split}_uncalibrated_{metric}.",
        flag=True,
    )
    register: bool = option(
        False, "Register the model in mnist-digits; the promotion rule decides if it becomes @champion.", flag=True
    )
    system_metrics: bool = option(
        True, "Log the machine's CPU, memory and disk use as system/* metrics of the run (MLflow's monitor).", flag=True
    )
    quiet: bool = option(False, "No progress bars.", flag=True)


@dataclass(frozen=True)
class TuneConfig(JobConfig):
    """Everything a `mnist-mlops tune` invocation depends on; logged whole on the parent run."""

    family: str = option("fast", "Model family to tune.", choices=lambda: models.names(tunable=True))
    algo: str = option("tpe", "tpe (Tree-structured Parzen) or random.", choices=ALGORITHMS)
    max_evals: int = option(12, "Trials in total, those of a resumed search included; trial 1 is the default.", low=1)
    startup_trials: int | None = option(
        None, "tpe: random trials before TPE models the results (0: a quarter of --max-evals, 3 to 10).", low=1
    )
    timeout: int | None = option(None, "Seconds after which no new trial starts (0: no limit).", low=1)
    metric: str = option(
        "val_accuracy", "Validation metric to optimise: val_accuracy, val_f1_macro or val_log_loss (minimised)."
    )
    early_stop_rounds: int | None = option(None, "Stop after N trials without improvement (0: never).", low=1)
    epochs: int | None = option(None, "Networks: epochs per trial (0: the architecture's recipe).", low=1)
    prune: bool = option(
        True,
        "Networks: stop a trial after an epoch (from half its epochs, at least 2) whose validation accuracy is "
        "below the median of the other trials' at that epoch (once at least 3 others reached it).",
        flag=True,
    )
    ensemble: int | None = option(
        None, "Also register a model averaging the probabilities of the N best trials (0: none).", low=2
    )
    study: str | None = option(None, "Name of the search; an existing one is continued [default: FAMILY-ALGO].")
    resume: bool = option(False, "Continue the newest search of the study (e.g. after Ctrl-C).", flag=True)
    backend: str = option(
        "sequential",
        "sequential: trials one by one in this process; spark: Hyperopt's SparkTrials (pip install -e '.[spark]').",
        choices=BACKENDS,
    )
    parallelism: int = option(1, "Trials at once (more than 1 needs --backend spark).", low=1)
    spark_master: str | None = option(None, "Spark master URL, e.g. spark://host:7077 [default: local[PARALLELISM]].")
    system_metrics: bool = option(
        True, "Log the machine's CPU, memory and disk use as system/* metrics of the run (MLflow's monitor).", flag=True
    )
    quiet: bool = option(False, "No progress bar.", flag=True)

    def __post_init__(self):
        super().__post_init__()
        if self.metric.startswith("test_"):
            raise MnistMlopsError(f"--metric {self.metric}: a search selects by validation metrics, never by test")
        if self.metric not in TUNE_METRICS:
            trials_log = ", ".join(TUNE_METRICS)
            raise MnistMlopsError(f"--metric {self.metric}: {self.family} trials log {trials_log}; choose one of them")
        if self.backend == "sequential" and (self.parallelism > 1 or self.spark_master):
            raise MnistMlopsError("--parallelism above 1 and --spark-master need --backend spark")


@dataclass(frozen=True)
class PipelineConfig(JobConfig):
    """The main job: every baseline, the default network, a short search, the champion registered."""

    arch: str = option("cnn", "Network to train and register.", choices=lambda: models.names("keras"))
    epochs: int | None = option(None, "Epochs of that network (0: its recipe's).", low=1)
    members: int = option(2, "Networks of it averaged as the model registered, the i-th with seed + i.", low=1)
    tune_family: str = option("knn", "Family of the short TPE search.", choices=lambda: models.names(tunable=True))
    max_evals: int = option(12, "Trials of that search.", low=1)
    system_metrics: bool = option(
        True, "Log the machine's CPU, memory and disk use as system/* metrics of the run (MLflow's monitor).", flag=True
    )
    quiet: bool = option(False, "No progress bars.", flag=True)


@dataclass(frozen=True)
class ExploreConfig(JobConfig):
    """Everything a `mnist-mlops explore` invocation depends on: the shared fields alone."""


@dataclass(frozen=True)
class RobustnessConfig(RunConfig):
    """Everything a `mnist-mlops robustness` invocation depends on; logged whole as run params."""

    model_uri: str = option("models:/mnist-digits@champion", "The served model to measure (models:/ or runs:/ URI).")
    severity: int = option(3, "How strong every corruption is, from 1 (mild) to 5 (harsh).", low=1, high=5)
    input_format: str = option(
        "images",
        "images: each corrupted image sent as a PNG, as a client sends one, so the serving preprocessing "
        "(inversion, crop, centring) takes part; rows: its 784 pixels as they are, the classifier alone.",
        choices=("images", "rows"),
    )
    limit: int | None = option(None, "Score the first N test images (0: all 10,000).", low=1)
    suite: str = option(
        "all",
        "corruptions: the 13 corruptions of 28x28 images; paper: test digits photographed on 10 kinds of "
        "paper (form boxes, squared and ruled paper, shadows, pencil, ...) and sent as images; all: both; "
        "feedback: the images people corrected on the playground page (feedback_accuracy).",
        choices=("all", "corruptions", "paper", "feedback"),
    )
    paper_images: int = option(500, "Test digits drawn onto each kind of paper (at most --limit).", low=1)


@dataclass(frozen=True)
class ServerConfig:
    """Everything `mnist-mlops server` depends on."""

    host: str = option("127.0.0.1", "Address to bind; any but loopback exposes the server and needs --auth.")
    port: int = option(5000, "Port to listen on.", low=1, high=65535)
    backend_store_uri: str = option(
        "sqlite:///mlflow.db",
        "Where runs and the registry are stored, e.g. postgresql://user:pass@host/db "
        "(after pip install -e '.[postgres]').",
    )
    artifacts_destination: str = option("./mlartifacts", "Where the server stores artifacts.")
    auth: bool = option(
        False,
        "Require a user and password (MLflow's basic-auth app); permissions go to basic_auth.db beside a "
        "SQLite store, else in the working folder. The first start creates the admin from "
        "$MLFLOW_AUTH_ADMIN_PASSWORD or --admin-password-file.",
        flag=True,
    )
    admin_password_file: str | None = option(None, "--auth: a file holding the admin's first password.")
    default_permission: str = option(
        "NO_PERMISSIONS", "--auth: what users may do where no one granted them a permission.", choices=PERMISSIONS
    )
    auth_cache_seconds: int = option(
        60,
        "--auth: seconds a checked login is trusted before its password is checked again, which takes tens of "
        "milliseconds by design (0: every request). A password changed or a user deleted through the API "
        "counts at once (one server worker); an edit of basic_auth.db by hand, within this time.",
        low=0,
    )
    insecure: bool = option(False, "Allow a --host beyond loopback without --auth.", flag=True)
    allowed_hosts: str | None = option(None, "Host headers to accept, comma-separated (MLflow's default if unset).")
    cors_allowed_origins: str | None = option(
        None, "Browser origins allowed to call the server, comma-separated (MLflow's default if unset)."
    )

    def __post_init__(self):
        check_fields(self)
        if not (self.auth or self.insecure or is_loopback(self.host)):
            raise MnistMlopsError(
                f"--host {self.host} lets anyone who reaches port {self.port} read runs and move @champion: "
                "add --auth (with $MLFLOW_AUTH_ADMIN_PASSWORD set on the first start), or --insecure"
            )


def is_loopback(host: str) -> bool:
    """Whether host is this machine only (localhost, 127.0.0.0/8, ::1)."""
    try:
        return host == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def job_defaults(**changes) -> SimpleNamespace:
    """Every model hyperparameter as `baseline` and `train` set it with no options, with changes."""
    return SimpleNamespace(**{**asdict(BaselineConfig()), **asdict(TrainConfig()), **changes})
