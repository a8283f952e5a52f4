"""The main job as a user runs it: a console that says what it does and found, and nothing else."""

import os
import re
import subprocess
import sys

import mlflow
import pytest

NOISE = re.compile(r"warning|traceback|error|^[IWEF]\d{4} ", re.IGNORECASE | re.MULTILINE)


@pytest.mark.slow
def test_a_small_main_job_prints_its_stages_and_no_warning(tracking_store, tmp_path):
    command = [sys.executable, "-m", "mnist_mlops", "pipeline", "--limit", "1000", "--epochs", "1",
               "--max-evals", "2", "--arch", "fast", "--quiet"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=dict(os.environ), timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert NOISE.search(done.stderr) is None, done.stderr
    for stage in ("baseline logreg: val_accuracy", "fast: registered as version 1", "tuned knn (trial",
                  "robustness of models:/mnist-digits@champion: robust_mean_accuracy"):  # fmt: skip
        assert stage in done.stderr
    assert "the champion under corruption: robust_mean_accuracy=" in done.stdout
    models = mlflow.search_logged_models(
        experiment_ids=[mlflow.get_experiment_by_name("mnist-mlops").experiment_id],
        order_by=[{"field_name": "metrics.val_accuracy", "ascending": False}],
        output_format="list",
    )
    # the four baselines, the network, the tuned kNN, and the serving models of the two registered
    assert sorted(model.name for model in models) == ["model"] * 6 + ["serving_model"] * 2
    ranked = []
    for model in models:
        metrics = {metric.key: metric for metric in model.metrics}
        assert {"val_accuracy", "test_accuracy"} <= set(metrics), model.name
        assert metrics["val_accuracy"].dataset_name == "mnist-val"
        ranked.append(metrics["val_accuracy"].value)
    assert ranked == sorted(ranked, reverse=True)
