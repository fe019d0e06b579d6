"""DSA on the released checkpoints' network (projection-shortcut CIFAR ResNets) and their |BN gamma|
importance: grouping gives the official components (one stream group per stage: stem + stage 1's second
convs; each later stage's 1x1 shortcut + second convs; every block's first conv alone; 3 + 3n groups),
and `training.importance: bn` ranks channels by the primal's |gamma| in keep_from_ratios, the gate and
the trainer, while the default stays the filter L1 norm."""

from __future__ import annotations

import numpy as np
import pytest

from official.core import model_table, registry, zoo_index
from official.training.dsa import method as dsa_method
from official.training.dsa.config import DSAConfig
from official.training.dsa.gate import ChannelGate, filter_l1
from official.training.dsa.graph import analyse, channel_groups
from official.training.dsa.prune import keep_from_ratios, primal_norm
from tests.official.training.dsa.dsa_helpers import randomise_bn

zoo_index.import_all()


@pytest.mark.parametrize("name, n", [("resnet20_cifar_dsconv", 3), ("resnet56_cifar_dsconv", 9)])
def test_projection_shortcut_groups_are_the_official_components(name, n):
    with model_table.shape_only():
        gi = analyse(registry.create_model(name))
    for o in gi.ops:
        if o.kind == "add":
            assert len({gi.space[i] for i in o.inputs}) == 1, o.name
    assert len(gi.groups) == 3 + 3 * n
    streams = [g for g in gi.groups if len(g.members) > 1]
    b = range(n)
    assert [set(g.members) for g in streams] == [
        {"resnet_stem_conv", *(f"resnet_layer1_{i}_2_conv" for i in b)},
        {"resnet_layer2_0_down_conv", *(f"resnet_layer2_{i}_2_conv" for i in b)},
        {"resnet_layer3_0_down_conv", *(f"resnet_layer3_{i}_2_conv" for i in b)},
    ]
    assert [g.channels for g in streams] == [16, 32, 64]
    singles = [g.members for g in gi.groups if len(g.members) == 1]
    assert singles == [(f"resnet_layer{s}_{i}_1_conv",) for s in (1, 2, 3) for i in b]
    assert all(set(g.offsets) == {0} for g in gi.groups)  # no option-A slots


def _model():
    model = registry.create_model("resnet20_cifar_dsconv", blocks_per_stage=1, widths=(6, 8, 10),
                                  input_shape=(8, 8, 3), classes=3)
    randomise_bn(model, seed=3)
    return model


def test_bn_importance_ranks_by_gamma_in_pruning_and_gate():
    model = _model()
    info = analyse(model)
    groups = info.groups
    alpha = np.full(len(groups), 0.5)
    keep_bn = keep_from_ratios(model, groups, alpha, importance="bn")
    keep_l1 = keep_from_ratios(model, groups, alpha)
    assert any(not np.array_equal(keep_bn[g.index], keep_l1[g.index]) for g in groups)
    for g in groups:
        gamma = np.abs(np.asarray(primal_norm(info, g).gamma))
        k = int(np.floor(0.5 * g.channels + 0.5))
        np.testing.assert_array_equal(keep_bn[g.index], np.sort(np.argsort(-gamma, kind="stable")[:k]))
        primal = info.op(g.primal).layer
        gate = ChannelGate.for_group(g, primal, norm=primal_norm(info, g), theta_init=0.0)  # alpha = 0.5
        np.testing.assert_allclose(np.asarray(gate.importance()), gamma, rtol=1e-6)
        np.testing.assert_array_equal(np.flatnonzero(np.asarray(gate.inference_mask())), keep_bn[g.index])
        default = ChannelGate.for_group(g, primal, theta_init=0.0)
        np.testing.assert_allclose(np.asarray(default.importance()), np.asarray(filter_l1(primal.kernel)), rtol=1e-6)
        np.testing.assert_array_equal(np.flatnonzero(np.asarray(default.inference_mask())), keep_l1[g.index])


def test_trainer_importance_key():
    model = _model()
    trainer = dsa_method.DSATrainer(model, DSAConfig(importance="bn"), total_steps=1)
    info = analyse(model)
    for gate, g in zip(trainer.gates, channel_groups(model), strict=True):
        np.testing.assert_allclose(np.asarray(gate.importance()), np.abs(np.asarray(primal_norm(info, g).gamma)))
    with pytest.raises(ValueError, match="training.importance"):
        dsa_method.DSATrainer(model, DSAConfig(importance="gamma"), total_steps=1)
