"""TPE with its start-up scaled to the budget against random search, at 12 and at 40 trials, over
several seeds: the median best validation accuracy each reaches, and the default configuration's.
Run with `python -m bench.tuning [FAMILY [LIMIT [EPOCHS]]]` (default kNN on 10,000 images: a few
minutes on 2 cores). `python -m bench.tuning default` runs the default tune job instead (its family, 12
trials, all 60,000 images) at five seeds and compares its best with its default trial.

The searches run the tune job's engine (mnist_mlops/tuning/search.py): its objective, spaces,
warm start (trial 1 is the default configuration, for both algorithms) and TPE start-up rule. They
are not tracked in MLflow, which changes nothing in what they find. Selection is on validation.
"""

import statistics
import sys

import numpy as np
from hyperopt import Trials, fmin

from bench.common import write_report
from mnist_mlops import models
from mnist_mlops.config import ALGORITHMS, TuneConfig
from mnist_mlops.tuning.search import Untracked, make_objective, startup_trials, suggest
from mnist_mlops.tuning.spaces import hyperopt_space

SEEDS = (1, 2, 3, 4, 5)
BUDGETS = (12, 40)


def best_so_far(config: TuneConfig, seed: int) -> list[float]:
    """Run one search and return the best validation accuracy after each trial."""
    trials = Trials()
    fmin(
        make_objective(config, Untracked()),
        hyperopt_space(models.family(config.family).space),
        algo=suggest(config),
        max_evals=config.max_evals,
        trials=trials,
        rstate=np.random.default_rng(seed),
        show_progressbar=False,
    )
    losses = [np.inf if loss is None else loss for loss in trials.losses()]  # a failed trial counts as nothing
    return (-np.minimum.accumulate(losses)).round(4).tolist()


def main(family: str, limit: int, epochs: int) -> None:
    """Compare the median best validation accuracy of TPE and random search at each budget."""
    figures = {"family": family, "limit": limit, "epochs_per_network_trial": epochs, "seeds": list(SEEDS)}
    goals = []
    for budget in BUDGETS:
        runs = {}
        for algo in ALGORITHMS:
            config = TuneConfig(family=family, algo=algo, max_evals=budget, limit=limit, epochs=epochs, seed=42)
            runs[algo] = [best_so_far(config, seed) for seed in SEEDS]
        median = {algo: statistics.median(curve[-1] for curve in curves) for algo, curves in runs.items()}
        figures[f"{budget}_trials"] = {
            "tpe_startup_trials": startup_trials(TuneConfig(family=family, max_evals=budget)),
            "default_val_accuracy": runs["tpe"][0][0],
            "median_best_val_accuracy": median,
            "best_per_seed": {algo: [curve[-1] for curve in curves] for algo, curves in runs.items()},
            "median_best_so_far": {
                algo: np.median(np.array(curves), axis=0).round(4).tolist() for algo, curves in runs.items()
            },  # fmt: skip
        }
        goals.append((f"{budget} trials: TPE's median best minus random's (val accuracy)",
                      round(median["tpe"] - median["random"], 4), ">=", 0.0001))  # fmt: skip
        goals.append((f"{budget} trials: TPE's median best minus the default (val accuracy)",
                      round(median["tpe"] - runs["tpe"][0][0], 4), ">=", 0.0001))  # fmt: skip
    print(write_report(f"tuning_{family}", figures, goals).read_text())


def default_tune() -> None:
    """The default `tune` at each seed (its split, its subset and its search): default and best."""
    curves = {seed: best_so_far(TuneConfig(seed=seed), seed) for seed in SEEDS}
    figures = {
        "config": f"TuneConfig() defaults: {TuneConfig().family}, {TuneConfig().max_evals} trials, all training images",
        "default_val_accuracy": {seed: curve[0] for seed, curve in curves.items()},
        "best_val_accuracy": {seed: curve[-1] for seed, curve in curves.items()},
    }
    gains = [curve[-1] - curve[0] for curve in curves.values()]
    goals = [
        ("smallest gain of the best over the default (val accuracy)", round(min(gains), 4), ">=", 0.0),
        ("median gain of the best over the default (val accuracy)", round(statistics.median(gains), 4), ">=", 0.0001),
    ]
    print(write_report("tuning_default", figures, goals).read_text())


if __name__ == "__main__":
    arguments = sys.argv[1:]
    if arguments == ["default"]:
        default_tune()
    else:
        main(arguments[0] if arguments else "knn", int(arguments[1]) if len(arguments) > 1 else 10_000,
             int(arguments[2]) if len(arguments) > 2 else 3)  # fmt: skip
