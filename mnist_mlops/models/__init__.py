"""Model families: one registered object each (builder, config fields, search space, key params)
behind one Classifier interface. Importing this package registers the project's own families."""

from mnist_mlops.models import baselines, networks  # noqa: F401  (they register their families)
from mnist_mlops.models.family import FAMILIES, Classifier, Family, family, names, register

__all__ = ["FAMILIES", "Classifier", "Family", "family", "names", "register"]
