"""Versions of mnist-digits described for people: a table of them, one line per version, and its
robustness figures."""

import numpy as np
import pandas as pd

from mnist_mlops import registry


def robustness_text(version: registry.ModelVersion) -> str:
    """A version's robust_mean_accuracy and its severity as the commands print them, or how to measure it."""
    tags = version.tags
    if "robust_mean_accuracy" not in tags and "robust_paper_mean_accuracy" not in tags:
        return f"not measured (mnist-mlops robustness --model-uri models:/{registry.MODEL_NAME}/{version.version})"
    said = []
    if "robust_mean_accuracy" in tags:
        said.append(f"{float(tags['robust_mean_accuracy']):.4f} (severity {tags.get('robust_severity', '?')})")
    if "robust_paper_mean_accuracy" in tags:
        said.append(f"on paper {float(tags['robust_paper_mean_accuracy']):.4f}")
    return ", ".join(said)


def version_text(reference: str) -> str:
    """A version in one line for people: number, aliases, family, val and test accuracy, its
    robustness and feedback figures where measured."""
    version = registry.resolve(reference)
    tags, named = version.tags, registry.aliases().get(str(version.version), [])
    said = [f"{registry.MODEL_NAME} version {version.version}" + "".join(f" @{alias}" for alias in sorted(named))]
    said.append(tags.get("model_family", ""))
    for split in ("val", "test"):
        if f"{split}_accuracy" in tags:
            said.append(f"{split} {float(tags[f'{split}_accuracy']):.2%}")
    if "robust_mean_accuracy" in tags or "robust_paper_mean_accuracy" in tags:
        said.append(f"robustness {robustness_text(version)}")
    if "feedback_accuracy" in tags:
        said.append(f"feedback {float(tags['feedback_accuracy']):.2%} of {tags.get('feedback_images', '?')}")
    return " · ".join(part for part in said if part)


def version_table() -> pd.DataFrame:
    """One row per version, newest first: aliases, source run, family, test accuracy and decision."""
    named = registry.aliases()
    rows = [
        {
            "version": int(v.version),
            "aliases": ",".join(sorted(named.get(str(v.version), []))),
            "run_id": v.run_id,
            "family": v.tags.get("model_family", ""),
            "test_accuracy": float(v.tags["test_accuracy"]) if "test_accuracy" in v.tags else np.nan,
            "decision": v.tags.get(registry.DECISION, ""),
        }
        for v in registry.versions()
    ]
    return pd.DataFrame(rows, columns=["version", "aliases", "run_id", "family", "test_accuracy", "decision"])
