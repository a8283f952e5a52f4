"""The robustness reports: a model's test accuracy under each corruption of evaluate/corruptions.py,
and on each kind of paper of evaluate/paper.py."""

from collections.abc import Callable

import numpy as np
import pandas as pd

from mnist_mlops.evaluate.corruptions import CORRUPTIONS, corrupt
from mnist_mlops.evaluate.paper import PAPERS, on_kind
from mnist_mlops.evaluate.plots import image_grid_figure, robustness_figure
from mnist_mlops.evaluate.report import Report

REFUSED = -1  # the digit of an image the model refused to answer (no digit found)
EXAMPLES = 8  # images per corruption in the grid of examples

DigitsOf = Callable[[np.ndarray], np.ndarray]  # (n, 28, 28) pixels in [0, 1] -> n digits, REFUSED where none
PhotosOf = Callable[[list[bytes]], np.ndarray]  # n encoded images -> n digits, REFUSED where not one


def robustness_report(digits_of: DigitsOf, images: np.ndarray, labels: np.ndarray, severity: int, seed: int) -> Report:
    """Score a model on clean and corrupted copies of the images: robust_{corruption}_accuracy,
    robust_mean_accuracy over the corruptions, robust_clean_accuracy, a table, examples and a chart."""
    rows, shown, answers = {}, [], []
    for name in ("clean", *CORRUPTIONS):
        batch = images if name == "clean" else corrupt(name, images, severity, seed)
        digits = digits_of(batch)
        rows[name] = {"accuracy": float(np.mean(digits == labels)), "refused": float(np.mean(digits == REFUSED))}
        shown.append(batch[:EXAMPLES])
        answers.append(digits[:EXAMPLES])
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("corruption")
    mean = float(table.drop(index="clean")["accuracy"].mean())
    report = Report(tables={"robustness.csv": table})
    report.metrics = {f"robust_{name}_accuracy": row.accuracy for name, row in table.iterrows()}
    report.metrics["robust_mean_accuracy"] = mean
    title = f"severity {severity}: mean accuracy {mean:.4f} over {len(CORRUPTIONS)} corruptions"
    report.figures["robustness_accuracy.png"] = robustness_figure(table, title)
    captions = [f"{name}\n{'none' if digit == REFUSED else digit}" for name, said in zip(rows, answers, strict=True)
                for digit in said]  # fmt: skip
    correct = np.concatenate(answers) == np.tile(labels[:EXAMPLES], len(rows))
    title = f"the first {EXAMPLES} test images under each corruption, and the model's answer"
    report.figures["robustness_examples.png"] = image_grid_figure(np.concatenate(shown), captions, correct, title)
    return report


def paper_report(digits_of: PhotosOf, images: np.ndarray, labels: np.ndarray, seed: int) -> Report:
    """Score a model on the images drawn onto each kind of paper and photographed:
    robust_paper_{kind}_accuracy, robust_paper_mean_accuracy over the kinds other than plain, a table
    and a chart."""
    rows = {}
    for kind in PAPERS:
        digits = digits_of(on_kind(kind, images, seed))
        rows[kind] = {"accuracy": float(np.mean(digits == labels)), "refused": float(np.mean(digits == REFUSED))}
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("paper")
    mean = float(table.drop(index="plain")["accuracy"].mean())
    report = Report(tables={"robustness_paper.csv": table})
    report.metrics = {f"robust_paper_{kind}_accuracy": row.accuracy for kind, row in table.iterrows()}
    report.metrics["robust_paper_mean_accuracy"] = mean
    title = f"{len(labels)} test digits photographed on paper: mean accuracy {mean:.4f} off plain paper"
    report.figures["robustness_paper.png"] = robustness_figure(table, title, reference="plain")
    return report
