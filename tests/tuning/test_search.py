"""The search engine's rules: TPE's start-up trials, proposals for a deep queue, and when the pruner
may stop a trial."""

from types import SimpleNamespace

import numpy as np
import pytest
from hyperopt import STATUS_OK, Trials, fmin

from mnist_mlops import models
from mnist_mlops.config import TuneConfig
from mnist_mlops.tuning.search import MIN_CURVES, pruner, startup_trials, suggest
from mnist_mlops.tuning.spaces import hyperopt_space


@pytest.mark.parametrize(("max_evals", "given", "expected"), [(4, None, 3), (12, None, 3), (40, None, 10),
                                                              (100, None, 10), (100, 25, 25)])  # fmt: skip
def test_startup_trials_are_a_quarter_of_the_budget_from_3_to_10(max_evals, given, expected):
    assert startup_trials(TuneConfig(family="knn", max_evals=max_evals, startup_trials=given)) == expected


def test_a_queue_of_four_gets_a_trial_for_every_id_past_the_startup_trials():
    config = TuneConfig(family="knn", max_evals=12, startup_trials=3)
    trials = Trials()
    fmin(lambda sample: {"status": STATUS_OK, "loss": float(np.random.rand())},
         hyperopt_space(models.family("knn").space), algo=suggest(config), max_evals=12, max_queue_len=4,
         trials=trials, rstate=np.random.default_rng(0), show_progressbar=False)  # fmt: skip
    assert [trial["tid"] for trial in trials.trials] == list(range(12))  # TPE alone fills one id per call


class Curves(SimpleNamespace):
    """A tracking stand-in that holds the other trials' validation curves and logs nothing."""

    def log_epoch(self, epoch, logs):
        pass

    def curves(self, metric, run_id):
        return self.others


@pytest.mark.parametrize("count", [1, MIN_CURVES - 1, MIN_CURVES])
def test_a_trial_below_the_median_is_pruned_only_against_enough_curves(count):
    config = TuneConfig(family="fast", epochs=5)
    pruned = []
    on_epoch_end = pruner(config, Curves(others=[[0.5, 0.9, 0.95]] * count), "run", pruned)
    stopped = on_epoch_end(2, {"val_accuracy": 0.2})  # the third epoch of five: past the grace epochs
    assert stopped == (count >= MIN_CURVES) and pruned == ([3] if count >= MIN_CURVES else [])


@pytest.mark.parametrize(("epochs", "first"), [(3, 2), (4, 2), (5, 3), (10, 5), (20, 10)])
def test_a_trial_trains_half_its_epochs_at_least_two_and_not_its_last_before_it_may_be_pruned(epochs, first):
    pruned = []
    on_epoch_end = pruner(TuneConfig(family="fast", epochs=epochs), Curves(others=[[0.9] * epochs] * 3), "run", pruned)
    stopped = [epoch + 1 for epoch in range(epochs) if on_epoch_end(epoch, {"val_accuracy": 0.2})]
    assert stopped[0] == first and stopped[-1] == epochs - 1 and pruned[0] == first
