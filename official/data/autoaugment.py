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


def _maybe(image: tf.Tensor, name: str, prob: float, magnitude: float, seed: tf.Tensor) -> tf.Tensor:
    """OPS[name] with probability `prob`, else the image unchanged."""
    gate_seed, op_seed = split_seed(seed, 2)
    image = tf.cast(image, tf.float32)
    if prob <= 0.0:
        return image
    if prob >= 1.0:
        return OPS[name](image, magnitude, op_seed)
    return tf.cond(
        tf.random.stateless_uniform([], gate_seed) < prob,
        lambda: OPS[name](image, magnitude, op_seed),
        lambda: image,
    )


def autoaugment(image: tf.Tensor, seed: tf.Tensor | None = None, policy=IMAGENET_POLICY) -> tf.Tensor:
    """One uniformly chosen sub-policy of `policy` applied to an (h, w, 3) 0-255 image; float32 out."""
    choice_seed, first_seed, second_seed = split_seed(seed, 3)
    image = tf.cast(image, tf.float32)

    def branch(sub_policy):
        (op1, p1, m1), (op2, p2, m2) = sub_policy
        return lambda: _maybe(_maybe(image, op1, p1, m1, first_seed), op2, p2, m2, second_seed)

    index = tf.random.stateless_uniform([], choice_seed, 0, len(policy), dtype=tf.int32)
    out = tf.switch_case(index, [branch(sp) for sp in policy])
    return tf.ensure_shape(out, image.shape)


def randaugment(
    image: tf.Tensor, num_ops: int = 2, magnitude: float = 9.0, seed: tf.Tensor | None = None, ops=RANDAUGMENT_OPS
) -> tf.Tensor:
    """`num_ops` ops drawn uniformly with replacement from `ops`, each at `magnitude`; float32 out."""
    image = tf.cast(image, tf.float32)
    if num_ops <= 0:
        return image
    seeds = split_seed(seed, 2 * num_ops)
    for i in range(num_ops):
        choice_seed, op_seed = seeds[2 * i], seeds[2 * i + 1]
        index = tf.random.stateless_uniform([], choice_seed, 0, len(ops), dtype=tf.int32)
        branches = [lambda x=image, name=name, s=op_seed: OPS[name](x, magnitude, s) for name in ops]
        image = tf.ensure_shape(tf.switch_case(index, branches), image.shape)
    return image


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
