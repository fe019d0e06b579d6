"""DSA topological grouping (spec check 4): residual adds tie groups, option-A shortcuts tie the streams of
all stages into one group (the official DownsampleA component), depthwise convs tie their input, each
block's first conv is a free group; counts by formula on ResNet-20/56, ResNet-18 and MobileNeXt."""

from __future__ import annotations

import functools

import pytest

from official.training.dsa.graph import analyse, channel_groups
from official.vision.mobilenext.model import block_plan
from tests.official.training.dsa.dsa_helpers import tiny


@functools.cache
def info(name):
    return analyse(tiny(name))


def _add_inputs_tied(gi):
    adds = [o for o in gi.ops if o.kind == "add"]
    assert adds
    for o in adds:
        spaces = {gi.space[i] for i in o.inputs}
        assert len(spaces) == 1 and next(iter(spaces))[0] is not None, o.name
        assert gi.space[o.name] == gi.space[o.inputs[0]]


@pytest.mark.parametrize("name, n", [("resnet20_cifar", 3), ("resnet56_cifar", 9)])
def test_cifar_resnet_groups(name, n):
    gi = info(name)
    _add_inputs_tied(gi)
    stream, *free = gi.groups
    assert len(gi.groups) == 1 + 3 * n
    # one stream group over all three stages (option A ties them), 64 slots
    assert stream.channels == 64 and stream.primal == "resnet_layer3_0_2_conv"
    assert stream.members[0] == "resnet_stem_conv" and len(stream.members) == 1 + 3 * n
    assert stream.ranges() == [(24, 40), (16, 48), (0, 64)]
    expected = {"resnet_stem_conv": (24, 16)}
    for stage, (offset, width) in enumerate([(24, 16), (16, 32), (0, 64)]):
        for i in range(n):
            expected[f"resnet_layer{stage + 1}_{i}_2_conv"] = (offset, width)
    got = {m: (o, w) for m, o, w in zip(stream.members, stream.offsets, stream.widths, strict=True)}
    assert got == expected
    assert stream.norms == tuple(m.replace("_conv", "_bn") for m in stream.members)
    # each block's first conv is its own group, in topological order
    assert [g.members for g in free] == [
        (f"resnet_layer{s + 1}_{i}_1_conv",) for s in range(3) for i in range(n)
    ]
    assert [g.channels for g in free] == [16] * n + [32] * n + [64] * n
    assert [g.index for g in gi.groups] == list(range(len(gi.groups)))
    # the zero-pad shortcut places stage s channel c at slot c + offset of the next stage
    pad = gi.op("resnet_layer2_0_shortcut")
    assert gi.space[pad.inputs[0]] == (0, 24) and gi.space[pad.name] == (0, 16)
    # image and logits are never pruned
    assert gi.space["images"] == (None, 0) and gi.space["logits"] == (None, 0)


def test_resnet18_projection_groups():
    gi = info("resnet18")
    _add_inputs_tied(gi)
    streams = [g for g in gi.groups if len(g.members) > 1]
    assert [g.members for g in streams] == [
        ("resnet_stem_conv", "resnet_layer1_0_2_conv", "resnet_layer1_1_2_conv"),
        *[(f"resnet_layer{s}_0_down_conv", f"resnet_layer{s}_0_2_conv", f"resnet_layer{s}_1_2_conv")
          for s in (2, 3, 4)],
    ]
    assert [g.primal for g in streams] == [g.members[0] for g in streams]
    assert len(gi.groups) == 4 + 8
    assert all(g.offsets == (0,) * len(g.members) for g in gi.groups)


def test_mobilenext_groups():
    gi = info("mobilenext_035")
    plans = block_plan(0.35)
    _add_inputs_tied(gi)
    stages = sum(not p.residual for p in plans)
    # stem (+ block0's first depthwise), one free group per block's reduce conv, one stream per stage
    assert len(gi.groups) == 1 + len(plans) + stages
    assert gi.groups[0].members == ("stem_conv", "block0/dw1")
    for o in gi.ops:
        if o.kind == "depthwise":  # depthwise ties its input and output channels
            assert gi.space[o.name] == gi.space[o.inputs[0]] and gi.space[o.name][0] is not None
    reduce = [g for g in gi.groups if g.primal.endswith("/reduce")]
    assert [g.members for g in reduce] == [(f"block{i}/reduce",) for i in range(len(plans))]
    for i, plan in enumerate(plans):  # a residual block's expand joins the previous block's stream
        g = gi.space[f"block{i}/expand"][0]
        if plan.residual:
            assert g == gi.space[f"block{i - 1}/expand"][0]
        else:
            assert gi.groups[g].primal == f"block{i}/expand"
    assert gi.space["avg_pool"][0] is not None and gi.space["logits"] == (None, 0)


def test_channel_groups_is_analyse():
    assert channel_groups(tiny("resnet20_cifar")) == info("resnet20_cifar").groups
