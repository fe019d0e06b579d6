"""Shared helpers of the DSA graph-side tests: a fixed-mask gate, randomised BN statistics, tiny models."""

from __future__ import annotations

import functools

import keras
import numpy as np

import official.core.zoo_index  # noqa: F401  (registers the models)
from official.core import registry


class FixedGate(keras.layers.Layer):
    """x -> x * mask with a constant 0/1 mask over the group's slots (the deterministic final masks)."""

    def __init__(self, mask, **kwargs):
        super().__init__(**kwargs)
        self.mask = np.asarray(mask, np.float32)

    def call(self, x):
        return x * self.mask


def fixed_gates(keep):
    def make_gate(group, primal_layer):
        mask = np.zeros(group.channels, np.float32)
        mask[keep[group.index]] = 1.0
        return FixedGate(mask)

    return make_gate


def randomise_bn(model: keras.Model, seed: int = 0) -> None:
    """Non-trivial gamma, beta, moving mean and variance in every BatchNormalization (nested ones too)."""
    rng = np.random.default_rng(seed)
    for layer in model._flatten_layers():
        if isinstance(layer, keras.layers.BatchNormalization):
            c = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, c), rng.normal(0, 0.5, c), rng.normal(0, 0.5, c),
                               rng.uniform(0.5, 2.0, c)])


@functools.cache
def tiny(name: str) -> keras.Model:
    """The test models, built once per test session (building ResNet-56 takes seconds) with randomised BN
    statistics: ResNet-20/56 at 32 px, ResNet-18 at 32 px, MobileNeXt-0.35 at 32 px (10 classes).
    Tests must not change their weights."""
    kwargs = {
        "resnet20_cifar": {},
        "resnet56_cifar": {},
        "resnet18": {"input_shape": (32, 32, 3), "classes": 10},
        "mobilenext_035": {"input_shape": (32, 32, 3), "classes": 10},
    }[name]
    model = registry.create_model(name, **kwargs)
    randomise_bn(model)
    return model


@functools.cache
def case(name: str, seed: int = 1):
    """(model, groups, keep, pruned model) for random keep ratios in [0.05, 1], built once per session."""
    from official.training.dsa.graph import channel_groups
    from official.training.dsa.prune import keep_from_ratios, prune_model

    model = tiny(name)
    groups = channel_groups(model)
    rng = np.random.default_rng(seed)
    keep = keep_from_ratios(model, groups, rng.uniform(0.05, 1.0, len(groups)))
    return model, groups, keep, prune_model(model, groups, keep)
