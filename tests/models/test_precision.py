"""The arithmetic a network trains in, and the moving average of its weights."""

import keras
import numpy as np
import pytest

from mnist_mlops import models
from mnist_mlops.config import TrainConfig
from mnist_mlops.models.arithmetic import choose, cpu_bfloat16, cpu_model
from mnist_mlops.models.precision import computing_in, in_float32
from mnist_mlops.models.recipe import resolve


def trained(small_mnist, **options):
    """The fast network trained one epoch with options, and the epoch's record."""
    family = models.family("fast")
    params = family.hyperparameters(TrainConfig(arch="fast", epochs=1, quiet=True, **options))
    classifier = family.build(params, seed=0)
    return classifier, classifier.fit(small_mnist.train, small_mnist.val, lambda epoch, logs: None)


@pytest.mark.parametrize(
    ("flags", "found"),
    [("fpu sse avx512f amx_bf16 amx_tile", ["amx_bf16"]), ("fpu avx512_bf16 amx_bf16", ["amx_bf16", "avx512_bf16"]),
     ("fpu avx2", [])],
)  # fmt: skip
def test_bfloat16_instructions_and_the_model_are_read_from_the_cpu_flags(tmp_path, flags, found):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nmodel name\t: a CPU\nflags\t\t: {flags}\n\nprocessor\t: 1\n")
    assert cpu_bfloat16(cpuinfo) == found and cpu_model(cpuinfo) == "a CPU"
    assert cpu_bfloat16(tmp_path / "absent") == []


def test_auto_is_the_arithmetic_chosen_for_this_cpu_and_the_global_policy_is_restored():
    assert resolve("auto") == choose().precision
    assert resolve("float32") == "float32"
    with computing_in("mixed_bfloat16") as precision:
        assert precision == "mixed_bfloat16" and keras.config.dtype_policy().name == "mixed_bfloat16"
    assert keras.config.dtype_policy().name == "float32"


def test_a_network_trained_in_bfloat16_predicts_in_float32_with_the_same_weights(small_mnist):
    classifier, epochs = trained(small_mnist, precision="mixed_bfloat16")
    assert classifier.recipe.precision == "mixed_bfloat16"
    assert {layer.dtype_policy.name for layer in classifier.estimator.layers} == {"float32"}
    family = models.family("fast")
    mixed = family.build(family.hyperparameters(TrainConfig(arch="fast", precision="mixed_bfloat16")), seed=0).estimator
    assert "mixed_bfloat16" in {layer.dtype_policy.name for layer in mixed.layers}
    mixed.set_weights(classifier.estimator.get_weights())
    copy = in_float32(mixed)
    assert all(np.array_equal(a, b) for a, b in zip(copy.get_weights(), mixed.get_weights(), strict=True))
    x = small_mnist.test.x[:200]
    exact, rounded = copy.predict(x, verbose=0), mixed.predict(x, verbose=0)
    assert 0 < np.abs(exact - rounded).max() < 0.1  # bfloat16 rounds; float32 does not
    assert (exact.argmax(axis=1) == rounded.argmax(axis=1)).mean() > 0.95
    assert epochs.history["val_accuracy"][-1] > 0.5


def test_with_a_moving_average_validation_scores_and_training_keeps_the_average(small_mnist):
    plain, _ = trained(small_mnist, precision="float32")
    averaged, epochs = trained(small_mnist, precision="float32", ema=0.9)
    val = small_mnist.val
    kept = (averaged.predict_proba(val.x).argmax(axis=1) == val.y).mean()
    assert kept == pytest.approx(epochs.history["val_accuracy"][-1], abs=1e-6)  # the weights validation scored
    assert not all(
        np.allclose(a, b) for a, b in zip(plain.estimator.get_weights(), averaged.estimator.get_weights(), strict=True)
    )
