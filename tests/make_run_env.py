"""The virtual environment `make run` makes, without making it: the distributions its install line
in the Makefile brings, resolved in this environment's metadata, and the environment variables under
which every other installed distribution can neither be imported nor found (tests/make_run_site)."""

import re
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import REPO

SITE = REPO / "tests" / "make_run_site"


def make_run_install() -> Requirement:
    """What the Makefile's `$(INSTALLED)` recipe installs from the clone, as a requirement with its extras."""
    recipe = re.search(r"^\$\(INSTALLED\):.*\n((?:\t.*\n)+)", (REPO / "Makefile").read_text(), re.M).group(1)
    target = re.search(r"pip install .*-e ['\"]?\.(\[[\w,]+\])?['\"]?\s*$", recipe, re.M)
    return Requirement(f"mnist-mlops{target.group(1) or ''}")


def closure(root: Requirement) -> set[str]:
    """The canonical names of root and of every installed distribution it requires, markers and extras applied."""
    found: set[str] = set()
    pending = [root]
    seen: set[tuple[str, frozenset]] = set()
    while pending:
        requirement = pending.pop()
        key = (canonicalize_name(requirement.name), frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        try:
            distribution = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            continue  # required only on other platforms or Pythons
        found.add(key[0])
        for line in distribution.requires or []:
            needed = Requirement(line)
            extras = requirement.extras or {""}
            if needed.marker is None or any(needed.marker.evaluate({"extra": extra}) for extra in extras):
                pending.append(needed)
    return found


def hidden_distributions() -> set[str]:
    """Installed here, but not by `make run`: the test tools, Spark, the PostgreSQL driver and their needs."""
    installed = {canonicalize_name(dist.metadata["Name"]) for dist in metadata.distributions()}
    return installed - closure(make_run_install()) - {"pip"}  # `python -m venv` brings pip


def make_run_env() -> dict[str, str]:
    """Variables that make a Python of this environment see only what `make run` installs."""
    hidden = hidden_distributions()
    modules = {module for module, names in metadata.packages_distributions().items()
               if all(canonicalize_name(name) in hidden for name in names)}  # fmt: skip
    return {"PYTHONPATH": str(SITE), "MAKE_RUN_HIDDEN": ",".join(sorted(hidden)),
            "MAKE_RUN_HIDDEN_MODULES": ",".join(sorted(modules))}  # fmt: skip
