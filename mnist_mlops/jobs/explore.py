"""The explore job: one run that shows the data before any model sees it."""

from dataclasses import asdict

from mnist_mlops import tracking
from mnist_mlops.config import ExploreConfig
from mnist_mlops.data import load_mnist
from mnist_mlops.evaluate import exploration


def run_exploration(config: ExploreConfig) -> str:
    """Log the data figures and the class distribution as one run; return its id."""
    data = load_mnist(config.data_dir, config.val_fraction, config.limit, config.seed)
    tracking.use_tracking(config.experiment)
    with tracking.run("explore", {"model_kind": "data"}) as run_id:
        tracking.log_params(asdict(config))
        tracking.log_datasets(data)
        counts = exploration.class_distribution(data)
        tracking.log_csv(counts, "class_distribution.csv")
        tracking.log_figure(exploration.class_distribution_figure(counts), "class_distribution.png")
        tracking.log_figure(exploration.samples_figure(data, config.seed), "samples_per_digit.png")
        tracking.log_figure(exploration.pixel_histograms_figure(data), "pixel_histograms.png")
        tracking.log_figure(exploration.mean_digits_figure(data), "mean_digits.png")
        tracking.log_figure(exploration.embedding_figure(data, config.seed), "embedding_pca.png")
    return run_id
