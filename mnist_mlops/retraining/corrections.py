"""Corrections as training images: the feedback set split into what a challenger learns from and its
most recent part, held out to judge on; each correction's digits read as the served model reads
them, then repeated and moved (weighted, augmented) among MNIST's training images."""

import math
from dataclasses import replace

import numpy as np

from mnist_mlops.data import N_PIXELS, Mnist, Split
from mnist_mlops.data.dataset import digest_of
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.serving.decoding import DecodeError, Picture, decode
from mnist_mlops.serving.frames import read_picture
from mnist_mlops.serving.images import InputError
from mnist_mlops.tracking.feedback import Correction


def held_out_split(feedback: list[Correction], share: float, least: int) -> tuple[list[Correction], list[Correction]]:
    """The corrections to train on and the most recent share of them, held out (both oldest first); a clear
    error when there are none, or too few to hold out at least `least` and train on one."""
    if not feedback:
        raise MnistMlopsError(
            "the feedback set holds no corrections: nothing to retrain from (add some with the playground "
            "or `mnist-mlops feedback add`)"
        )
    held = math.ceil(len(feedback) * share)
    if held < least:
        raise MnistMlopsError(
            f"too few corrections to hold out: the newest {share:.0%} of the feedback set's {len(feedback)} "
            f"are {held}, fewer than --min-held-out {least}"
        )
    if held == len(feedback):
        raise MnistMlopsError(
            f"too few corrections to hold out: holding out {held} leaves none of the feedback set's "
            f"{len(feedback)} to train on"
        )
    return feedback[:-held], feedback[-held:]


def picture_of(correction: Correction) -> Picture:
    """A correction's image decoded as the served model decodes it; a clear error if it cannot be."""
    try:
        return decode(correction.image)
    except DecodeError as error:
        raise MnistMlopsError(f"the correction {correction.name} cannot be read: {error}") from error


def check_readable(feedback: list[Correction]) -> None:
    """A clear error for the first correction whose image cannot be decoded."""
    for correction in feedback:
        picture_of(correction)


def correction_digits(training: list[Correction]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The digits of the corrections as the served model is given them, (n, 784) in [0, 1], and the digit
    people said each is; also the names of corrections skipped, where the digits found are not as many
    as their number holds (none found included). An image that cannot be read is a clear error."""
    rows, labels, skipped = [], [], []
    for correction in training:
        picture = picture_of(correction)
        try:
            found = read_picture(picture).digits
        except InputError:
            found = []
        if len(found) != len(correction.number):
            skipped.append(correction.name)
            continue
        rows += [digit.pixels.reshape(N_PIXELS) for digit in found]
        labels += [int(said) for said in correction.number]
    if not rows:
        raise MnistMlopsError(
            f"none of the {len(training)} corrections to train on has as many digits found as its number "
            "holds: nothing to learn from"
        )
    return np.stack(rows).astype(np.float32), np.array(labels, np.int64), skipped


def with_corrections(data: Mnist, x: np.ndarray, y: np.ndarray, copies: int, seed: int) -> Mnist:
    """The data with the corrections' digits among its training images, each `copies` times: once as read,
    then moved by the training pipeline's random rotation, zoom and shift (models/batches.py)."""
    import tensorflow as tf  # loads here, not when the command line starts

    from mnist_mlops.models.batches import augment

    repeated = np.repeat(x, copies - 1, axis=0)
    moved = augment(tf.constant(repeated), tf.constant([seed, 0], tf.int64)).numpy() if len(repeated) else repeated
    train_x = np.concatenate([data.train.x, x, moved])
    train_y = np.concatenate([data.train.y, y, np.repeat(y, copies - 1)])
    train = Split("train", train_x, train_y)
    return replace(
        data, train=train, digest=digest_of(train.x, train.y, data.val.x, data.val.y, data.test.x, data.test.y)
    )
