"""Figures in one seaborn style, drawn on matplotlib Figure objects (no pyplot global state)."""

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

THEME = {"style": "whitegrid", "context": "notebook", "palette": "deep"}


def new_figure(width: float, height: float) -> Figure:
    """Return an empty figure drawn in the project's seaborn theme."""
    sns.set_theme(**THEME)
    return Figure(figsize=(width, height), layout="constrained")


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
