"""Keras network families. Each architecture takes flat 784-value rows of pixels in [0, 1] and
reshapes them inside the model, so the logged model serves the same tabular rows the baselines do.

Adding an architecture is one function that returns its list of layers, registered with
`register(network_family(...))` at the bottom, plus its test. TensorFlow loads when a network is
first built, so the command line starts fast.
"""

import inspect

from mnist_mlops.data import N_CLASSES, N_PIXELS
from mnist_mlops.models.family import Family, register

# How a network is trained: TrainConfig fields every network family reads besides its shape.
TRAINING = ("optimizer", "learning_rate", "weight_decay", "schedule", "batch_size", "epochs", "patience", "quiet")


def batch_norm_layer():
    """Batch normalisation whose moving statistics settle within a few hundred steps (momentum 0.9,
    not Keras' 0.99), so short and small-data runs also evaluate with sensible statistics."""
    from keras import layers

    return layers.BatchNormalization(momentum=0.9)


def augmentation(seed: int) -> list:
    """Small random shifts (up to 10% of the side, ~3 px) and rotations (up to 10 degrees);
    Keras applies them in training only, so inference sees the images as they are."""
    from keras import layers

    return [
        layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed),
        layers.RandomRotation(10 / 360, fill_mode="constant", seed=seed),
    ]


def mlp(hidden: tuple[int, ...], activation: str, dropout: float, batch_norm: bool, augment: bool, seed: int):
    """A multilayer perceptron: Dense blocks, each optionally batch-normalised, then dropout."""
    import keras
    from keras import layers

    blocks = []
    for units in hidden:
        # Batch norm sits between the linear layer and its activation, so Dense needs no bias.
        blocks += [layers.Dense(units, use_bias=not batch_norm)]
        blocks += [batch_norm_layer()] if batch_norm else []
        blocks += [layers.Activation(activation), layers.Dropout(dropout, seed=seed)]
    return keras.Sequential(
        [
            keras.Input(shape=(N_PIXELS,), name="pixels"),
            *([layers.Reshape((28, 28, 1)), *augmentation(seed), layers.Flatten()] if augment else []),
            *blocks,
            layers.Dense(N_CLASSES, activation="softmax", name="digit_probabilities"),
        ],
        name="mlp",
    )


def conv_block(filters: int, kernel_size: int, activation: str, batch_norm: bool, pool: str) -> list:
    """One same-padded convolution, then pooling that halves the image side: on a 2-core CPU this
    costs a third of the time of the two-convolution blocks of VGG-style nets."""
    from keras import layers

    pooling = {"max": layers.MaxPooling2D, "avg": layers.AveragePooling2D}[pool]
    block = [layers.Conv2D(filters, kernel_size, padding="same", use_bias=not batch_norm)]
    block += [batch_norm_layer()] if batch_norm else []
    return [*block, layers.Activation(activation), pooling(pool_size=2)]


def cnn(
    filters: tuple[int, ...],
    kernel_size: int,
    pool: str,
    dense: int,
    activation: str,
    dropout: float,
    batch_norm: bool,
    augment: bool,
    seed: int,
):
    """A convolutional network: conv blocks, then a dense head with dropout."""
    import keras
    from keras import layers

    blocks = [layer for units in filters for layer in conv_block(units, kernel_size, activation, batch_norm, pool)]
    return keras.Sequential(
        [
            keras.Input(shape=(N_PIXELS,), name="pixels"),
            layers.Reshape((28, 28, 1)),
            *(augmentation(seed) if augment else []),
            *blocks,
            layers.Flatten(),
            layers.Dropout(dropout, seed=seed),
            layers.Dense(dense, use_bias=not batch_norm),
            *([batch_norm_layer()] if batch_norm else []),
            layers.Activation(activation),
            layers.Dropout(dropout, seed=seed),
            layers.Dense(N_CLASSES, activation="softmax", name="digit_probabilities"),
        ],
        name="cnn",
    )


def network_family(architecture, space: dict, key_params: tuple[str, ...]) -> Family:
    """A family whose model is architecture(**its shape params, seed), trained as TRAINING says.
    Its hyperparameters are the TrainConfig fields of the same names."""
    shape = [name for name in inspect.signature(architecture).parameters if name != "seed"]

    def build(params: dict, seed: int):
        from mnist_mlops.models.keras_classifier import NetworkClassifier, seed_everything

        seed_everything(seed)  # before the layers draw their initial weights
        network = architecture(**{name: params[name] for name in shape}, seed=seed)
        return NetworkClassifier(network, **{name: params[name] for name in TRAINING})

    fields = {name: name for name in (*shape, *TRAINING)}
    return Family(architecture.__name__, "keras", build, fields, space, key_params)


register(
    network_family(
        mlp,
        space={
            "hidden": ("choice", [[256], [512], [256, 128], [512, 256], [1024, 512], [512, 256, 128]]),
            "activation": ("choice", ["relu", "gelu", "swish"]),
            "dropout": ("uniform", 0.0, 0.5),
            "batch_norm": ("choice", [True, False]),
            "optimizer": (
                "choice",
                [
                    {"optimizer": "adam", "learning_rate": ("loguniform", 3e-4, 1e-2)},
                    {
                        "optimizer": "adamw",
                        "learning_rate": ("loguniform", 3e-4, 1e-2),
                        "weight_decay": ("loguniform", 1e-5, 1e-2),
                    },
                    {"optimizer": "sgd", "learning_rate": ("loguniform", 1e-2, 2e-1)},
                ],
            ),
            "batch_size": ("choice", [64, 128, 256]),
        },
        key_params=("hidden", "dropout", "optimizer", "learning_rate", "epochs"),
    )
)
register(
    network_family(
        cnn,
        space={
            # 3x3 kernels and at most 128 filters: 5x5 kernels or 64 first-layer filters cost 2-5x
            # the time of an epoch on a 2-core CPU.
            "filters": ("choice", [[16, 32, 64], [32, 64], [32, 64, 128]]),
            "dense": ("int", 64, 256, 64),
            "dropout": ("uniform", 0.1, 0.5),
            "learning_rate": ("loguniform", 5e-4, 5e-3),
            "optimizer": (
                "choice",
                [{"optimizer": "adam"}, {"optimizer": "adamw", "weight_decay": ("loguniform", 1e-5, 1e-2)}],
            ),
            "augment": ("choice", [True, False]),
        },
        key_params=("filters", "dense", "dropout", "optimizer", "learning_rate", "epochs"),
    )
)
