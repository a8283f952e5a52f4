"""Training batches as a tf.data pipeline from the in-memory arrays: shuffled every epoch, gathered
a batch at a time, augmented a whole batch at once (never at inference), prefetched.

Augmentation is one random affine map per image (rotation, zoom, shift), applied to the batch by
one ImageProjectiveTransformV3 op: on a 2-core CPU it costs a few percent of an epoch, where Keras'
RandomTranslation and RandomRotation layers inside the model cost more than the convolutions. The
random draws are stateless and seeded per batch, so a seed still gives the same training.

The pipeline's parallelism is fixed, not autotuned: tf.data's autotuner sleeps in periods that
grow to tens of seconds, and Keras, which starts a new iterator every epoch, waits for the old
iterator's autotuner to wake before the first batch, with the CPU idle (12-21 s in one epoch of
seven of the deep network, measured).
"""

import math

import numpy as np
import tensorflow as tf

SIDE = 28
PARALLEL_BATCHES = 2  # augmented at once, and ready ahead of the network: enough to keep 2 cores busy
AUGMENTATION = {"rotation": 10.0, "zoom": 0.1, "shift": 0.1}  # degrees, share of the scale, share of the side


def affine(n: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """(n, 8) transforms that map each output pixel to the input pixel it samples: a random
    rotation and zoom about the centre, then a random shift."""
    draw = tf.random.stateless_uniform((n, 4), seed=seed, minval=-1.0, maxval=1.0)
    angle = draw[:, 0] * AUGMENTATION["rotation"] * math.pi / 180
    scale = 1.0 + draw[:, 1] * AUGMENTATION["zoom"]
    shift_x, shift_y = draw[:, 2] * AUGMENTATION["shift"] * SIDE, draw[:, 3] * AUGMENTATION["shift"] * SIDE
    cos, sin, centre = tf.cos(angle) / scale, tf.sin(angle) / scale, (SIDE - 1) / 2
    # input = M (output - centre - shift) + centre, M the inverse rotation and zoom
    offset_x = centre - cos * (centre + shift_x) - sin * (centre + shift_y)
    offset_y = centre + sin * (centre + shift_x) - cos * (centre + shift_y)
    zeros = tf.zeros_like(cos)
    return tf.stack([cos, sin, offset_x, -sin, cos, offset_y, zeros, zeros], axis=1)


def augment(pixels: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Transform a batch of flat 784-pixel rows, each image by its own random affine map."""
    images = tf.reshape(pixels, (-1, SIDE, SIDE, 1))
    moved = tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=affine(tf.shape(images)[0], seed),
        output_shape=[SIDE, SIDE],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )
    return tf.reshape(moved, (-1, SIDE * SIDE))


def batches(
    x: np.ndarray, y: np.ndarray, batch_size: int, seed: int, train: bool, augmented: bool, smoothing: bool
) -> tf.data.Dataset:
    """Batches of (pixels, labels): shuffled and, if asked, augmented when train; labels one-hot
    when the loss smooths them (Keras' sparse loss cannot)."""
    pixels, labels = tf.constant(x), tf.constant(y)
    order = tf.data.Dataset.range(len(y))
    if train:
        order = order.shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
    data = order.batch(batch_size).map(lambda index: (tf.gather(pixels, index), tf.gather(labels, index)))
    if train and augmented:
        draws = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        data = tf.data.Dataset.zip(data, draws).map(
            lambda batch, draw: (augment(batch[0], draw), batch[1]), num_parallel_calls=PARALLEL_BATCHES
        )
    if smoothing:
        data = data.map(lambda images, digits: (images, tf.one_hot(digits, 10)))
    options = tf.data.Options()
    options.autotune.enabled = False
    return data.prefetch(PARALLEL_BATCHES).with_options(options)
