"""Answering a request in this process, or split across worker processes. The image path reads a
photo on one core (OpenCV and Python, about 2.3 ms for 160x160), so a process per core reads that
many times more photos a second; pixel rows stay in one process, whose network uses every core."""

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.serving.model import answer_all, load_served

worker_model = None  # a worker process's served model, loaded when it starts (or why it did not load)


def load_worker_model(model_uri: str) -> None:
    """A worker's start: load the served model once; keep the error if it does not load, to raise it
    with the first request (an initializer's exception would only break the pool, unexplained)."""
    global worker_model
    try:
        worker_model = load_served(model_uri)
    except MnistMlopsError as error:
        worker_model = error


def answer_in_worker(request: pd.DataFrame) -> pd.DataFrame:
    """A worker's answers to a part of a request."""
    if isinstance(worker_model, MnistMlopsError):
        raise worker_model
    return answer_all(worker_model, request)


IMAGES_PER_PROCESS = 1_000  # a worker's start (seconds: imports, the model) is worth it from this many photos


def processes_for(kind: str, rows: int, workers: int) -> int:
    """Processes that answer an input: for images --workers, or by default one per core and at most
    one per IMAGES_PER_PROCESS images; for pixel rows one."""
    if kind == "pixels":
        return 1
    return workers or max(1, min(len(os.sched_getaffinity(0)), rows // IMAGES_PER_PROCESS))


@contextlib.contextmanager
def answerer(model_uri: str, processes: int) -> Iterator[Callable[[pd.DataFrame], pd.DataFrame]]:
    """Yield a function that answers a request, in order: in this process, or each request split
    evenly across `processes` workers, each with the model loaded (started fresh: a forked copy of
    a process that has run LiteRT or TensorFlow threads may hang)."""
    if processes == 1:
        model = load_served(model_uri)
        yield lambda request: answer_all(model, request)
        return
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(processes, spawn, initializer=load_worker_model, initargs=(model_uri,)) as pool:

        def answer(request: pd.DataFrame) -> pd.DataFrame:
            parts = [request.iloc[rows] for rows in np.array_split(np.arange(len(request)), processes) if len(rows)]
            return pd.concat(pool.map(answer_in_worker, parts), ignore_index=True)

        yield answer
