"""Keras network families: an architecture (a function returning its layers) and the recipe it
trains with by default. Architectures take flat 784-value rows of pixels in [0, 1] and reshape
them inside the model, so the logged model serves the same tabular rows the baselines do.

The architectures themselves are in models/architectures.py, each registered beside its layers.
TensorFlow loads when a network is first built, so the command line starts fast.
"""

import inspect
import math
from dataclasses import asdict, dataclass, fields, replace

from mnist_mlops.models.family import Family
from mnist_mlops.native_logs import import_tensorflow


@dataclass(frozen=True)
class Recipe:
    """How a network is trained (the TrainConfig fields of the same names): these defaults, with
    each architecture's own recipe over them, where the config leaves a field unset."""

    optimizer: str = "adam"  # adam, adamw or sgd
    learning_rate: float = 3e-3  # the initial rate; one-cycle: the peak
    weight_decay: float = 1e-4  # adamw only
    schedule: str = "onecycle"  # constant, cosine, onecycle or plateau
    batch_size: int = 128
    epochs: int = 10  # the most epochs; early stopping or the target may end sooner
    patience: int = 5  # epochs without a lower val_loss before stopping
    augment: bool = True  # random rotation, zoom and shift of the training images
    label_smoothing: float = 0.0  # share of each label's weight spread over the other digits
    ema: float = 0.0  # momentum of a moving average of the weights that validation uses and training keeps (0: none)
    precision: str = "auto"  # float32, or mixed_bfloat16 for training; auto: mixed_bfloat16 where the CPU has it
    target_accuracy: float | None = None  # stop at the first epoch whose val_accuracy reaches it
    quiet: bool = False  # no progress bar


# What a search over a network's training explores; architectures add their shape params. Not label
# smoothing: searches picked it for +0.1 points of val accuracy at most, and it left the best CNN's
# test probabilities ~9 points underconfident (test_ece 9.3%).
TRAINING_SPACE = {
    "learning_rate": ("loguniform", 5e-4, 1e-2),
    "batch_size": ("choice", [64, 128, 256]),
}


def forward_flops(network) -> float:
    """Floating-point operations of one image's forward pass through the convolutions and dense
    layers (a multiply-add counts two); the rest (normalisation, pooling, activations) is small."""
    total = 0
    for layer in network._flatten_layers(include_self=False, recursive=True):
        kernel = getattr(layer, "kernel", None)
        if kernel is None or type(layer).__name__ not in ("Conv2D", "Dense"):
            continue
        positions = math.prod(layer.output.shape[1:-1])  # output pixels of a convolution; 1 for Dense
        total += 2 * math.prod(kernel.shape) * positions
    return float(total)


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
    return Family(architecture.__name__, "keras", build, fields_, space, key_params, defaults)
