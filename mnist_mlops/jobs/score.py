"""The score job: a served model's answers to every row of an input, written as Parquet and
recorded as a run (the model version, rows, refused, seconds, images/s)."""

import logging
import time
from dataclasses import asdict
from pathlib import Path

from tqdm import tqdm

from mnist_mlops import registry, tracking
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.scoring.config import ScoreConfig
from mnist_mlops.scoring.output import AnswerWriter, check_output, counted, written_in_place
from mnist_mlops.scoring.processes import answerer, processes_for
from mnist_mlops.scoring.sources import Source, chunks, open_source
from mnist_mlops.tuning.spark import check_spark

log = logging.getLogger(__name__)


def score_locally(source: Source, config: ScoreConfig, output: Path) -> None:
    """Answer the input a chunk at a time on this machine (images in --workers processes), writing each
    chunk before reading the next."""
    writer, done = AnswerWriter(output), 0
    processes = processes_for(source.kind, source.rows, config.workers)
    try:
        with (
            answerer(config.model_uri, processes) as answer,
            tqdm(total=source.rows, unit="images", disable=config.quiet, desc="score") as progress,
        ):
            for keys, request in chunks(source, config.chunk_rows):
                try:
                    writer.write(keys, answer(request))
                except MnistMlopsError as error:
                    raise MnistMlopsError(f"rows {done} to {done + len(keys) - 1}: {error}") from error
                done += len(keys)
                progress.update(len(keys))
    finally:
        writer.close()


def run_scoring(config: ScoreConfig) -> dict[str, float]:
    """Score the input into the output, as one run; return its metrics."""
    assert config.input and config.output  # ScoreConfig requires both
    source, output = open_source(config.input, config.key), Path(config.output)
    check_output(output, config.overwrite)
    if source.rows == 0:
        raise MnistMlopsError(f"--input {config.input}: no rows")
    master = config.spark_master or "local[*]"
    if config.backend == "spark":
        check_spark(master)
    if config.backend == "spark" and source.numbered:
        raise MnistMlopsError("--backend spark needs a key column in the input (--key): Spark reads rows in no "
                              "fixed order, so row numbers would not say which answer is whose")  # fmt: skip
    tracking.use_tracking(config.experiment)
    model = registry.source_of(config.model_uri)
    with tracking.run("score", {"model_kind": "score", "model_uri": config.model_uri}):
        tracking.log_params(asdict(config) | {"input_kind": source.kind, "model_version": model.version})
        start = time.perf_counter()
        with written_in_place(output) as partial:
            if config.backend == "spark":
                from mnist_mlops.scoring.spark import score_on_spark

                score_on_spark(source, config.model_uri, master, partial)
            else:
                score_locally(source, config, partial)
            rows, refused = counted(partial)
        seconds = time.perf_counter() - start
        metrics = {"rows": rows, "refused": refused, "seconds": seconds, "images_per_second": rows / seconds}
        tracking.log_metrics(metrics)
    log.info(f"{rows} rows ({refused} refused) in {seconds:.1f} s: {rows / seconds:.0f} images/s into {output}")
    return metrics
