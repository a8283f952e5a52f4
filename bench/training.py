"""Network training on full MNIST: every architecture's size, seconds per epoch, test accuracy
after its recipe's epochs and peak memory; the fast network's time to 99% test accuracy; the
default CNN's seconds per epoch (the median of its second to fifth) before the training-loop
change and after it, in float32 and in mixed bfloat16, in the same run, and whether `precision:
auto` chose the faster of the two on this CPU (the report names its choice, the CPU model and its
bfloat16 instructions); what each training choice changes on its own (the default CNN with one
option changed); and the best single model, chosen on validation among the zoo's largest networks
and recipes trained longer.

Run with `python -m bench.training [cnn] [fast] [choices] [zoo] [long]` (all: about 80 minutes on 2 cores;
the figures of a part not named are kept from the last run). Each training runs untracked in a
fresh process (`python -m bench.training --one ARCH SEED EPOCHS OPTIONS`), so its peak memory is its
own. The test set is scored after every epoch only to report the time to 99%; nothing is chosen
by it. The "before" CNN epochs run the package as it was at BEFORE (git archive).
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from bench.common import REPO, RESULTS, write_report
from mnist_mlops.models import arithmetic

BEFORE = "d45c2a6"  # the last commit with the old training loop (Keras augmentation layers, no tf.data)
SEEDS = (1, 2, 3, 4, 5)
CNN_EPOCHS = 5  # of the default CNN, before and after: the first builds the graphs, the median of the others counts
CHOICES = {  # the default CNN, and with one training option changed
    "default": {},
    "ema 0.99": {"ema": 0.99},
    "label smoothing 0.1": {"label_smoothing": 0.1},
    "constant rate": {"schedule": "constant"},
    "no augmentation": {"augment": False},
    "float32": {"precision": "float32"},
}
CANDIDATES = ("deep", "resnet")  # of the zoo; the best single model is the candidate with the best val accuracy
LONG = {  # more candidates, part "long": a recipe trained longer, with no early stop during the one-cycle peak
    "cnn, 30 epochs": ("cnn", 30),
    "deep, 23 epochs": ("deep", 23),  # 9.5 of the 15 minutes at 25 s an epoch; 15 at 39 s, as on a slow day
}


def one(arch: str, seed: int, epochs: int | None, options: dict) -> dict:
    """Train one network untracked (options: other TrainConfig fields), scoring val and test after
    each epoch; return its figures."""
    import resource

    from mnist_mlops import models
    from mnist_mlops.config import TrainConfig
    from mnist_mlops.data import load_mnist

    data = load_mnist(seed=seed)
    family = models.family(arch)
    params = family.hyperparameters(TrainConfig(arch=arch, epochs=epochs, seed=seed, quiet=True, **options))
    classifier = family.build(params, seed)
    curve, marks = [], {"last": time.perf_counter(), "training": 0.0}

    def after_epoch(epoch: int, logs: dict) -> None:
        marks["training"] += time.perf_counter() - marks["last"]
        test = float((classifier.predict_proba(data.test.x).argmax(axis=1) == data.test.y).mean())
        curve.append({"epoch": epoch + 1, "training_seconds": round(marks["training"], 2),
                      "val_accuracy": round(logs["val_accuracy"], 4), "test_accuracy": round(test, 4)})  # fmt: skip
        marks["last"] = time.perf_counter()

    marks["last"] = time.perf_counter()
    best_epoch = classifier.fit(data.train, data.val, after_epoch).best
    kept = float((classifier.predict_proba(data.test.x).argmax(axis=1) == data.test.y).mean())
    return {
        "arch": arch,
        "seed": seed,
        "recipe": {key: value for key, value in {**params, **classifier.params()}.items() if key != "quiet"},
        **classifier.size(),
        "epochs_run": len(curve),
        "best_epoch": best_epoch,
        "seconds_per_epoch": round(marks["training"] / len(curve), 2),
        "training_seconds": round(marks["training"], 1),
        "val_accuracy": curve[best_epoch - 1]["val_accuracy"],  # both of the kept (best val_loss) weights
        "test_accuracy": round(kept, 4),
        "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
        "per_epoch": curve,
    }


def in_process(arch: str, seed: int = 1, epochs: int | None = None, **options) -> dict:
    """Run one() in a fresh Python process."""
    command = [sys.executable, "-m", "bench.training", "--one", arch, str(seed), str(epochs or 0), json.dumps(options)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    output = subprocess.run(command, cwd=REPO, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(output.splitlines()[-1])


def epoch_seconds(ends: list[float]) -> dict:
    """The first epoch's seconds (it builds the TensorFlow graphs) and the median of the others',
    from the start time and each epoch's end."""
    seconds = [later - earlier for earlier, later in zip(ends[:-1], ends[1:], strict=True)]
    return {"first_epoch": round(seconds[0], 2), "seconds_per_epoch": round(statistics.median(seconds[1:]), 2)}


