"""Figures that describe the data itself, in the project's seaborn style, deterministic for a seed."""

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from sklearn.decomposition import PCA

from mnist_mlops.data import N_CLASSES, Mnist
from mnist_mlops.evaluate.plots import new_figure


def class_distribution(data: Mnist) -> pd.DataFrame:
    """Images per digit in each split."""
    counts = {split.name: np.bincount(split.y, minlength=N_CLASSES) for split in data.splits()}
    return pd.DataFrame(counts, index=pd.Index(range(N_CLASSES), name="digit"))


def class_distribution_figure(counts: pd.DataFrame) -> Figure:
    """Bars of the share of each digit per split: stratification keeps them level."""
    shares = (
        (counts / counts.sum()).rename_axis("digit").reset_index().melt("digit", var_name="split", value_name="share")
    )
    figure = new_figure(9, 4.5)
    axis = figure.subplots()
    sns.barplot(shares, x="digit", y="share", hue="split", ax=axis)
    axis.set_title("share of each digit per split")
    return figure


def samples_figure(data: Mnist, seed: int, per_digit: int = 10) -> Figure:
    """A grid of random training images, one row per digit."""
    rng = np.random.default_rng(seed)
    figure = new_figure(per_digit * 0.9, N_CLASSES * 0.95)
    axes = figure.subplots(N_CLASSES, per_digit)
    for digit in range(N_CLASSES):
        chosen = rng.choice(np.flatnonzero(data.train.y == digit), size=per_digit, replace=False)
        for axis, index in zip(axes[digit], chosen, strict=True):
            axis.imshow(data.train.images[index, :, :, 0], cmap="gray_r", vmin=0, vmax=1)
            axis.axis("off")
    figure.suptitle("training samples, one row per digit")
    return figure


def pixel_histograms_figure(data: Mnist) -> Figure:
    """Pixel intensities as stored (0-255) and as the models see them (0-1)."""
    figure = new_figure(11, 4)
    raw_axis, scaled_axis = figure.subplots(1, 2)
    scaled = data.train.x.ravel()
    raw_axis.hist(np.rint(scaled * 255), bins=64, log=True, color="tab:grey")
    raw_axis.set(title="as stored (uint8)", xlabel="intensity", ylabel="pixels (log)")
    scaled_axis.hist(scaled, bins=64, log=True, color="tab:blue")
    scaled_axis.set(title="as the models see them (float32 in [0, 1])", xlabel="intensity")
    return figure


def mean_digits_figure(data: Mnist) -> Figure:
    """The mean training image of each digit."""
    figure = new_figure(12, 1.8)
    for digit, axis in enumerate(figure.subplots(1, N_CLASSES)):
        axis.imshow(data.train.images[data.train.y == digit].mean(axis=0)[:, :, 0], cmap="magma")
        axis.set_title(str(digit))
        axis.axis("off")
    figure.suptitle("mean image per digit")
    return figure


def embedding_figure(data: Mnist, seed: int, size: int = 3000) -> Figure:
    """A 2-D PCA projection of a random sample of training images, coloured by digit."""
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(data.train), size=min(size, len(data.train)), replace=False)
    points = PCA(n_components=2, random_state=seed).fit_transform(data.train.x[chosen])
    frame = pd.DataFrame({"PC 1": points[:, 0], "PC 2": points[:, 1], "digit": data.train.y[chosen].astype(str)})
    figure = new_figure(8, 7)
    axis = figure.subplots()
    sns.scatterplot(
        frame,
        x="PC 1",
        y="PC 2",
        hue="digit",
        hue_order=[str(d) for d in range(10)],
        s=8,
        palette="tab10",
        linewidth=0,
        ax=axis,
    )
    axis.set_title(f"PCA of {len(chosen)} training images")
    return figure
