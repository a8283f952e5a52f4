"""TPE against random search on the same space and budget, over several seeds: the median best
validation accuracy against trial number. Run with `python -m bench.tuning [FAMILY]` (default
knn on a 10,000-image subset: about 6 minutes on 2 cores).

The searches run the tune job's engine (mnist_mlops/tuning/search.py) with its objective, spaces
and fitting code; they are not tracked in MLflow, which changes nothing in what they find.
"""

import sys

import numpy as np
from hyperopt import Trials, fmin

from bench.common import write_report
from mnist_mlops import models
from mnist_mlops.config import TuneConfig
from mnist_mlops.tuning.search import ALGORITHMS, Untracked, make_objective
from mnist_mlops.tuning.spaces import hyperopt_space

SEEDS = (1, 2, 3, 4, 5)
BUDGET = 40
LIMIT = 10_000


def best_so_far(config: TuneConfig, seed: int) -> list[float]:
    """Run one search and return the best validation accuracy after each trial."""
    trials = Trials()
    fmin(
        make_objective(config, Untracked()),
        hyperopt_space(models.family(config.family).space),
        algo=ALGORITHMS[config.algo],
        max_evals=BUDGET,
        trials=trials,
        rstate=np.random.default_rng(seed),
        show_progressbar=False,
    )
    losses = [np.inf if loss is None else loss for loss in trials.losses()]  # a failed trial counts as nothing
    return (-np.minimum.accumulate(losses)).round(4).tolist()


def main(family: str) -> None:
    """Compare the median best-so-far curves of TPE and random search."""
    curves = {
        algo: [best_so_far(TuneConfig(family=family, algo=algo, limit=LIMIT, seed=42), seed) for seed in SEEDS]
        for algo in ALGORITHMS
    }
    median = {algo: np.median(np.array(runs), axis=0) for algo, runs in curves.items()}
    random_best = float(median["random"][BUDGET - 1])
    reached = np.flatnonzero(median["tpe"] >= random_best)
    tpe_trials = int(reached[0]) + 1 if len(reached) else None
    figures = {
        "family": family,
        "limit": LIMIT,
        "seeds": list(SEEDS),
        "budget": BUDGET,
        "median_best_so_far": {algo: curve.round(4).tolist() for algo, curve in median.items()},
        "random_40_trial_median_best": random_best,
        "tpe_trials_to_reach_it": tpe_trials,
        "per_seed": curves,
    }
    goals = [
        (
            f"TPE trials to reach random search's {BUDGET}-trial best (median of {len(SEEDS)} seeds)",
            tpe_trials if tpe_trials is not None else BUDGET + 1,
            "<=",
            20,
        )
    ]
    print(write_report("tuning", figures, goals).read_text())


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "knn")