def before_cnn_epochs() -> dict:
    """Seconds of the default CNN's epochs with the package as it was at BEFORE."""
    program = (
        "import time, json; from mnist_mlops.config import TrainConfig; from mnist_mlops.data import load_mnist;"
        "from mnist_mlops.train.candidates import fit_network;"
        "data = load_mnist(seed=1); ends = [time.perf_counter()];"
        f"fit_network(TrainConfig(arch='cnn', epochs={CNN_EPOCHS}, seed=1, quiet=True), data,"
        " lambda e, l: ends.append(time.perf_counter()));"
        "print(json.dumps(ends))"
    )
    with tempfile.TemporaryDirectory() as folder:
        archive = subprocess.run(["git", "archive", BEFORE, "mnist_mlops"], cwd=REPO, check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", folder], input=archive.stdout, check=True)
        env = {**os.environ, "PYTHONPATH": folder}
        output = subprocess.run(  # in the archive's folder: the working tree's package must not shadow it
            [sys.executable, "-c", program], cwd=folder, env=env, check=True, capture_output=True, text=True
        )
    return epoch_seconds(json.loads(output.stdout.splitlines()[-1]))


def after_cnn_epochs(**options) -> dict:
    """Seconds of the default CNN's epochs with the package as it is."""
    run = in_process("cnn", epochs=CNN_EPOCHS, **options)
    return epoch_seconds([0.0, *(point["training_seconds"] for point in run["per_epoch"])])


def measure(part: str) -> dict:
    """One part of the benchmark: the zoo, recipes trained longer, the fast network over seeds, the
    CNN's training choices, or the CNN's epochs before and after."""
    from mnist_mlops import models

    if part == "zoo":
        return {arch: in_process(arch) for arch in models.names("keras")}
    if part == "long":
        return {name: in_process(arch, epochs=epochs, patience=epochs) for name, (arch, epochs) in LONG.items()}
    if part == "fast":
        runs = [in_process("fast", seed) for seed in SEEDS]
        to_99 = [next((p["training_seconds"] for p in run["per_epoch"] if p["test_accuracy"] >= 0.99), None)
                 for run in runs]  # fmt: skip
        reached = [seconds for seconds in to_99 if seconds is not None]
        return {"seconds_to_99_test_per_seed": to_99, "test_accuracy_per_seed": [run["test_accuracy"] for run in runs],
                "median_seconds_to_99_test": statistics.median(reached) if len(reached) == len(SEEDS) else None,
                "range": [min(reached), max(reached)] if reached else None}  # fmt: skip
    if part == "choices":
        keep = ("val_accuracy", "test_accuracy", "best_epoch", "seconds_per_epoch", "training_seconds")
        runs = {name: in_process("cnn", **options) for name, options in CHOICES.items()}
        return {name: {key: run[key] for key in keep} for name, run in runs.items()}
    before = before_cnn_epochs()
    float32, mixed = (after_cnn_epochs(precision=precision) for precision in arithmetic.PRECISIONS)
    auto = arithmetic.choose()  # what the default, precision auto, trains in here (measured once per CPU model)
    after = {"float32": float32, "mixed_bfloat16": mixed}[auto.precision]
    return {"epochs": CNN_EPOCHS, "before": before, "after_float32": float32, "after_mixed_bfloat16": mixed,
            "after": after, "auto": auto_chose(auto),
            "speed_up": round(before["seconds_per_epoch"] / after["seconds_per_epoch"], 2),
            "first_epoch_speed_up": round(before["first_epoch"] / after["first_epoch"], 2),
            "bfloat16_speed_up": round(float32["seconds_per_epoch"] / mixed["seconds_per_epoch"], 2)}  # fmt: skip


def auto_chose(choice: arithmetic.Choice) -> dict:
    """What precision auto chose on this machine, why, on which CPU, and the step times it chose by."""
    return {"precision": choice.precision, "chosen_by": choice.chosen_by, "cpu": choice.cpu.key,
            "step_seconds": choice.step_seconds, "measured_at": choice.measured_at}  # fmt: skip


def auto_goal(cnn: dict) -> tuple:
    """Whether precision auto chose the faster arithmetic, judged by whole epochs: its epoch / the other's."""
    auto = cnn["auto"]
    other = "mixed_bfloat16" if auto["precision"] == "float32" else "float32"
    ratio = round(cnn["after"]["seconds_per_epoch"] / cnn[f"after_{other}"]["seconds_per_epoch"], 2)
    return (f"precision auto chose {auto['precision']} on {auto['cpu']} ({auto['chosen_by']}): its CNN epoch / "
            f"{other}'s", ratio, "<=", 1.0)  # fmt: skip


def goals(figures: dict) -> list:
    """The issue's goals, for the parts measured so far."""
    found = []
    if "fast" in figures:
        median = figures["fast"]["median_seconds_to_99_test"]
        found.append(("fast: median seconds of training to 99% test (5 seeds)", median or 999, "<=", 10))
    if "cnn" in figures:
        cnn = figures["cnn"]
        found.append(
            (
                "default CNN seconds per epoch (new loop; median of epochs 2-5)",
                cnn["after"]["seconds_per_epoch"],
                "<=",
                15,
            )
        )
        found.append(("default CNN speed-up, old loop / new loop, same run", cnn["speed_up"], ">=", 2.3))
        found += [auto_goal(cnn)] if "auto" in cnn else []
    if "zoo" in figures:
        candidates = {arch: figures["zoo"][arch] for arch in CANDIDATES} | figures.get("long", {})
        best = max(candidates, key=lambda name: candidates[name]["val_accuracy"])  # chosen on validation
        run = candidates[best]
        found.append(
            (f"best single model ({best}, chosen on validation): test accuracy", run["test_accuracy"], ">=", 0.9965)
        )
        found.append(
            (f"best single model ({best}): minutes of training", round(run["training_seconds"] / 60, 1), "<=", 15)
        )
    return found


def main(parts: list[str]) -> None:
    """Measure the parts named, keep the figures of the others, write results/training.md."""
    previous = RESULTS / "training.json"
    figures = json.loads(previous.read_text())["figures"] if previous.exists() else {}
    for part in parts:
        figures[part] = measure(part)
        write_report("training", figures, goals(figures))  # after every part: a later failure keeps it
    print(write_report("training", figures, goals(figures)).read_text())


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        print(json.dumps(one(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) or None, json.loads(sys.argv[5]))))
    else:
        main(sys.argv[1:] or ["cnn", "fast", "choices", "zoo", "long"])
