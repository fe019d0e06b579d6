"""DSA physical pruning (spec checks 6 and 8) and the budget fit (issue 12's done-when).

The masked model with deterministic masks (a fixed 0/1 gate) and the physically pruned model give the
same logits in inference mode, with non-trivial BN statistics, on ResNet-20 (option A), ResNet-18
(projections) and MobileNeXt (depthwise ties); the pruned model is plain (reloads as .keras, converts to
TFLite with builtin ops); fit_budget meets 50% of ResNet-56's and MobileNeXt-1.0's MAdds within 1%.
"""

from __future__ import annotations

import os

import keras
import numpy as np
import pytest

from official.core.madds import count_madds
from official.training.dsa.graph import channel_groups
from official.training.dsa.masked import masked_model
from official.training.dsa.prune import (
    ChannelPad,
    fit_budget,
    keep_from_ratios,
    prune_model,
    realised_ratios,
)
from tests.official.training.dsa.dsa_helpers import case, fixed_gates, randomise_bn, tiny


def _images(model, n=3, seed=0):
    shape = tuple(model.inputs[0].shape[1:])
    return np.random.default_rng(seed).normal(size=(n, *shape)).astype("float32")


@pytest.mark.parametrize("name", ["resnet20_cifar", "resnet18", "mobilenext_035"])
def test_pruned_logits_equal_masked(name):
    model, groups, keep, pruned = case(name)
    masked = masked_model(model, groups, fixed_gates(keep))
    x = _images(model)
    want = keras.ops.convert_to_numpy(masked(x, training=False))
    got = keras.ops.convert_to_numpy(pruned(x, training=False))
    full = keras.ops.convert_to_numpy(model(x, training=False))
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)
    assert np.abs(full - want).max() > 1e-2  # the masks do change the function
    assert pruned.count_params() < model.count_params()
    # the masked model runs on the model's own weights
    own = {id(v) for v in model.weights}
    assert all(id(v) in own for v in masked.weights if "gate" not in v.path)


def test_masked_model_shares_weights():
    model, groups, keep, _ = case("resnet20_cifar")
    masked = masked_model(model, groups, fixed_gates(keep))
    assert {id(v) for v in masked.trainable_weights} == {id(v) for v in model.trainable_weights}


def test_resnet20_pruned_params_by_hand():
    """Uniform keep ratio 0.5: widths 8/16/32 everywhere; params = convs + 4 per BN channel + linear."""
    model = tiny("resnet20_cifar")
    groups = channel_groups(model)
    keep = keep_from_ratios(model, groups, np.full(len(groups), 0.5))
    pruned = prune_model(model, groups, keep)
    convs, bn = 9 * 3 * 8, 8  # stem
    for stage, width in enumerate((8, 16, 32)):
        for i in range(3):
            c_in = width // 2 if stage and i == 0 else width
            convs += 9 * c_in * width + 9 * width * width
            bn += 2 * width
    assert pruned.count_params() == convs + 4 * bn + 32 * 10 + 10
    shortcut = pruned.get_layer("resnet_layer2_0_shortcut")
    # stage 2 keeps 16 of its slots [16, 48): stage 1's 8 in [24, 40) and 8 zero-padded ones around them
    stream = keep[0]
    assert isinstance(shortcut, ChannelPad) and shortcut.stride == 2
    assert (shortcut.before, shortcut.after) == (((stream >= 16) & (stream < 24)).sum(), ((stream >= 40) & (stream < 48)).sum())
    assert shortcut.before + shortcut.after == 8


