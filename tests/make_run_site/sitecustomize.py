"""Run by every Python started with this folder on PYTHONPATH (tests/make_run_env.py): the
distributions named in $MAKE_RUN_HIDDEN, which `make run` does not install, can neither be imported
nor found, as in the virtual environment `make run` makes."""

import os
import re
import sys
from importlib.machinery import PathFinder

HIDDEN = frozenset(os.environ.get("MAKE_RUN_HIDDEN", "").split(","))
HIDDEN_MODULES = frozenset(os.environ.get("MAKE_RUN_HIDDEN_MODULES", "").split(","))


class MakeRunPathFinder:
    """sys.path's finder, blind to the hidden distributions and to their modules."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        """None for a hidden module, as when it is not installed; else what PathFinder finds."""
        if fullname.partition(".")[0] in HIDDEN_MODULES:
            return None
        return PathFinder.find_spec(fullname, path, target)

    @staticmethod
    def find_distributions(*args, **kwargs):
        """The installed distributions but the hidden ones (importlib.metadata asks this)."""
        for distribution in PathFinder.find_distributions(*args, **kwargs):
            if re.sub(r"[-_.]+", "-", distribution.metadata["Name"]).lower() not in HIDDEN:
                yield distribution

    @staticmethod
    def invalidate_caches():
        """As PathFinder's."""
        PathFinder.invalidate_caches()


sys.meta_path[:] = [MakeRunPathFinder if finder is PathFinder else finder for finder in sys.meta_path]
