"""AutoAugment (ImageNet policy) and RandAugment on single images, stateless, for tf.data.

AutoAugment (Cubuk et al., CVPR 2019, appendix table of the ImageNet policy; timm's
`auto_augment_policy_original` lists the same 25 sub-policies): each image gets one sub-policy chosen
uniformly; each of its two ops runs with its probability at its magnitude. RandAugment (Cubuk et al. 2020):
N ops drawn uniformly with replacement from 14, each at magnitude M, always applied.

Magnitudes map to op parameters as in `augment_ops` (magnitude 0 is the identity, enhance ops get a random
sign). The policy was searched with the original code's mappings, where Color/Contrast/Sharpness meant a
factor 0.1 + 1.8 * m/10 (so ("Color", 0.4, 0) turned the image nearly grey; here it is the identity) and
Posterize kept 4 - int(4 * m/10) bits; the paper's table states ranges only, and we keep one mapping for
both methods.

`augment(image, cfg, seed)` is what `image_preprocessing.preprocess_train` calls: the configured policy,
then AutoAugment-KD's outlier probe (the whole image replaced by uniform noise with probability
`noise_replace_prob`). Every random choice comes from the `[2]` seed, so seeded runs repeat exactly.
"""

from __future__ import annotations

import tensorflow as tf

from official.core.errors import BadValueError
from official.data.augment_ops import OPS, split_seed

# (op, probability, magnitude) pairs; AutoAugment paper appendix, ImageNet policy.
IMAGENET_POLICY: tuple[tuple[tuple[str, float, int], tuple[str, float, int]], ...] = (
    (("Posterize", 0.4, 8), ("Rotate", 0.6, 9)),
    (("Solarize", 0.6, 5), ("AutoContrast", 0.6, 5)),
    (("Equalize", 0.8, 8), ("Equalize", 0.6, 3)),
    (("Posterize", 0.6, 7), ("Posterize", 0.6, 6)),
    (("Equalize", 0.4, 7), ("Solarize", 0.2, 4)),
    (("Equalize", 0.4, 4), ("Rotate", 0.8, 8)),
    (("Solarize", 0.6, 3), ("Equalize", 0.6, 7)),
    (("Posterize", 0.8, 5), ("Equalize", 1.0, 2)),
    (("Rotate", 0.2, 3), ("Solarize", 0.6, 8)),
    (("Equalize", 0.6, 8), ("Posterize", 0.4, 6)),
    (("Rotate", 0.8, 8), ("Color", 0.4, 0)),
    (("Rotate", 0.4, 9), ("Equalize", 0.6, 2)),
    (("Equalize", 0.0, 7), ("Equalize", 0.8, 8)),
    (("Invert", 0.6, 4), ("Equalize", 1.0, 8)),
    (("Color", 0.6, 4), ("Contrast", 1.0, 8)),
    (("Rotate", 0.8, 8), ("Color", 1.0, 2)),
    (("Color", 0.8, 8), ("Solarize", 0.8, 7)),
    (("Sharpness", 0.4, 7), ("Invert", 0.6, 8)),
    (("ShearX", 0.6, 5), ("Equalize", 1.0, 9)),
    (("Color", 0.4, 0), ("Equalize", 0.6, 3)),
    (("Equalize", 0.4, 7), ("Solarize", 0.2, 4)),
    (("Solarize", 0.6, 5), ("AutoContrast", 0.6, 5)),
    (("Invert", 0.6, 4), ("Equalize", 1.0, 8)),
    (("Color", 0.6, 4), ("Contrast", 1.0, 8)),
    (("Equalize", 0.8, 8), ("Equalize", 0.6, 3)),
)

# RandAugment paper's 14 ops (Identity included; no Invert, Cutout or SamplePairing).
RANDAUGMENT_OPS: tuple[str, ...] = (
    "Identity", "AutoContrast", "Equalize", "Rotate", "Solarize", "Color", "Posterize",
    "Contrast", "Brightness", "Sharpness", "ShearX", "ShearY", "TranslateX", "TranslateY",
)  # fmt: skip

AUTO_AUGMENT = ("", "autoaugment", "randaugment")  # values of DataConfig.auto_augment


