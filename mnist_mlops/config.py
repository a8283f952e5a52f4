"""One config object per job, every field commented; the CLI builds them and runs log them.

This module imports nothing heavy, so `mnist-mlops --help` starts fast.
"""

from dataclasses import dataclass, fields

BASELINE_MODELS = ("dummy", "logreg", "knn", "rf")
ARCHITECTURES = ("mlp", "cnn")
ACTIVATIONS = ("relu", "gelu", "elu", "selu", "swish", "tanh")
POOLS = ("max", "avg")
OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("constant", "cosine", "plateau")


@dataclass(frozen=True)
class JobConfig:
    """The data and bookkeeping fields every job shares."""

    seed: int = 42  # seeds the split, the subset, the models and any search
    experiment: str = "mnist-mlops"  # MLflow experiment the runs are recorded in
    data_dir: str | None = None  # folder of the MNIST files; None: $MNIST_DATA_DIR, else the user cache
    limit: int | None = None  # stratified subset of the 60,000 training images for quick runs; None: all
    val_fraction: float = 0.1  # share of the training images held out for validation: 54,000/6,000


JOB_FIELDS = tuple(field.name for field in fields(JobConfig))


@dataclass(frozen=True)
class BaselineConfig(JobConfig):
    """Everything a `mnist-mlops baseline` invocation depends on; logged as run params."""

    model: str = "all"  # dummy, logreg, knn, rf, or all: each as its own run
    C: float = 1.0  # logreg: inverse L2 regularisation strength
    max_iter: int = 100  # logreg: lbfgs iterations
    k: int = 4  # knn: neighbours that vote
    weights: str = "distance"  # knn: 'uniform' votes, or 'distance' (closer neighbours count more)
    metric: str = "euclidean"  # knn: distance between PCA-projected images
    pca_components: int = 50  # knn: PCA dimensions the neighbour search runs in
    n_estimators: int = 200  # rf: trees in the forest
    max_depth: int | None = None  # rf: depth limit; None grows each tree until its leaves are pure


@dataclass(frozen=True)
class TrainConfig(JobConfig):
    """Everything a `mnist-mlops train` invocation depends on; logged whole as run params."""

    arch: str = "cnn"  # mlp or cnn
    # Network shape.
    hidden: tuple[int, ...] = (512, 256)  # mlp: units of each hidden Dense layer
    filters: tuple[int, ...] = (32, 64, 128)  # cnn: filters of each conv block (convolution, then pooling)
    kernel_size: int = 3  # cnn: side of each convolution kernel
    pool: str = "max"  # cnn: 'max' or 'avg' pooling after each conv block
    dense: int = 128  # cnn: units of the dense head
    activation: str = "relu"  # activation of every hidden layer
    dropout: float = 0.3  # dropout rate after each MLP layer and around the CNN head, in [0, 1)
    batch_norm: bool = True  # batch normalisation after each hidden layer and convolution
    augment: bool = True  # random shifts (<= 3 px) and rotations (<= 10 degrees) while training
    # Optimisation.
    optimizer: str = "adamw"  # adam, adamw (decoupled weight decay) or sgd (Nesterov momentum 0.9)
    learning_rate: float = 2e-3  # initial learning rate
    weight_decay: float = 1e-4  # adamw: decoupled weight decay
    schedule: str = "cosine"  # constant, cosine (decay to zero over all epochs) or plateau (halve on stall)
    batch_size: int = 128  # images per gradient step
    epochs: int = 15  # most passes over the training split
    patience: int = 5  # early stopping: epochs without a lower val_loss before stopping
    quiet: bool = False  # no Keras progress bars (for scripts and logs)


TUNABLE_FAMILIES = ("logreg", "knn", "rf", "mlp", "cnn")
ALGORITHMS = ("tpe", "random")
BACKENDS = ("sequential", "spark")
# What every trial logs on the validation split; a search may optimise any of them.
TUNE_METRICS = ("val_accuracy", "val_f1_macro", "val_log_loss")


@dataclass(frozen=True)
class TuneConfig(JobConfig):
    """Everything a `mnist-mlops tune` invocation depends on; logged whole on the parent run."""

    family: str = "knn"  # logreg, knn, rf, mlp or cnn
    algo: str = "tpe"  # tpe (Tree-structured Parzen Estimators) or random search
    max_evals: int = 12  # trials in total, those of a resumed search included
    timeout: int | None = None  # seconds after which no new trial starts; None: no limit
    metric: str = "val_accuracy"  # validation metric to optimise; *_loss is minimised, the rest maximised
    early_stop_rounds: int | None = None  # stop after this many trials without improvement; None: never
    epochs: int = 3  # networks: epochs each trial trains for (the budget per trial)
    study: str | None = None  # the search's name; an existing one is continued. None: {family}-{algo}
    resume: bool = False  # continue the newest search of the study; an error if there is none
    backend: str = "sequential"  # sequential: trials one by one in this process; spark: Hyperopt's SparkTrials
    parallelism: int = 1  # trials at once; more than one needs the spark backend
    spark_master: str | None = None  # spark: the master URL (spark://host:7077, ...); None: local[parallelism]
    quiet: bool = False  # no progress bar


@dataclass(frozen=True)
class PipelineConfig(JobConfig):
    """The main job: every baseline, the default network, a short search, the champion registered."""

    arch: str = "cnn"  # network trained with its default config and registered
    epochs: int = 15  # epochs of that network
    tune_family: str = "knn"  # family of the short search
    max_evals: int = 12  # trials of the short search (TPE)
    quiet: bool = False  # no progress bars


@dataclass(frozen=True)
class ExploreConfig(JobConfig):
    """Everything a `mnist-mlops explore` invocation depends on: the shared fields alone."""
