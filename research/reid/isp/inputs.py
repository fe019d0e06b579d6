"""tf.data pipelines of ISP: PK training batches with their pseudo-label maps, and ordered evaluation sets.

Training (ISP-reID `data/build.py`, `dataset_loader.py`, `transforms/build.py`): resize to height x width
(bilinear), zero pad 10 + random crop, ImageNet normalisation; the pseudo-label PNG of the image, resized
(nearest) to the part-logit size (height/4 x width/4), is flipped with the image (p 0.5) and zeroed
where random erasing (p 0.5, area 0.02-0.4, aspect 0.3-1/0.3, per-channel image mean) hits. The PNGs
are re-read every time an image is drawn, so each clustering round reaches the next batches.
Randomness is stateless, seeded by the run seed and the position in the stream.
"""

from __future__ import annotations

import math
import os

import numpy as np
import tensorflow as tf

from official.data import market1501, pk_sampler

LABEL_STRIDE = 4  # part logits are at 1/4 of the input resolution


def pseudo_label_paths(root: str, subdir: str, paths: list[str]) -> list[str]:
    """One PNG per training image: ROOT/SUBDIR/<image name>.png (DATASETS.PSEUDO_LABEL_SUBDIR)."""
    folder = os.path.join(root, subdir)
    return [os.path.join(folder, os.path.splitext(os.path.basename(p))[0] + ".png") for p in paths]


def load_image(path, height: int, width: int):
    image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
    image = tf.image.resize(tf.cast(image, tf.float32), (height, width), method="bilinear")
    image.set_shape([height, width, 3])
    return image


def normalize(image, mean, std):
    return (image - tf.constant(mean, tf.float32)) / tf.constant(std, tf.float32)


def random_erase(image, label, seed, prob: float, sl: float = 0.02, sh: float = 0.4, r1: float = 0.3):
    """RandomErasing of dataset_loader.py: up to 100 tries of a box of area U(sl, sh) x HW and aspect
    U(r1, 1/r1) that fits; fill with the image's per-channel mean; the label box (at 1/4) becomes 0."""
    h, w = image.shape[0], image.shape[1]
    lh, lw = label.shape[0], label.shape[1]
    draws = tf.random.stateless_uniform([101, 4], seed)
    area = tf.cast(h * w, tf.float32) * (sl + (sh - sl) * draws[1:, 0])
    aspect = r1 + (1.0 / r1 - r1) * draws[1:, 1]
    bh = tf.cast(tf.round(tf.sqrt(area * aspect)), tf.int32)
    bw = tf.cast(tf.round(tf.sqrt(area / aspect)), tf.int32)
    fits = tf.logical_and(bw < w, bh < h)
    first = tf.argmax(tf.cast(fits, tf.int32))
    apply = tf.logical_and(draws[0, 0] < prob, tf.reduce_any(fits))
    bh, bw = bh[first], bw[first]
    top = tf.cast(draws[first + 1, 2] * tf.cast(h - bh + 1, tf.float32), tf.int32)
    left = tf.cast(draws[first + 1, 3] * tf.cast(w - bw + 1, tf.float32), tf.int32)
    rows, cols = tf.range(h)[:, None], tf.range(w)[None, :]
    box = (rows >= top) & (rows < top + bh) & (cols >= left) & (cols < left + bw) & apply
    mean = tf.reduce_mean(image, axis=(0, 1))
    image = tf.where(box[..., None], mean, image)
    lrows, lcols = tf.range(lh)[:, None] * (h // lh), tf.range(lw)[None, :] * (w // lw)
    lbox = (lrows >= top) & (lrows < top + bh) & (lcols >= left) & (lcols < left + bw) & apply
    return image, tf.where(lbox, tf.zeros_like(label), label)


def train_example(index, image_path, label_path, pid, cfg, seed: int):
    """(image (H, W, 3) normalised, {"pid", "parsing" (H/4, W/4) int32}) of one drawn training image."""
    h, w = cfg.height, cfg.width
    seeds = tf.random.experimental.stateless_split(tf.stack([tf.cast(seed, tf.int64), index]), 4)
    image = load_image(image_path, h, w)
    image = tf.pad(image, [[cfg.pad, cfg.pad], [cfg.pad, cfg.pad], [0, 0]])
    image = tf.image.stateless_random_crop(image, [h, w, 3], seeds[0])
    label = tf.io.decode_png(tf.io.read_file(label_path), channels=1)
    label = tf.image.resize(label, (h // LABEL_STRIDE, w // LABEL_STRIDE), method="nearest")[..., 0]
    label = tf.cast(label, tf.int32)
    label.set_shape([h // LABEL_STRIDE, w // LABEL_STRIDE])
    flip = tf.random.stateless_uniform([], seeds[1]) < cfg.flip_prob
    image = tf.cond(flip, lambda: image[:, ::-1, :], lambda: image)
    label = tf.cond(flip, lambda: label[:, ::-1], lambda: label)
    image = normalize(image, cfg.mean, cfg.std)
    image, label = random_erase(image, label, seeds[2], cfg.erase_prob)
    return image, {"pid": pid, "parsing": label}


def train_dataset(cfg, split: market1501.ReidSplit, label_paths: list[str], global_batch: int, epochs: int,
                  seed: int, input_context=None) -> tf.data.Dataset:
    """Endless PK batches; under a strategy each replica takes its P / replicas identities of each batch."""
    k = cfg.num_instances
    if global_batch % k:
        raise ValueError(f"train_data.num_instances: {k} does not divide the global batch {global_batch}")
    order = pk_sampler.pk_indices(split.pids, global_batch // k, k, max(epochs, 1), seed)
    order = order[: len(order) // global_batch * global_batch].reshape(-1, global_batch)
    per_replica = global_batch
    if input_context is not None and input_context.num_replicas_in_sync > 1:
        # consecutive per-replica batches of one pipeline go to its replicas in turn: each pipeline keeps
        # its share of every global batch, and a replica's batch holds whole K-groups (P / replicas ids)
        per_replica = input_context.get_per_replica_batch_size(global_batch)
        if per_replica % k:
            raise ValueError(f"train_data.num_instances: {k} does not divide the per-replica batch {per_replica}")
        share = global_batch // input_context.num_input_pipelines
        order = order[:, input_context.input_pipeline_id * share:(input_context.input_pipeline_id + 1) * share]
    order = order.reshape(-1)
    paths, labels = np.array(split.paths), np.array(label_paths)
    ds = tf.data.Dataset.from_tensor_slices((order, paths[order], labels[order], split.pids[order])).repeat()
    ds = ds.enumerate().map(
        lambda n, e: train_example(n, e[1], e[2], e[3], cfg, seed), num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    return ds.batch(per_replica, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def eval_dataset(cfg, paths: list[str], extras: dict[str, np.ndarray], batch: int) -> tf.data.Dataset:
    """(image (H, W, 3) normalised, extras) in list order: resize + normalise only (the test transform)."""
    def one(path, extra):
        return normalize(load_image(path, cfg.height, cfg.width), cfg.mean, cfg.std), extra

    ds = tf.data.Dataset.from_tensor_slices((np.array(paths), extras))
    return ds.map(one, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).batch(batch).prefetch(2)


def epochs_for(steps: int, global_batch: int, epoch_examples: int) -> int:
    """Sampler epochs that cover `steps` batches (one spare)."""
    return math.ceil(steps * global_batch / max(epoch_examples, 1)) + 1
