"""Spec check 7, budget satisfaction: the alternating optimisation (weights by SGD on sampled masks,
keep ratios by Adam with the ADMM budget projection) on a tiny synthetic 4-class set with B = 0.5 ends
with FLOPs(alpha) <= 0.51 of the unpruned network; the physically pruned network (fit_budget ->
keep_from_ratios -> prune_model) is within the budget by count_madds and still beats chance."""

from __future__ import annotations

import keras
import numpy as np

from official.core.madds import count_madds
from official.training.dsa.config import DSAConfig
from official.training.dsa.method import DSATrainer
from official.training.dsa.prune import fit_budget, keep_from_ratios, prune_model


def blobs(n, rng):
    """4 classes: a bright 4x4 quadrant (the class) on noise, 8x8x3."""
    y = rng.integers(0, 4, n)
    x = rng.normal(0, 0.5, (n, 8, 8, 3)).astype("float32")
    for i, k in enumerate(y):
        x[i, 4 * (k // 2): 4 * (k // 2) + 4, 4 * (k % 2): 4 * (k % 2) + 4] += 1.5
    return x, y


def network():
    keras.utils.set_random_seed(0)
    x = inputs = keras.Input((8, 8, 3), name="images")
    for i, width in enumerate((8, 16, 16)):
        x = keras.layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"conv{i}")(x)
        x = keras.layers.ReLU()(keras.layers.BatchNormalization(name=f"bn{i}")(x))
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(4, name="logits")(x))


def test_alternating_optimisation_meets_half_the_flops():
    rng = np.random.default_rng(0)
    x, y = blobs(512, rng)
    net = network()
    steps = 120
    cfg = DSAConfig(flops_ratio=0.5, warmup_steps=20, alpha_lr=0.05, rho=10.0)
    model = DSATrainer(net, cfg, steps, seed=0)
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(x, y, batch_size=64, epochs=steps // 8, verbose=0, shuffle=True)
    assert float(model.flops_ratio()) <= 0.51
    masked = float(np.mean(np.argmax(model.predict(x, verbose=0), -1) == y))  # deterministic masks
    assert masked > 0.8, masked
    alpha = fit_budget(net, model.groups, model.keep_ratios(), 0.5, (8, 8, 3))
    pruned = prune_model(net, model.groups, keep_from_ratios(net, model.groups, alpha))
    assert count_madds(pruned).total <= 0.5 * count_madds(net).total
    x_val, y_val = blobs(256, np.random.default_rng(1))
    accuracy = float(np.mean(np.argmax(pruned.predict(x_val, verbose=0), -1) == y_val))
    assert accuracy > 0.5, accuracy  # chance is 0.25
