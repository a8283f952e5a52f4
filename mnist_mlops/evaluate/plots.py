"""Figures in one seaborn style, drawn on matplotlib Figure objects (no pyplot global state)."""

import math
from typing import cast

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

THEME = {"style": "whitegrid", "context": "notebook", "palette": "deep"}


def new_figure(width: float, height: float) -> Figure:
    """Return an empty figure drawn in the project's seaborn theme."""
    sns.set_theme(**THEME)
    return Figure(figsize=(width, height), layout="constrained")


def reliability_figure(table: pd.DataFrame, bins: int, title: str) -> Figure:
    """Accuracy against confidence per bin (bars), with each bin's mean confidence (dots) and the
    diagonal a perfectly calibrated model keeps to."""
    figure = new_figure(6, 6)
    axes = figure.subplots()
    axes.bar((table.index + 0.5) / bins, table["accuracy"], width=1 / bins, edgecolor="white", label="accuracy")
    axes.plot(table["confidence"], table["accuracy"], "o", color="black", markersize=4, label="mean confidence")
    axes.plot([0, 1], [0, 1], "--", color="gray", label="perfect calibration")
    axes.set(xlabel="confidence (top probability)", ylabel="accuracy", xlim=(0, 1), ylim=(0, 1), title=title)
    axes.legend(loc="upper left")
    return figure


def confusion_figure(counts: pd.DataFrame, title: str) -> Figure:
    """Draw the confusion matrix twice: raw counts, and each row normalised to sum to 1."""
    figure = new_figure(15, 6.5)
    left, right = figure.subplots(1, 2)
    sns.heatmap(counts, annot=True, fmt="d", cmap="Blues", cbar=False, ax=left, annot_kws={"size": 8})
    left.set_title("counts")
    normalised = counts.div(counts.sum(axis=1).clip(lower=1), axis=0)
    sns.heatmap(normalised, annot=True, fmt=".2f", cmap="Blues", vmin=0, vmax=1, ax=right, annot_kws={"size": 8})
    right.set_title("row-normalised (recall on the diagonal)")
    figure.suptitle(title)
    return figure


def training_curves_figure(history: dict[str, list[float]], best_epoch: int) -> Figure:
    """Draw accuracy and loss per epoch, train against validation, marking the kept epoch."""
    figure = new_figure(12, 4.5)
    epochs = range(1, len(history["loss"]) + 1)
    for axis, name in zip(figure.subplots(1, 2), ("accuracy", "loss"), strict=True):
        curves = pd.DataFrame({"train": history[name], "validation": history[f"val_{name}"]}, index=epochs)
        long = curves.rename_axis("epoch").reset_index().melt("epoch", var_name="split", value_name=name)
        sns.lineplot(long, x="epoch", y=name, hue="split", marker="o", ax=axis)
        axis.axvline(best_epoch, color="grey", linestyle="--", label=f"kept (epoch {best_epoch})")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.legend()
        axis.set_title(name)
    return figure


def image_grid_figure(images: np.ndarray, captions: list[str], correct: np.ndarray, title: str) -> Figure:
    """Draw 28x28 images in a grid, each captioned in green when right and red when wrong.

    The tiles are one image on one Axes: forty Axes, one per digit, take seconds to render.
    """
    columns, tile_width, tile_height = 8, 36, 54  # pixels: a digit, and room above it for two caption lines
    rows = max(1, math.ceil(len(images) / columns))
    canvas = np.full((rows * tile_height, columns * tile_width), np.nan)  # NaN: left blank
    figure = new_figure(columns * 1.35, rows * 1.55 + 0.5)
    axis = figure.subplots()
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        top, left = (row + 1) * tile_height - 30, column * tile_width + 4
        canvas[top : top + 28, left : left + 28] = image.reshape(28, 28)
        colour = "tab:green" if correct[index] else "tab:red"
        axis.text(left + 13.5, top - 2, captions[index], ha="center", va="bottom", fontsize=8, color=colour)
    axis.imshow(canvas, cmap="gray_r", vmin=0, vmax=1)
    axis.axis("off")
    figure.suptitle(title)
    return figure


