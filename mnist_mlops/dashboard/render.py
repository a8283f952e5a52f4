"""Writing the dashboard: charts drawn in the project's style, one offline HTML page."""

import base64
import io
from pathlib import Path

import jinja2
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from mnist_mlops.dashboard.collect import DashboardData, Search
from mnist_mlops.evaluate.plots import new_figure

TEMPLATE = Path(__file__).with_name("page.html.j2")


def png_data_uri(content: bytes | Figure) -> str:
    """An image as a data: URI, so the page needs no file beside it and no network."""
    if isinstance(content, Figure):
        stream = io.BytesIO()
        content.savefig(stream, format="png", dpi=90)
        content = stream.getvalue()
    return "data:image/png;base64," + base64.b64encode(content).decode()


def best_per_family_figure(board: pd.DataFrame) -> Figure:
    """Bars of the best run's validation and test accuracy in each family (chosen by validation)."""
    best = board.sort_values("val_accuracy", ascending=False).groupby("family", sort=False).head(1)
    long = best.melt(id_vars="family", value_vars=["val_accuracy", "test_accuracy"], var_name="split",
                     value_name="accuracy")  # fmt: skip
    figure = new_figure(9, 4.5)
    axis = figure.subplots()
    sns.barplot(long, x="family", y="accuracy", hue="split", ax=axis)
    axis.set_ylim(max(0.0, long["accuracy"].min() - 0.05), 1.0)
    axis.set_title("best run per family (chosen by validation accuracy)")
    return figure


def tuning_figure(family: str, family_searches: list[Search]) -> Figure:
    """Best-so-far curves of every search of a family, TPE and random search overlaid."""
    figure = new_figure(8, 4.5)
    axis = figure.subplots()
    for search in family_searches:
        trials = search.trials.sort_values("trial")
        best = trials[search.metric].cummin() if search.metric.endswith("loss") else trials[search.metric].cummax()
        axis.step(trials["trial"], best, where="post", label=f"{search.name} ({search.algo})")
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set(xlabel="trial", ylabel=family_searches[0].metric, title=f"{family}: best so far")
    axis.legend()
    return figure


def render(data: DashboardData) -> str:
    """The dashboard page as HTML."""
    board = data.leaderboard
    links = [f"{data.ui_url}/#/experiments/{row.experiment_id}/runs/{row.run_id}" if data.ui_url else None
             for row in board.itertuples()]  # fmt: skip
    families = sorted({s.family for s in data.searches})
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE.parent), autoescape=True)
    return environment.get_template(TEMPLATE.name).render(
        data=data,
        rows=list(zip(board.to_dict("records"), links, strict=True)),
        best_chart=png_data_uri(best_per_family_figure(board)) if len(board) else None,
        tuning_charts=[
            (f, png_data_uri(tuning_figure(f, [s for s in data.searches if s.family == f]))) for f in families
        ],  # fmt: skip
        hyperparameter_charts=[
            (s.name, png_data_uri(s.hyperparameters_png)) for s in data.searches if s.hyperparameters_png
        ],  # fmt: skip
        champion_figures={
            name: png_data_uri(content) for name, content in (data.champion.figures.items() if data.champion else [])
        },  # fmt: skip
        monitoring_figures={
            name: png_data_uri(content)
            for name, content in (data.monitoring.figures.items() if data.monitoring else [])
        },
    )


def write(data: DashboardData, out: Path) -> Path:
    """Write out/index.html and return its path."""
    out.mkdir(parents=True, exist_ok=True)
    page = out / "index.html"
    page.write_text(render(data), encoding="utf-8")
    return page
