"""The `mnist-mlops` command line: one subcommand per job."""

import logging
import signal
import sys

import click

from mnist_mlops.config import (
    ACTIVATIONS,
    ALGORITHMS,
    ARCHITECTURES,
    BACKENDS,
    BASELINE_MODELS,
    OPTIMIZERS,
    POOLS,
    SCHEDULES,
    TUNABLE_FAMILIES,
    BaselineConfig,
    ExploreConfig,
    PipelineConfig,
    TrainConfig,
    TuneConfig,
)
from mnist_mlops.errors import MnistMlopsError

DEFAULTS = BaselineConfig()
TRAIN = TrainConfig()
TUNE = TuneConfig()
PIPELINE = PipelineConfig()


class LayerSizes(click.ParamType):
    """A comma-separated list of positive integers, such as 256,128."""

    name = "SIZES"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        try:
            sizes = tuple(int(part) for part in str(value).split(","))
        except ValueError:
            self.fail(f"{value!r} is not a comma-separated list of whole numbers, e.g. 256,128", param, ctx)
        if not all(size > 0 for size in sizes):
            self.fail(f"{value!r}: every layer size must be a positive number", param, ctx)
        return sizes


class Cli(click.Group):
    """A click group that turns the project's errors into a one-line message and exit code 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except MnistMlopsError as error:
            raise click.ClickException(str(error)) from error


def exit_on_sigterm_or_sighup() -> None:
    """Exit cleanly on SIGTERM, and on SIGHUP (a closed terminal) unless it is ignored (nohup), so
    open MLflow runs end as FAILED instead of staying RUNNING and servers we started are stopped."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if signal.getsignal(signal.SIGHUP) is signal.SIG_DFL:
        signal.signal(signal.SIGHUP, lambda signum, frame: sys.exit(128 + signum))


def empty_as_none(ctx, param, value):
    """Read '' (how MLproject passes an unset option) as not given."""
    return value or None


def zero_as_none(ctx, param, value):
    """Read 0 as 'no limit'."""
    return value or None


data_dir_option = click.option(
    "--data-dir",
    default="",
    callback=empty_as_none,
    show_default=False,
    help="Folder with the four MNIST files [default: $MNIST_DATA_DIR, else the user cache].",
)


