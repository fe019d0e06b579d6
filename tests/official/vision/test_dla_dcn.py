"""official/vision/backbones/dla_dcn.py: DLA-34 + deformable DLA-up neck (KM3D pose_dla_dcn.py DLASeg trunk).

Official counts: KM3D's DLASeg (Banconxuan/RTM3D src/lib/models/networks/pose_dla_dcn.py) instantiated
with pretrained=False, down_ratio 4, last_level 5, head_conv 256, heads {hm 3, wh 2, hps 18, rot 8,
dim 3, prob 1, reg 2, hm_hp 9, hp_offset 2}, its DCN replaced by a module with DCN's parameters
(weight, bias, conv_offset_mask 3*9 outputs with bias): 20,552,912 trainable in all, 1,341,744 in the
heads, so 19,211,168 in the trunk (base 15,270,832 + dla_up 3,515,012 + ida_up 425,324), 16 DCNs with
638,064 offset/mask-conv parameters. 41,728 of the trunk's are the `project` 1x1 conv + BN of the outer
level-3 (64->128) and level-4 (128->256) trees, created by PyTorch but never used in forward.

Not here (it needs the official code, which stays out of the repo): a one-off forward comparison of
the official trunk (DCN stand-in running DCN.forward with a grid_sample DCN op) and DLA34DCNSeg with
the same random weights mapped by name, 64x192, mean |offset| 2: max |diff| 2.1e-6.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from official.ops.deform_conv import DeformConv2D
from official.vision.backbones.dla_dcn import OUTPUT_LAYER, DLA34DCNSeg
from tests import helpers

OFFICIAL_TRUNK = 19_211_168
OFFICIAL_UNUSED_PROJECTS = (64 * 128 + 2 * 128) + (128 * 256 + 2 * 256)  # 41,728
OFFICIAL_OFFSET_CONVS = 638_064
OFFICIAL_DCN_IO = sorted(
    [(512, 256), (256, 256)]  # dla_up.ida_0
    + [(256, 128), (128, 128)] * 2  # dla_up.ida_1
    + [(128, 64), (64, 64)] * 3  # dla_up.ida_2
    + [(128, 64), (64, 64), (256, 64), (64, 64)]  # ida_up
)


def test_trunk_parameter_count_matches_official():
    keras.backend.clear_session()
    model = DLA34DCNSeg()
    assert OFFICIAL_UNUSED_PROJECTS == 41_728
    assert helpers.trainable_count(model) == OFFICIAL_TRUNK - OFFICIAL_UNUSED_PROJECTS
    dcns = [layer for layer in model.layers if isinstance(layer, DeformConv2D)]
    assert sorted((int(d.kernel.shape[2]), d.filters) for d in dcns) == OFFICIAL_DCN_IO
    assert (
        sum(int(np.prod(d.offset_kernel.shape)) + int(d.offset_bias.shape[0]) for d in dcns)
        == OFFICIAL_OFFSET_CONVS
    )
    assert model.get_layer(OUTPUT_LAYER).output is model.outputs[0]

    plain = DLA34DCNSeg(deformable=False)
    assert not any(isinstance(layer, DeformConv2D) for layer in plain.layers)
    assert helpers.trainable_count(plain) == OFFICIAL_TRUNK - OFFICIAL_UNUSED_PROJECTS - OFFICIAL_OFFSET_CONVS


def _random_trunk():
    keras.backend.clear_session()
    model = DLA34DCNSeg(input_shape=(64, 192, 3))
    helpers.randomise_weights(model, seed=0)  # offset convs too: the DCNs really deform
    return model, helpers.random_inputs(model, batch=1)


def test_forward_stride_4_and_config_round_trip():
    model, x = _random_trunk()
    (out,) = helpers.outputs_of(model, x)
    assert out.shape == (1, 16, 48, 64)
    assert np.all(np.isfinite(out)) and np.max(np.abs(out)) > 1e-2
    helpers.check_config_round_trip(model, x)


@pytest.mark.slow
@pytest.mark.jax
def test_jax_parity(tmp_path):
    """Same config and weights under KERAS_BACKEND=jax (~60 s here: JAX compiles each initializer
    and each eager op of the 146-layer graph once; test_deform_conv.py has the quick JAX check)."""
    model, x = _random_trunk()
    worst = helpers.check_jax_parity(model, tmp_path, x, atol=1e-4)
    print(f"TF vs JAX max |diff| {worst:.3g}")