def _apply_ops(image: tf.Tensor, names, op_ids: tf.Tensor, magnitudes: tf.Tensor, seeds: tf.Tensor) -> tf.Tensor:
    """OPS[names[op_ids[i]]](image, magnitudes[i], seeds[i]) for i = 0, 1, ... in turn.

    A while_loop around one switch_case with a branch per distinct op traces each op once: 25 sub-policies
    as separate branches took ~20 s to trace and instantiate in tf.data on this 2-core machine.
    """

    def step(i, x):
        branches = [lambda name=name: OPS[name](x, magnitudes[i], seeds[i]) for name in names]
        return i + 1, tf.ensure_shape(tf.switch_case(op_ids[i], branches), image.shape)

    count = tf.shape(op_ids)[0]
    _, out = tf.while_loop(lambda i, x: i < count, step, (tf.constant(0), tf.cast(image, tf.float32)))
    return out


def autoaugment(image: tf.Tensor, seed: tf.Tensor | None = None, policy=IMAGENET_POLICY) -> tf.Tensor:
    """One uniformly chosen sub-policy of `policy` applied to an (h, w, 3) 0-255 image; float32 out.

    Each op of the sub-policy runs with its probability (otherwise Identity runs in its place).
    """
    names = ("Identity", *sorted({op for sub in policy for op, _, _ in sub} - {"Identity"}))
    choice_seed, gate_seed, op_seed = split_seed(seed, 3)
    index = tf.random.stateless_uniform([], choice_seed, 0, len(policy), dtype=tf.int32)
    chosen = tf.gather(tf.constant([[names.index(op) for op, _, _ in sub] for sub in policy], tf.int32), index)
    probs = tf.gather(tf.constant([[p for _, p, _ in sub] for sub in policy], tf.float32), index)
    magnitudes = tf.gather(tf.constant([[m for _, _, m in sub] for sub in policy], tf.float32), index)
    runs = tf.random.stateless_uniform(tf.shape(probs), gate_seed) < probs
    op_ids = tf.where(runs, chosen, 0)  # 0: Identity
    seeds = tf.random.experimental.stateless_split(op_seed, 2)
    return _apply_ops(image, names, op_ids, magnitudes, seeds)


def randaugment(
    image: tf.Tensor, num_ops: int = 2, magnitude: float = 9.0, seed: tf.Tensor | None = None, ops=RANDAUGMENT_OPS
) -> tf.Tensor:
    """`num_ops` ops drawn uniformly with replacement from `ops`, each at `magnitude`; float32 out."""
    image = tf.cast(image, tf.float32)
    if num_ops <= 0:
        return image
    choice_seed, op_seed = split_seed(seed, 2)
    op_ids = tf.random.stateless_uniform([num_ops], choice_seed, 0, len(ops), dtype=tf.int32)
    magnitudes = tf.fill([num_ops], tf.cast(magnitude, tf.float32))
    seeds = tf.random.experimental.stateless_split(op_seed, num_ops)
    return _apply_ops(image, tuple(ops), op_ids, magnitudes, seeds)


def noise_replace(image: tf.Tensor, prob: float, seed: tf.Tensor | None = None) -> tf.Tensor:
    """With probability `prob`, the whole image becomes uniform noise in [0, 255] (an "outlier")."""
    image = tf.cast(image, tf.float32)
    if prob <= 0.0:
        return image
    gate_seed, noise_seed = split_seed(seed, 2)
    noise = tf.random.stateless_uniform(tf.shape(image), noise_seed, 0.0, 255.0)
    if prob >= 1.0:
        return noise
    return tf.where(tf.random.stateless_uniform([], gate_seed) < prob, noise, image)


def augment(image: tf.Tensor, cfg, seed: tf.Tensor | None = None) -> tf.Tensor:
    """The training config's policy (cfg.auto_augment) then noise replacement (cfg.noise_replace_prob)."""
    mode = cfg.auto_augment
    if mode not in AUTO_AUGMENT:
        raise BadValueError(f"train_data.auto_augment: expected one of {list(AUTO_AUGMENT)}, got {mode!r}")
    prob = float(cfg.noise_replace_prob)
    if not 0.0 <= prob <= 1.0:
        raise BadValueError(f"train_data.noise_replace_prob: expected a probability in [0, 1], got {prob}")
    if mode == "randaugment" and cfg.augment_num_ops < 0:
        raise BadValueError(f"train_data.augment_num_ops: expected >= 0, got {cfg.augment_num_ops}")
    policy_seed, noise_seed = split_seed(seed, 2)
    image = tf.cast(image, tf.float32)
    if mode == "autoaugment":
        image = autoaugment(image, policy_seed)
    elif mode == "randaugment":
        image = randaugment(image, cfg.augment_num_ops, cfg.augment_magnitude, policy_seed)
    return noise_replace(image, prob, noise_seed)