def misclassified_figure(x: np.ndarray, y: np.ndarray, proba: np.ndarray, count: int = 40) -> Figure:
    """Draw the most confident mistakes: true label, prediction and its probability."""
    pred, confidence = proba.argmax(axis=1), proba.max(axis=1)
    wrong = np.flatnonzero(pred != y)
    chosen = wrong[np.argsort(-confidence[wrong], kind="stable")][:count]
    captions = [f"true {y[i]}, said {pred[i]}\n{confidence[i]:.2f}" for i in chosen]
    title = f"{len(wrong)} of {len(y)} test images misclassified; the {len(chosen)} most confident mistakes"
    return image_grid_figure(x[chosen], captions, np.zeros(len(chosen), bool), title)


def predictions_figure(x: np.ndarray, y: np.ndarray, proba: np.ndarray, seed: int, count: int = 40) -> Figure:
    """Draw a seeded random sample of test images with the prediction and its probability."""
    chosen = np.sort(np.random.default_rng(seed).choice(len(y), size=min(count, len(y)), replace=False))
    pred, confidence = proba.argmax(axis=1), proba.max(axis=1)
    captions = [f"{pred[i]} ({confidence[i]:.2f})" for i in chosen]
    return image_grid_figure(x[chosen], captions, pred[chosen] == y[chosen], "sample test predictions")


def convergence_figure(history: pd.DataFrame, metric: str, maximise: bool) -> Figure:
    """Draw each trial's metric and the best so far against the trial number."""
    figure = new_figure(8, 4.5)
    axis = figure.subplots()
    done = history.dropna(subset=[metric])
    best = done[metric].cummax() if maximise else done[metric].cummin()
    sns.scatterplot(x=done["trial"], y=done[metric], ax=axis, label="trial", color="tab:grey")
    axis.step(done["trial"], best, where="post", label="best so far", color="tab:blue")
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set(xlabel="trial", ylabel=metric, title=f"{metric}: best so far")
    axis.legend()
    return figure


def hyperparameters_figure(history: pd.DataFrame, params: list[str], metric: str) -> Figure:
    """Draw the metric against each hyperparameter: scatter for numbers, strips for choices."""
    done = history.dropna(subset=[metric])
    columns = min(3, len(params))
    rows = math.ceil(len(params) / columns)
    figure = new_figure(5 * columns, 3.8 * rows)
    for axis, name in zip(figure.subplots(rows, columns, squeeze=False).flat, params, strict=False):
        values = done[name]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if numeric:
            sns.scatterplot(x=values, y=done[metric], ax=axis)
            if values.min() > 0 and values.max() / values.min() > 50:
                axis.set_xscale("log")
        else:
            sns.stripplot(x=values.astype(str), y=done[metric], ax=axis)
        axis.set(xlabel=name, ylabel=metric)
    for axis in list(figure.axes)[len(params) :]:
        axis.set_visible(False)
    return figure


def robustness_figure(table: pd.DataFrame, title: str, reference: str = "clean") -> Figure:
    """Horizontal bars of the accuracy under each corruption (or on each paper), worst at the bottom,
    with the reference's accuracy (clean images, plain paper) and the others' mean as lines."""
    others = table.drop(index=reference).sort_values("accuracy", ascending=False)
    figure = new_figure(8, 6)
    axis = figure.subplots()
    sns.barplot(x=others["accuracy"], y=others.index, ax=axis, color="tab:blue")
    axis.axvline(table.loc[reference, "accuracy"], color="tab:green", linestyle="--", label=reference)
    axis.axvline(others["accuracy"].mean(), color="tab:red", linestyle=":", label="mean of the others")
    axis.bar_label(cast(BarContainer, axis.containers[0]), fmt="%.3f", padding=2, fontsize=8)
    axis.set(xlabel="test accuracy", ylabel="", xlim=(0, 1.08), title=title)
    axis.legend(loc="lower left")
    return figure
