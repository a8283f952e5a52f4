"""Job configs check themselves, and the command line offers exactly their fields."""

from dataclasses import fields

import pytest

from mnist_mlops.cli import cli
from mnist_mlops.config import BaselineConfig, ExploreConfig, PipelineConfig, TrainConfig, TuneConfig, recipe_values
from mnist_mlops.errors import MnistMlopsError

COMMANDS = {"baseline": BaselineConfig, "train": TrainConfig, "tune": TuneConfig, "pipeline": PipelineConfig,
            "explore": ExploreConfig}  # fmt: skip


@pytest.mark.parametrize(
    ("config", "changes", "message"),
    [
        (BaselineConfig, {"k": 0}, "--k 0: not in the range x>=1"),
        (BaselineConfig, {"model": "svm"}, "--model 'svm': choose one of dummy, logreg, knn, rf, all"),
        (BaselineConfig, {"C": 0.0}, "--C 0.0: not in the range x>0"),
        (BaselineConfig, {"val_fraction": 1.5}, "--val-fraction 1.5: not in the range 0<x<1"),
        (BaselineConfig, {"limit": -3}, "--limit -3: not in the range x>=1"),
        (TrainConfig, {"arch": "rnn"}, "--arch 'rnn': choose one of mlp, cnn, fast, lenet5, deep, resnet"),
        (TrainConfig, {"hidden": (64, 0)}, "--hidden (64, 0): not in the range x>=1"),
        (TrainConfig, {"dropout": 1.0}, "--dropout 1.0: not in the range 0<=x<1"),
        (TuneConfig, {"metric": "test_accuracy"}, "selects by validation metrics, never by test"),
        (TuneConfig, {"parallelism": 2}, "--parallelism above 1 and --spark-master need --backend spark"),
        (PipelineConfig, {"tune_family": "dummy"}, "--tune-family 'dummy': choose one of logreg, knn, rf, mlp"),
    ],
)
def test_a_bad_value_is_a_one_line_error_on_construction(config, changes, message):
    with pytest.raises(MnistMlopsError) as raised:
        config(**changes)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_defaults_and_unset_values_are_accepted():
    assert TrainConfig().arch == "cnn" and BaselineConfig(limit=None, max_depth=None).max_depth is None
    assert TuneConfig(backend="spark", parallelism=2).parallelism == 2


@pytest.mark.parametrize("command", COMMANDS)
def test_every_field_is_an_option_with_its_default(command):
    config = COMMANDS[command]()
    parsed = cli.get_command(None, command).make_context(command, []).params
    assert set(parsed) == {spec.name for spec in fields(config)}
    for spec in fields(config):
        assert parsed[spec.name] == getattr(config, spec.name), spec.name


def test_the_training_options_help_lists_each_architectures_recipe():
    """Read from the registered families, so a recipe changed in one place shows in --help."""
    assert recipe_values("epochs") == "10; fast 2, deep 20"
    assert recipe_values("learning_rate") == "0.003; cnn 0.0054, fast 0.01"
    assert recipe_values("dropout") == "mlp 0.3, cnn 0.18"  # a shape option only mlp and cnn have
    helps = {option.name: option.help for option in cli.get_command(None, "train").params}
    assert helps["augment"].endswith("[recipe: true; fast false]") and helps["optimizer"].endswith("[recipe: adam]")