def data_options(command):
    """Add the data options every job shares."""
    options = [
        data_dir_option,
        click.option(
            "--limit",
            type=click.IntRange(min=0),
            default=0,
            callback=zero_as_none,
            help="Use a stratified subset of N training images for quick runs (0: all 60,000).",
        ),
        click.option(
            "--val-fraction",
            type=click.FloatRange(0, 1, min_open=True, max_open=True),
            default=DEFAULTS.val_fraction,
            show_default=True,
            help="Share of the training images held out for validation.",
        ),
        click.option(
            "--seed",
            type=int,
            default=DEFAULTS.seed,
            show_default=True,
            help="Seeds the split, the subset and the models.",
        ),
        click.option(
            "--experiment",
            envvar="MLFLOW_EXPERIMENT_NAME",
            default=DEFAULTS.experiment,
            show_default=True,
            help="MLflow experiment to record runs in.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.group(cls=Cli, context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def cli(verbose: bool) -> None:
    """Train, tune, track, register and serve MNIST digit classifiers with MLflow.

    Runs are tracked in $MLFLOW_TRACKING_URI, by default sqlite:///mlflow.db in the working directory.
    """
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("mnist_mlops").setLevel(logging.DEBUG if verbose else logging.INFO)
    exit_on_sigterm_or_sighup()


@cli.command()
@click.option(
    "--model",
    type=click.Choice((*BASELINE_MODELS, "all")),
    default=DEFAULTS.model,
    help="Baseline to fit; 'all' fits each as its own run and prints a comparison.",
)
@data_options
@click.option(
    "--C",
    "C",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULTS.C,
    help="logreg: inverse regularisation strength.",
)
@click.option("--max-iter", type=click.IntRange(min=1), default=DEFAULTS.max_iter, help="logreg: solver iterations.")
@click.option("--k", type=click.IntRange(min=1), default=DEFAULTS.k, help="knn: neighbours that vote.")
@click.option(
    "--weights",
    type=click.Choice(["uniform", "distance"]),
    default=DEFAULTS.weights,
    help="knn: how neighbours' votes are weighted.",
)
@click.option(
    "--metric",
    type=click.Choice(["euclidean", "manhattan", "cosine"]),
    default=DEFAULTS.metric,
    help="knn: distance between PCA-projected images.",
)
@click.option(
    "--pca-components",
    type=click.IntRange(min=1, max=784),
    default=DEFAULTS.pca_components,
    help="knn: PCA dimensions the neighbour search runs in.",
)
@click.option("--n-estimators", type=click.IntRange(min=1), default=DEFAULTS.n_estimators, help="rf: trees.")
@click.option(
    "--max-depth",
    type=click.IntRange(min=0),
    default=0,
    callback=zero_as_none,
    help="rf: depth limit (0: grow until leaves are pure).",
)
def baseline(**options) -> None:
    """Fit scikit-learn baselines and track each as an MLflow run."""
    from mnist_mlops.jobs.baseline import run_baselines

    table = run_baselines(BaselineConfig(**options))
    click.echo(table.to_string(index=False, float_format=lambda value: f"{value:.4f}"))


def sizes_text(sizes: tuple[int, ...]) -> str:
    """Write layer sizes as the command line takes them."""
    return ",".join(map(str, sizes))


@cli.command()
@click.option("--arch", type=click.Choice(ARCHITECTURES), default=TRAIN.arch, help="Network family.")
@click.option("--hidden", type=LayerSizes(), default=sizes_text(TRAIN.hidden), help="mlp: hidden layer sizes.")
@click.option(
    "--filters",
    type=LayerSizes(),
    default=sizes_text(TRAIN.filters),
    help="cnn: filters of each conv block (a 'same' convolution, then pooling).",
)
@click.option(
    "--kernel-size", type=click.IntRange(min=1, max=28), default=TRAIN.kernel_size, help="cnn: convolution kernel side."
)
@click.option("--pool", type=click.Choice(POOLS), default=TRAIN.pool, help="cnn: pooling after each block.")
@click.option("--dense", type=click.IntRange(min=1), default=TRAIN.dense, help="cnn: units of the dense head.")
@click.option("--activation", type=click.Choice(ACTIVATIONS), default=TRAIN.activation, help="Hidden activation.")
@click.option("--dropout", type=click.FloatRange(0, 1, max_open=True), default=TRAIN.dropout, help="Dropout rate.")
@click.option(
    "--batch-norm",
    type=click.BOOL,
    default=TRAIN.batch_norm,
    help="Batch normalisation after each hidden layer and convolution (true/false).",
)
@click.option(
    "--augment",
    type=click.BOOL,
    default=TRAIN.augment,
    help="Random shifts (<= 3 px) and rotations (<= 10 degrees) while training (true/false).",
)
@click.option(
    "--optimizer",
    type=click.Choice(OPTIMIZERS),
    default=TRAIN.optimizer,
    help="adam, adamw, or sgd with Nesterov momentum 0.9.",
)
@click.option(
    "--learning-rate",
    type=click.FloatRange(min=0, min_open=True),
    default=TRAIN.learning_rate,
    help="Initial learning rate.",
)
@click.option("--weight-decay", type=click.FloatRange(min=0), default=TRAIN.weight_decay, help="adamw: weight decay.")
@click.option(
    "--schedule",
    type=click.Choice(SCHEDULES),
    default=TRAIN.schedule,
    help="Learning rate: constant, cosine decay to zero, or halved when val_loss stalls (plateau).",
)
@click.option("--batch-size", type=click.IntRange(min=1), default=TRAIN.batch_size, help="Images per step.")
@click.option("--epochs", type=click.IntRange(min=1), default=TRAIN.epochs, help="Most passes over the data.")
@click.option(
    "--patience",
    type=click.IntRange(min=1),
    default=TRAIN.patience,
    help="Early stopping: epochs without a lower val_loss; the best weights are kept.",
)
@data_options
@click.option("--quiet", is_flag=True, help="No progress bars.")
def train(**options) -> None:
    """Train a Keras MLP or CNN and track it as an MLflow run."""
    from mnist_mlops.jobs.train import run_training

    metrics = run_training(TrainConfig(**options)).metrics
    click.echo(" ".join(f"{name}={metrics[name]:.4f}" for name in ("val_accuracy", "test_accuracy", "fit_seconds")))


@cli.command()
@click.option("--family", type=click.Choice(TUNABLE_FAMILIES), default=TUNE.family, help="Model family to tune.")
@click.option(
    "--algo", type=click.Choice(ALGORITHMS), default=TUNE.algo, help="tpe (Tree-structured Parzen) or random."
)
@click.option(
    "--max-evals",
    type=click.IntRange(min=1),
    default=TUNE.max_evals,
    help="Trials in total, those of a resumed search included.",
)
@click.option(
    "--timeout",
    type=click.IntRange(min=0),
    default=0,
    callback=zero_as_none,
    help="Seconds after which no new trial starts (0: no limit).",
)
@click.option(
    "--metric",
    default=TUNE.metric,
    help="Validation metric to optimise: val_accuracy, val_f1_macro or val_log_loss (minimised).",
)
@click.option(
    "--early-stop-rounds",
    type=click.IntRange(min=0),
    default=0,
    callback=zero_as_none,
    help="Stop after N trials without improvement (0: never).",
)
@click.option("--epochs", type=click.IntRange(min=1), default=TUNE.epochs, help="mlp/cnn: epochs per trial.")
@click.option(
    "--study",
    default="",
    callback=empty_as_none,
    show_default=False,
    help="Name of the search; an existing one is continued [default: FAMILY-ALGO].",
)
@click.option("--resume", is_flag=True, help="Continue the newest search of the study (e.g. after Ctrl-C).")
@click.option(
    "--backend",
    type=click.Choice(BACKENDS),
    default=TUNE.backend,
    help="sequential: trials one by one in this process; spark: Hyperopt's SparkTrials (pip install -e '.[spark]').",
)
@click.option(
    "--parallelism",
    type=click.IntRange(min=1),
    default=TUNE.parallelism,
    help="Trials at once (more than 1 needs --backend spark).",
)
@click.option(
    "--spark-master",
    default="",
    callback=empty_as_none,
    show_default=False,
    help="Spark master URL, e.g. spark://host:7077 [default: local[PARALLELISM]].",
)
@data_options
@click.option("--quiet", is_flag=True, help="No progress bar.")
def tune(**options) -> None:
    """Tune a model family with Hyperopt: one nested run per trial, the best registered as challenger."""
    from mnist_mlops.jobs.tune import run_search

    result = run_search(TuneConfig(**options))
    click.echo(f"best {options['metric']}={result.best_value:.4f} with {result.best_params}")
    click.echo(
        f"test_accuracy={result.metrics['test_accuracy']:.4f}; version {result.promotion.version}: "
        f"{result.promotion.decision}"
    )


@cli.command()
@click.option("--arch", type=click.Choice(ARCHITECTURES), default=PIPELINE.arch, help="Network to train and register.")
@click.option("--epochs", type=click.IntRange(min=1), default=PIPELINE.epochs, help="Epochs of that network.")
@click.option(
    "--tune-family",
    type=click.Choice(TUNABLE_FAMILIES),
    default=PIPELINE.tune_family,
    help="Family of the short TPE search.",
)
@click.option("--max-evals", type=click.IntRange(min=1), default=PIPELINE.max_evals, help="Trials of that search.")
@data_options
@click.option("--quiet", is_flag=True, help="No progress bars.")
def pipeline(**options) -> None:
    """The main job: every baseline, the default network, a short TPE search, the champion registered."""
    from mnist_mlops.jobs.pipeline import run_pipeline

    summary = run_pipeline(PipelineConfig(**options))
    click.echo(summary.to_string(index=False, float_format=lambda value: f"{value:.4f}"))


@cli.command()
@click.option("--host", default="127.0.0.1", help="Address to bind; 0.0.0.0 exposes the server to the network.")
@click.option("--port", type=click.IntRange(1, 65535), default=5000, help="Port to listen on.")
@click.option(
    "--backend-store-uri",
    default="sqlite:///mlflow.db",
    help="Where runs and the registry are stored, e.g. postgresql://user:pass@host/db "
    "(after pip install 'mnist-mlops[postgres]').",
)
@click.option("--artifacts-destination", default="./mlartifacts", help="Where the server stores artifacts.")
def server(host: str, port: int, backend_store_uri: str, artifacts_destination: str) -> None:
    """Start an MLflow tracking server (UI, runs, registry, served artifacts); Ctrl-C stops it."""
    from mnist_mlops.server import serve

    code = serve(host, port, backend_store_uri, artifacts_destination, click.echo)
    if code:
        raise click.ClickException(f"mlflow server exited with code {code}")


@cli.group()
def registry() -> None:
    """The mnist-digits registered model: list, compare and promote versions."""


@registry.command("list")
def registry_list() -> None:
    """List the versions with their aliases, source run, family and test accuracy."""
    from mnist_mlops.jobs.registry import version_table

    table = version_table()
    click.echo(table.to_string(index=False) if len(table) else "no versions of mnist-digits yet")


@registry.command("compare")
@click.argument("a")
@click.argument("b")
@data_dir_option
def registry_compare(a: str, b: str, data_dir: str | None) -> None:
    """Compare versions A and B (numbers or aliases) on the 10,000 test images."""
    from mnist_mlops.jobs.registry import compare_versions

    result = compare_versions(a, b, data_dir)
    click.echo(f"{a}: accuracy {result.accuracy_a:.4f}\n{b}: accuracy {result.accuracy_b:.4f}")
    click.echo(f"difference {result.difference:+.4f}, 95% CI [{result.ci_low:+.4f}, {result.ci_high:+.4f}]")
    click.echo(
        f"McNemar exact test: {result.only_a_right} images only {a} gets right, {result.only_b_right} only "
        f"{b}; p = {result.p_value:.4g} ({'significant' if result.significant() else 'not significant'} at 5%)"
    )


@registry.command("promote")
@click.argument("version")
@click.option("--force", is_flag=True, help="Promote even if it is not significantly better.")
@data_dir_option
def registry_promote(version: str, force: bool, data_dir: str | None) -> None:
    """Make VERSION the champion if it is significantly better on test (McNemar, 5%)."""
    from mnist_mlops.jobs.registry import promote_version

    _, decision = promote_version(version, force, data_dir)
    click.echo(decision)


@cli.command()
@click.argument("images", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--model-uri", default="models:/mnist-digits@champion", help="The model to ask.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: file, digit and the ten probabilities.")
def predict(images: tuple[str, ...], model_uri: str, as_json: bool) -> None:
    """Predict the digit in each PNG or JPEG image."""
    from mnist_mlops.jobs.predict import predict_files

    results = predict_files(list(images), model_uri)
    if as_json:
        click.echo(results.to_json(orient="records"))
    else:
        for row in results.itertuples():
            click.echo(f"{row.file}: {row.digit} ({max(row.probabilities):.3f})")


@cli.command()
@data_options
def explore(**options) -> None:
    """Log figures of the data: class balance, samples, pixel histograms, mean digits, a PCA map."""
    from mnist_mlops.jobs.explore import run_exploration

    click.echo(f"run {run_exploration(ExploreConfig(**options))}")


@cli.command()
@click.option("--experiment", "experiments", multiple=True, help="Experiment to show; repeat it [default: all].")
@click.option("--out", type=click.Path(file_okay=False), default="dashboards/site", help="Folder to write into.")
def dashboard(experiments: tuple[str, ...], out: str) -> None:
    """Write a self-contained HTML dashboard of the runs, searches, champion and registry."""
    from pathlib import Path

    from mnist_mlops.jobs.dashboard import build_dashboard

    click.echo(f"wrote {build_dashboard(list(experiments), Path(out))}")


def main() -> None:
    """Entry point of the `mnist-mlops` console script."""
    cli(prog_name="mnist-mlops")
