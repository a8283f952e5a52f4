"""Keras network families: an architecture (a function returning its layers) and the recipe it
trains with by default. Architectures take flat 784-value rows of pixels in [0, 1] and reshape
them inside the model, so the logged model serves the same tabular rows the baselines do.

The architectures themselves are in models/architectures.py, each registered beside its layers.
TensorFlow loads when a network is first built, so the command line starts fast.
"""

import inspect
from dataclasses import asdict, fields, replace

from mnist_mlops.models.family import Family
from mnist_mlops.models.recipe import Recipe, resolve_params
from mnist_mlops.native_logs import import_tensorflow

# What a search over a network's training explores; architectures add their shape params. Not label
# smoothing: searches picked it for +0.1 points of val accuracy at most, and it left the best CNN's
# test probabilities ~9 points underconfident (test_ece 9.3%).
TRAINING_SPACE = {
    "learning_rate": ("loguniform", 5e-4, 1e-2),
    "batch_size": ("choice", [64, 128, 256]),
}


def network_family(architecture, recipe: dict, space: dict, key_params: tuple[str, ...]) -> Family:
    """A family whose model is architecture(**its shape params, seed=seed), trained as its recipe
    says (Recipe's defaults, with the architecture's own values over them) unless the config says otherwise.
    Its hyperparameters are TrainConfig fields of the same names."""
    shape = [name for name in inspect.signature(architecture).parameters if name != "seed"]
    training = [spec.name for spec in fields(Recipe)]

    def build(params: dict, seed: int):
        import_tensorflow()
        from mnist_mlops.models.keras_classifier import NetworkClassifier, seed_everything, use_every_core
        from mnist_mlops.models.precision import computing_in

        use_every_core()
        seed_everything(seed)  # before the layers draw their initial weights
        recipe = Recipe(**{name: params[name] for name in training})
        with computing_in(recipe.precision) as precision:
            network = architecture(**{name: params[name] for name in shape}, seed=seed)
        return NetworkClassifier(network, replace(recipe, precision=precision), seed)

    fields_ = {name: name for name in (*shape, *training)}
    defaults = {**asdict(Recipe()), **recipe}
    return Family(architecture.__name__, "keras", build, fields_, space, key_params, defaults, resolve_params)
