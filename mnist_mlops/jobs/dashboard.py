"""The dashboard job: read the tracking store and write the static comparison page."""

from pathlib import Path

from mnist_mlops import tracking
from mnist_mlops.dashboard.collect import collect
from mnist_mlops.dashboard.render import write


def build_dashboard(experiments: list[str], out: Path) -> Path:
    """Write out/index.html for the experiments (all of them when none are named)."""
    tracking.use_tracking_uri()
    return write(collect(experiments), out)
