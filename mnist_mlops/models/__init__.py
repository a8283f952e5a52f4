"""Model families: one registered object each (builder, config fields, search space, key params)
behind one Classifier interface. Importing this package registers the project's own families:
the scikit-learn baselines first, then the Keras architectures."""

from mnist_mlops.models import baselines  # noqa: F401

# isort: split
from mnist_mlops.models import architectures  # noqa: F401
from mnist_mlops.models.family import FAMILIES, Classifier, Family, family, model_name, names, register

__all__ = ["FAMILIES", "Classifier", "Family", "family", "model_name", "names", "register"]
