"""The `mnist-mlops` command line: one subcommand per job, its options made from the job's config."""

import logging
import os
import warnings

import click

from mnist_mlops.cli_registry import feedback, promotion_text, registry
from mnist_mlops.config import (
    BaselineConfig,
    ExploreConfig,
    PipelineConfig,
    RobustnessConfig,
    ServerConfig,
    TrainConfig,
    TuneConfig,
)
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.monitoring.config import MonitorConfig
from mnist_mlops.options import config_options
from mnist_mlops.playground.config import PlaygroundConfig
from mnist_mlops.retraining.config import RetrainConfig
from mnist_mlops.scoring.config import ScoreConfig
from mnist_mlops.stop import exit_if_stopped, exit_on_stop_signals


class Cli(click.Group):
    """A click group that turns the project's errors, and a tracking server's refusals and outages, into
    a one-line message and exit code 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except MnistMlopsError as error:
            raise click.ClickException(str(error)) from error
        except Exception as error:
            if not type(error).__module__.startswith("mlflow."):
                raise
            from mnist_mlops.tracking.access import outage, refusal

            if (message := refusal(error) or outage(error)) is None:
                raise
            raise click.ClickException(message) from error


SHOW_WARNING = warnings.showwarning


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Show a warning unless it is a library's DeprecationWarning, which is for developers. Python
    hides those by default, but pandas switches them on inside `warnings.catch_warnings`, which is not
    thread-safe: a job's threads can leave them switched on for the rest of the run."""
    if not issubclass(category, DeprecationWarning):
        SHOW_WARNING(message, category, filename, lineno, file, line)


# Every option may also come from $MNIST_MLOPS_<COMMAND>_<OPTION> (click's auto_envvar_prefix): a quick try
# of the main job is MNIST_MLOPS_PIPELINE_LIMIT=1000 make run. The command line wins over the environment.
SETTINGS = {"help_option_names": ["-h", "--help"], "show_default": True, "auto_envvar_prefix": "MNIST_MLOPS"}


@click.group(cls=Cli, context_settings=SETTINGS)
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def cli(verbose: bool) -> None:
    """Train, tune, track, register and serve MNIST digit classifiers with MLflow.

    Runs are tracked in $MLFLOW_TRACKING_URI, by default sqlite:///mlflow.db in the working directory.
    Any option can also be set as $MNIST_MLOPS_<COMMAND>_<OPTION>, e.g. MNIST_MLOPS_PIPELINE_LIMIT=1000.
    """
    # MLflow's own INFO lines (creating tables, experiments) and download bars are not this job's news.
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    warnings.showwarning = show_warning
    progress = logging.StreamHandler()  # the jobs' lines of what they do and found, on stderr
    progress.setFormatter(logging.Formatter("%(message)s"))
    ours = logging.getLogger("mnist_mlops")
    ours.setLevel(logging.DEBUG if verbose else logging.INFO)
    ours.addHandler(progress)
    ours.propagate = False
    exit_on_stop_signals()


def table_text(table) -> str:
    """A table as the commands print it: four decimals."""
    return table.to_string(index=False, float_format=lambda value: f"{value:.4f}")


@cli.command()
@config_options(BaselineConfig)
def baseline(**options) -> None:
    """Fit scikit-learn baselines and track each as an MLflow run."""
    from mnist_mlops.jobs.baseline import run_baselines

    click.echo(table_text(run_baselines(BaselineConfig(**options))))


@cli.command()
@config_options(TrainConfig)
def train(**options) -> None:
    """Train a Keras network and track it as an MLflow run; --register offers it as champion.

    Training options left unset take the architecture's recipe, logged with the run."""
    from mnist_mlops.jobs.train import run_training

    result = run_training(TrainConfig(**options))
    metrics = result.metrics
    click.echo(" ".join(f"{name}={metrics[name]:.4f}" for name in ("val_accuracy", "test_accuracy", "fit_seconds")))
    if result.promotion:
        click.echo(promotion_text(result.promotion))


