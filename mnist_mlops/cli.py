"""The `mnist-mlops` command line: one subcommand per job."""

import logging
import signal
import sys

import click

from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.jobs.baseline import MODEL_CHOICES, BaselineConfig

DEFAULTS = BaselineConfig()


class Cli(click.Group):
    """A click group that turns the project's errors into a one-line message and exit code 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except MnistMlopsError as error:
            raise click.ClickException(str(error)) from error


def stop_on_sigterm() -> None:
    """Exit cleanly on SIGTERM so open MLflow runs end as FAILED instead of staying RUNNING."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def empty_as_none(ctx, param, value):
    """Read '' (how MLproject passes an unset option) as not given."""
    return value or None


def zero_as_none(ctx, param, value):
    """Read 0 as 'no limit'."""
    return value or None


def data_options(command):
    """Add the data options every job shares."""
    options = [
        click.option("--data-dir", default="", callback=empty_as_none, show_default=False,
                     help="Folder with the four MNIST files [default: $MNIST_DATA_DIR, else the user cache]."),
        click.option("--limit", type=click.IntRange(min=0), default=0, callback=zero_as_none,
                     help="Use a stratified subset of N training images for quick runs (0: all 60,000)."),
        click.option("--val-fraction", type=click.FloatRange(0, 1, min_open=True, max_open=True),
                     default=DEFAULTS.val_fraction, show_default=True,
                     help="Share of the training images held out for validation."),
        click.option("--seed", type=int, default=DEFAULTS.seed, show_default=True,
                     help="Seeds the split, the subset and the models."),
        click.option("--experiment", envvar="MLFLOW_EXPERIMENT_NAME", default=DEFAULTS.experiment,
                     show_default=True, help="MLflow experiment to record runs in."),
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
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    stop_on_sigterm()


@cli.command()
@click.option("--model", type=click.Choice(MODEL_CHOICES), default=DEFAULTS.model,
              help="Baseline to fit; 'all' fits each as its own run and prints a comparison.")
@data_options
@click.option("--C", "C", type=click.FloatRange(min=0, min_open=True), default=DEFAULTS.C,
              help="logreg: inverse regularisation strength.")
@click.option("--max-iter", type=click.IntRange(min=1), default=DEFAULTS.max_iter, help="logreg: solver iterations.")
@click.option("--k", type=click.IntRange(min=1), default=DEFAULTS.k, help="knn: neighbours that vote.")
@click.option("--weights", type=click.Choice(["uniform", "distance"]), default=DEFAULTS.weights,
              help="knn: how neighbours' votes are weighted.")
@click.option("--metric", type=click.Choice(["euclidean", "manhattan", "cosine"]), default=DEFAULTS.metric,
              help="knn: distance between PCA-projected images.")
@click.option("--pca-components", type=click.IntRange(min=1, max=784), default=DEFAULTS.pca_components,
              help="knn: PCA dimensions the neighbour search runs in.")
@click.option("--n-estimators", type=click.IntRange(min=1), default=DEFAULTS.n_estimators, help="rf: trees.")
@click.option("--max-depth", type=click.IntRange(min=0), default=0, callback=zero_as_none,
              help="rf: depth limit (0: grow until leaves are pure).")
def baseline(**options) -> None:
    """Fit scikit-learn baselines and track each as an MLflow run."""
    from mnist_mlops.jobs.baseline import run_baselines

    table = run_baselines(BaselineConfig(**options))
    click.echo(table.to_string(index=False, float_format=lambda value: f"{value:.4f}"))


def main() -> None:
    """Entry point of the `mnist-mlops` console script."""
    cli(prog_name="mnist-mlops")
