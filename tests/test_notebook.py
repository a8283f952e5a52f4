"""notebooks/tour.ipynb, executed end to end on a small subset as a learner would run it."""

from pathlib import Path

import mlflow
import nbformat
import pytest
from nbclient import NotebookClient

TOUR = Path(__file__).resolve().parents[1] / "notebooks" / "tour.ipynb"


@pytest.mark.slow
def test_the_tour_runs_end_to_end_and_shows_its_figures(tracking_store, tmp_path, monkeypatch):
    monkeypatch.setenv("TOUR_LIMIT", "1000")
    notebook = nbformat.read(TOUR, as_version=4)
    folder = {"metadata": {"path": str(tmp_path)}}  # the kernel's working folder
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources=folder).execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    figures = [output for output in outputs if "image/png" in output.get("data", {})]
    assert len(figures) == 4  # digits, class balance, the trials, the champion's answers
    text = "".join(output.get("text", "") for output in outputs)
    assert "registry: version 1" in text and "of 12 right" in text
    runs = mlflow.search_runs(experiment_names=["tour"])
    assert (runs["status"] == "FINISHED").all() and len(runs) >= 6  # knn, fast, a search with 4 trials
    right = int(text.split(" of 12 right")[0].split()[-1])
    assert right >= 9, text[-500:]