@cli.command()
@config_options(TuneConfig)
def tune(**options) -> None:
    """Tune a model family with Hyperopt: one nested run per trial, the best registered as challenger."""
    from mnist_mlops.jobs.tune import run_search

    result = run_search(TuneConfig(**options))
    click.echo(f"best {options['metric']}={result.best_value:.4f} with {result.best_params}")
    click.echo(f"test_accuracy={result.metrics['test_accuracy']:.4f}; {promotion_text(result.promotion)}")
    if result.ensemble:
        click.echo(f"ensemble of the {options['ensemble']} best: {promotion_text(result.ensemble)}")


@cli.command()
@config_options(RetrainConfig)
def retrain(**options) -> None:
    """Train a challenger on MNIST and the feedback set's corrections (weighted, augmented), the most
    recent held out: promoted if not significantly worse on test and better on those than the champion."""
    from mnist_mlops.jobs.retrain import run_retraining

    result = run_retraining(RetrainConfig(**options))
    metrics, champion = result.metrics, result.metrics.get("champion_feedback_accuracy")
    versus = "" if champion is None else f" (the champion's {champion:.4f})"
    click.echo(f"test_accuracy={metrics['test_accuracy']:.4f} feedback_accuracy={metrics['feedback_accuracy']:.4f}"
               f"{versus} on {metrics['feedback_images']:.0f} held-out corrections")  # fmt: skip
    click.echo(promotion_text(result.promotion))


@cli.command()
@config_options(PipelineConfig)
def pipeline(**options) -> None:
    """The main job: every baseline, the default network, a short TPE search, the champion registered
    and measured under corruption and on photographed paper."""
    from mnist_mlops.jobs.pipeline import run_pipeline

    result = run_pipeline(PipelineConfig(**options))
    click.echo(table_text(result.summary))
    click.echo(
        f"the champion under corruption: robust_mean_accuracy={result.robust_mean_accuracy:.4f}; "
        f"on photographed paper: robust_paper_mean_accuracy={result.robust_paper_mean_accuracy:.4f}"
    )


@cli.command()
@config_options(ExploreConfig)
def explore(**options) -> None:
    """Log figures of the data: class balance, samples, pixel histograms, mean digits, a PCA map."""
    from mnist_mlops.jobs.explore import run_exploration

    click.echo(f"run {run_exploration(ExploreConfig(**options))}")


@cli.command()
@config_options(RobustnessConfig)
def robustness(**options) -> None:
    """Measure a served model's test accuracy under 13 corruptions (noise, blur, rotation, thicker
    pens, inversion...) and on photographed paper (form boxes, grids, shadows, pencil...), as one run;
    the means are recorded on its source run and registered version."""
    from mnist_mlops.jobs.robustness import FEEDBACK, MEANS, run_robustness

    result = run_robustness(RobustnessConfig(**options))
    for table in result.tables.values():
        click.echo(table_text(table.reset_index()))
    measured = (*MEANS, FEEDBACK[0])
    means = " ".join(f"{name}={result.metrics[name]:.4f}" for name in measured if name in result.metrics)
    if FEEDBACK[1] in result.metrics:
        means += f" on {result.metrics[FEEDBACK[1]]:.0f} corrected images"
    click.echo(f"{means} in {result.metrics['robustness_seconds']:.0f} s")


@cli.command()
@config_options(ServerConfig)
def server(**options) -> None:
    """Start an MLflow tracking server (UI, runs, registry, served artifacts); Ctrl-C stops it."""
    from mnist_mlops.server import serve

    code = serve(ServerConfig(**options), click.echo)
    if code:
        raise click.ClickException(f"mlflow server exited with code {code}")


@cli.command()
@click.argument("images", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--model-uri", default="models:/mnist-digits@champion", help="The model to ask.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print JSON: file, number, and per digit its probabilities and box."
)
@click.option("--show", type=click.Path(file_okay=False), help="Save what the model saw into this folder: the sheet "
              "found in a whole frame, outlined, and per digit the crop taken and the 28x28 given.")  # fmt: skip
