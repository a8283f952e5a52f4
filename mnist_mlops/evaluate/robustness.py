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


def scores(digits: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """The share of digits answered right, and of images refused."""
    return {"accuracy": float(np.mean(digits == labels)), "refused": float(np.mean(digits == REFUSED))}


def accuracy_report(rows: dict, index: str, reference: str, prefix: str, csv: str) -> tuple[Report, float]:
    """A report of {prefix}_{row}_accuracy per row, {prefix}_mean_accuracy over the rows but the
    reference (clean images, plain paper), and the table; with that mean."""
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis(index)
    mean = float(table.drop(index=reference)["accuracy"].mean())
    report = Report(tables={csv: table})
    report.metrics = {f"{prefix}_{name}_accuracy": row.accuracy for name, row in table.iterrows()}
    report.metrics[f"{prefix}_mean_accuracy"] = mean
    return report, mean


def robustness_report(digits_of: DigitsOf, images: np.ndarray, labels: np.ndarray, severity: int, seed: int) -> Report:
    """Score a model on clean and corrupted copies of the images: robust_{corruption}_accuracy,
    robust_mean_accuracy over the corruptions, robust_clean_accuracy, a table, examples and a chart."""
    rows, shown, answers = {}, [], []
    for name in ("clean", *CORRUPTIONS):
        batch = images if name == "clean" else corrupt(name, images, severity, seed)
        digits = digits_of(batch)
        rows[name] = scores(digits, labels)
        shown.append(batch[:EXAMPLES])
        answers.append(digits[:EXAMPLES])
    report, mean = accuracy_report(rows, "corruption", "clean", "robust", "robustness.csv")
    table = report.tables["robustness.csv"]
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
        rows[kind] = scores(digits, labels)
    report, mean = accuracy_report(rows, "paper", "plain", "robust_paper", "robustness_paper.csv")
    table = report.tables["robustness_paper.csv"]
    title = f"{len(labels)} test digits photographed on paper: mean accuracy {mean:.4f} off plain paper"
    report.figures["robustness_paper.png"] = robustness_figure(table, title, reference="plain")
    return report
