"""TPE against random search on the same space and budget, over several seeds: the median best
validation accuracy against trial number. Run with `python -m bench.tuning [FAMILY]` (default
knn on a 10,000-image subset: about 6 minutes on 2 cores).

The trials use the tune job's spaces and fitting code; they are not tracked in MLflow, which
changes nothing in what the searches find.
"""

import sys

import numpy as np
from hyperopt import STATUS_OK, Trials, fmin

from bench.common import write_report
from mnist_mlops.config import TuneConfig
from mnist_mlops.data import load_mnist
from mnist_mlops.evaluate.metrics import split_metrics
from mnist_mlops.jobs.tune import ALGORITHMS, fit_params
from mnist_mlops.tuning.spaces import flatten, hyperopt_space

SEEDS = (1, 2, 3, 4, 5)
BUDGET = 40
LIMIT = 10_000


def best_so_far(config: TuneConfig, data, seed: int) -> list[float]:
    """Run one search and return the best validation accuracy after each trial."""

    def objective(sample: dict) -> dict:
        fitted = fit_params(config, flatten(sample), data, on_epoch_end=lambda epoch, logs: None)
        accuracy = split_metrics("val", data.val.y, fitted.predict_proba(data.val)[0])["val_accuracy"]
        return {"status": STATUS_OK, "loss": -accuracy}

    trials = Trials()
    fmin(
        objective,
        hyperopt_space(config.family),
        algo=ALGORITHMS[config.algo],
        max_evals=BUDGET,
        trials=trials,
        rstate=np.random.default_rng(seed),
        show_progressbar=False,
    )
    return (-np.minimum.accumulate([t["result"]["loss"] for t in trials.trials])).round(4).tolist()


def main(family: str) -> None:
    """Compare the median best-so-far curves of TPE and random search."""
    data = load_mnist(limit=LIMIT, seed=42)
    curves = {
        algo: [best_so_far(TuneConfig(family=family, algo=algo), data, seed) for seed in SEEDS] for algo in ALGORITHMS
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
