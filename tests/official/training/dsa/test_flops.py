"""DSA FLOPs model (spec check 5): with all alpha = 1 it is count_madds of the model; with a realised keep
set it is count_madds of the physically pruned model, and an independent loop over ResNet-20's layers."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from official.core.madds import count_madds
from official.training.dsa.flops import flops_model
from official.training.dsa.graph import channel_groups
from official.training.dsa.prune import realised_ratios
from tests.official.training.dsa.dsa_helpers import case, tiny


@pytest.mark.parametrize("name", ["resnet20_cifar", "mobilenext_035", "resnet18"])
def test_flops_model_matches_count_madds(name):
    model = tiny(name)
    groups = channel_groups(model)
    fm = flops_model(model, groups, model.inputs[0].shape[1:])
    assert fm(np.ones(len(groups))) == count_madds(model).total
    _, _, keep, pruned_model = case(name)
    ratios = realised_ratios(groups, keep)
    pruned = count_madds(pruned_model).total
    assert pruned < count_madds(model).total
    assert round(fm(ratios)) == pruned and abs(fm(ratios) - pruned) < 1e-6 * pruned
    # the same value through Keras tensors (the budget term of the alpha update)
    assert float(fm(keras.ops.convert_to_tensor(ratios, "float64"))) == pytest.approx(fm(ratios), rel=1e-12)


def test_flops_model_independent_loop_resnet20():
    """Kept channels per conv from the stream / block ratios by hand, k*k*H*W*C_in*C_out summed in numpy."""
    model = tiny("resnet20_cifar")
    _, groups, keep, pruned_model = case("resnet20_cifar")
    stream = len(keep[0]) / 64  # every stage's stream keeps this fraction
    block = [len(keep[g]) for g in range(1, 10)]
    total = 3 * 3 * 32 * 32 * 3 * round(16 * stream)  # stem
    b = 0
    for stage, (width, size) in enumerate([(16, 32), (32, 16), (64, 8)]):
        for i in range(3):
            c_in = round((width // 2 if stage and i == 0 else width) * stream)
            total += 9 * size * size * c_in * block[b]  # conv 1: stream -> block
            total += 9 * size * size * block[b] * round(width * stream)  # conv 2: block -> stream
            b += 1
    total += round(64 * stream) * 10  # logits
    fm = flops_model(model, groups, (32, 32, 3))
    assert round(fm(realised_ratios(groups, keep))) == total
    assert count_madds(pruned_model).total == total


def test_flops_model_quadratic_structure():
    """A[h, g] holds the conv from group g to group h; the stem (image input) and a depthwise are linear."""
    model = tiny("mobilenext_035")
    groups = channel_groups(model)
    fm = flops_model(model, groups, (32, 32, 3))
    rows = {r.name: r.madds for r in count_madds(model).rows}
    stem = groups[0]
    assert fm.B[stem.index] == rows["stem_conv"] + rows["block0/dw1"]
    assert fm.A[1, 0] == rows["block0/reduce"]  # stem group -> block0's reduce group
    assert fm.const == 0.0