def predict(images: tuple[str, ...], model_uri: str, as_json: bool, show: str | None) -> None:
    """Read the digit, or the number, in each image (a photo of a whole sheet, or a crop; PNG, JPEG, WebP...)."""
    from mnist_mlops.jobs.predict import predict_files

    results = predict_files(list(images), model_uri, show)
    if as_json:
        click.echo(results.to_json(orient="records"))
    else:
        for row in results.itertuples():
            sure = min(max(digit["probabilities"]) for digit in row.digits)
            click.echo(f"{row.file}: {row.number} ({sure:.3f})")


@cli.command()
@config_options(ScoreConfig)
def score(**options) -> None:
    """Answer every row of a Parquet file or folder, or every image of a folder, into Parquet: the key,
    digit, probabilities, number and refused reason; in chunks here, or on Spark. Tracked as a run."""
    from mnist_mlops.jobs.score import run_scoring

    metrics = run_scoring(ScoreConfig(**options))
    click.echo(f"{metrics['rows']:.0f} rows, {metrics['refused']:.0f} refused, {metrics['images_per_second']:.0f} "
               f"images/s: {options['output']}")  # fmt: skip


@cli.command()
@config_options(MonitorConfig)
def monitor(**options) -> None:
    """Profile the inference log's last window (requests, refusals, confidence, latency, the digits' and
    inputs' mix), test its drift from the window before it and from each version's baseline (digits, confidence,
    ink, stroke width, size) and score its labelled records, as one run; exit 1 when an alert rule fires."""
    from mnist_mlops.jobs.monitor import run_monitor, summary

    found = run_monitor(MonitorConfig(**options))
    click.echo("\n".join(summary(found, options["min_records"])))
    if found.alerts:
        raise click.ClickException("alert: " + "; ".join(found.alerts))


@cli.command("spark-cluster")
@click.option("--workers", type=click.IntRange(min=1), default=2, help="Worker processes.")
@click.option("--cores", type=click.IntRange(min=1), default=1, help="Task slots of each worker.")
@click.option("--memory", default="2g", help="Memory of each worker's executors.")
def spark_cluster(workers: int, cores: int, memory: str) -> None:
    """Run a standalone Spark cluster on 127.0.0.1 (a master and its workers, pip install -e '.[spark]')
    for tune and score --backend spark --spark-master; Ctrl-C stops it."""
    import time

    from mnist_mlops.spark_cluster import spark_cluster as cluster_of

    with cluster_of(workers, cores, memory) as cluster:
        click.echo(f"--spark-master {cluster.master} ({workers} workers of {cores} slots; web UI {cluster.ui})")
        while all(process.poll() is None for process in cluster.processes):
            time.sleep(1)
        raise click.ClickException("a process of the cluster ended; stopping the others")


@cli.command()
@config_options(PlaygroundConfig)
def playground(**options) -> None:
    """Serve a page where you draw or photograph a digit and two models (@champion and @challenger,
    or any two) answer side by side; wrong answers can be saved to the feedback set."""
    from mnist_mlops.playground.serve import serve_playground

    serve_playground(PlaygroundConfig(**options), click.echo)


@cli.command()
@click.option("--experiment", "experiments", multiple=True, help="Experiment to show; repeat it [default: all].")
@click.option("--out", type=click.Path(file_okay=False), default="dashboards/site", help="Folder to write into.")
def dashboard(experiments: tuple[str, ...], out: str) -> None:
    """Write a self-contained HTML dashboard of the runs, searches, champion and registry."""
    from pathlib import Path

    from mnist_mlops.jobs.dashboard import build_dashboard

    click.echo(f"wrote {build_dashboard(list(experiments), Path(out))}")


cli.add_command(registry)
cli.add_command(feedback)


def main() -> None:
    """Entry point of the `mnist-mlops` console script."""
    try:
        cli(prog_name="mnist-mlops")
    finally:
        exit_if_stopped()