def test_keep_is_top_l1_and_tied_rings():
    model = tiny("resnet20_cifar")
    groups = channel_groups(model)
    alpha = np.full(len(groups), 0.3)
    keep = keep_from_ratios(model, groups, alpha)
    free = groups[1]  # resnet_layer1_0_1_conv, 16 channels: round(4.8) = 5 by the kernel's L1 norm
    kernel = keras.ops.convert_to_numpy(model.get_layer(free.primal).kernel)
    top = np.sort(np.argsort(-np.abs(kernel).sum(axis=(0, 1, 2)), kind="stable")[:5])
    np.testing.assert_array_equal(keep[1], top)
    stream = keep[0]  # 5 of stage 1's 16, 10 of stage 2's 32, 20 of stage 3's 64 slots
    assert [int(((stream >= lo) & (stream < hi)).sum()) for lo, hi in groups[0].ranges()] == [5, 10, 20]
    np.testing.assert_allclose(realised_ratios(groups, keep)[:2], [5 / 16, 5 / 16])
    assert len(keep_from_ratios(model, groups, np.zeros(len(groups)))[1]) == 1  # at least one channel
    bad = dict(keep)
    bad[0] = np.arange(20)  # not the same fraction in every stage
    with pytest.raises(ValueError, match="keep"):
        prune_model(model, groups, bad)


def test_pruned_model_saves_and_converts(tmp_path):
    """A plain model: .keras round trip (ResNet-20), and TFLite with builtin ops only and equal logits on a
    one-block-per-stage CIFAR ResNet with option-A shortcuts (spec check 8; conversion costs seconds)."""
    from official.core.export_tflite import convert_tflite, run_tflite, tflite_op_names
    from official.vision.resnet.model import CifarResNet

    model, _, _, pruned = case("resnet20_cifar")
    path = os.path.join(tmp_path, "pruned.keras")
    pruned.save(path)
    again = keras.saving.load_model(path)
    x = _images(model, n=2)
    want = keras.ops.convert_to_numpy(pruned(x, training=False))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(again(x, training=False)), want, atol=1e-6)
    assert {type(layer).__module__.split(".")[0] for layer in again.layers} <= {"keras", "official"}
    assert {type(layer).__name__ for layer in again.layers if type(layer).__module__.startswith("official")} == {
        "ChannelPad"}

    mini = CifarResNet(blocks_per_stage=1, widths=(4, 8, 16), input_shape=(16, 16, 3))
    randomise_bn(mini)
    groups = channel_groups(mini)
    small = prune_model(mini, groups, keep_from_ratios(mini, groups, np.full(len(groups), 0.5)))
    data = convert_tflite(small)
    assert set(tflite_op_names(data)) <= {"ADD", "CONV_2D", "FULLY_CONNECTED", "MEAN", "PAD", "STRIDED_SLICE"}
    x = _images(small, n=2)
    np.testing.assert_allclose(run_tflite(data, x), keras.ops.convert_to_numpy(small(x, training=False)), atol=1e-4)


def test_fit_budget_resnet56_half():
    model = tiny("resnet56_cifar")
    groups = channel_groups(model)
    alpha = fit_budget(model, groups, np.ones(len(groups)), 0.5, (32, 32, 3))
    pruned = prune_model(model, groups, keep_from_ratios(model, groups, alpha))
    ratio = count_madds(pruned).total / count_madds(model).total
    assert 0.49 <= ratio <= 0.5
    # a non-uniform start keeps its shape: the halved allocation follows it
    start = np.linspace(0.4, 1.0, len(groups))
    alpha = fit_budget(model, groups, start, 0.5, (32, 32, 3))
    assert np.corrcoef(alpha, start)[0, 1] > 0.9
    with pytest.raises(ValueError, match="flops_ratio"):
        fit_budget(model, groups, start, 1.5, (32, 32, 3))


def test_fit_budget_mobilenext_100_half():
    """MobileNeXt-1.0 at 224 px (building it and counting takes ~3 s): 0.5 of 311,342,592 MAdds within 1%."""
    from official.core import registry

    model = registry.create_model("mobilenext_100")
    groups = channel_groups(model)
    alpha = fit_budget(model, groups, np.ones(len(groups)), 0.5, (224, 224, 3))
    pruned = prune_model(model, groups, keep_from_ratios(model, groups, alpha))
    assert 0.495 <= count_madds(pruned).total / count_madds(model).total <= 0.5
