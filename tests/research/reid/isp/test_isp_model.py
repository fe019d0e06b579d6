"""ISP network: HRNet-W32 and head parameter counts, official key names and shapes, output shapes (card
checks 1-2, built by weight shape only), and the pooling identities on a tiny width (check 3)."""

from __future__ import annotations

import json
import os

import keras
import numpy as np
import pytest

from official.core import model_table, registry
from official.core.checkpoint_convert import torch_shape
from research.reid.isp import convert
from research.reid.isp.model import ISPNet
from tests import helpers

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "isp_hrnet32_official_keys.json")
HEAD = ("incre_modules", "cls_head", "spatial_attn", "part_cls_layer", "bottleneck_", "classifier_")
TINY = dict(input_shape=(64, 32, 3), num_classes=5)


def _count(model, prefix: str) -> int:
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights if w.path.split("/")[0].startswith(prefix))


def test_w32_counts_shapes_and_official_keys():
    keras.backend.clear_session()
    with model_table.shape_only():
        model = registry.create_model("isp_hrnet32")
        # official Baseline(HRNet32, 751 ids): 32,918,350 trainable (requires_grad) parameters
        assert helpers.trainable_count(model) == 32_918_350
        trunk = sum(int(np.prod(w.shape)) for w in model.trainable_weights if not w.path.startswith(HEAD))
        assert trunk == 29_305_536  # the registered hrnet_w32 trunk (cls_hrnet.py stem..stage4)
        assert _count(model, "cls_head") == 492_288
        assert _count(model, "part_cls_layer") == 1_799
        assert _count(model, "spatial_attn") == 2_311
        assert _count(model, "incre_modules") == 1_576_320
        # check 1: branch maps, incre + concat, head, part logits, test feature
        shapes = {layer.name: tuple(layer.output.shape[1:]) for layer in model.layers if hasattr(layer.output, "shape")}
        branches = [tuple(model.get_layer(f"incre_modules.{i}.0.conv1").input.shape[1:]) for i in range(4)]
        assert branches == [(64, 32, 32), (32, 16, 64), (16, 8, 128), (8, 4, 256)]  # stage-4 branch maps
        assert [shapes[f"incre_modules.{i}.0.bn3"] for i in range(4)] == [
            (64, 32, 128), (32, 16, 256), (16, 8, 512), (8, 4, 1024)]
        concat = [s for n, s in shapes.items() if s[-1] == 1920]
        assert concat == [(64, 32, 1920)]
        assert shapes["cls_head.1"] == (64, 32, 256)
        out = model.output
        assert tuple(out["part_logits"].shape[1:]) == (64, 32, 7)
        assert tuple(out["embedding"].shape[1:]) == (2048,)
        # every official state-dict tensor has a Keras weight of its shape (and nothing else)
        with open(FIXTURE) as f:
            official = json.load(f)["shapes"]
        ours = {key: list(torch_shape(tuple(v.shape)) if t is not np.transpose else v.shape[::-1])
                for key, v, t in convert.weight_map(model)}
        frozen = {k for k in official if k.endswith("num_batches_tracked") or k.startswith("bottleneck_") and k.endswith(".bias")}
        assert {k: v for k, v in official.items() if k not in frozen} == ours


def test_hrnet_backbone_is_the_isp_trunk():
    """hrnet_w32 (the registered backbone) and ISP build the same trunk layers (tiny width here)."""
    keras.backend.clear_session()
    kw = dict(input_shape=(64, 32, 3), width=4, stem_channels=8, layer1_planes=8, layer1_blocks=1,
              stage_modules=(1, 1, 1), blocks=1)
    backbone = registry.create_model("hrnet_w32", **kw)
    isp = registry.create_model("isp_hrnet_tiny", **TINY)
    trunk = {w.path: tuple(w.shape) for w in isp.weights if not w.path.startswith(HEAD)}
    assert {w.path: tuple(w.shape) for w in backbone.weights} == trunk
    assert [tuple(o.shape[1:]) for o in backbone.outputs] == [(16, 8, 4), (8, 4, 8), (4, 2, 16), (2, 1, 32)]


@pytest.fixture(scope="module")
def tiny():
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = registry.create_model("isp_hrnet_tiny", **TINY)
    helpers.randomise_weights(model, 0)
    x = np.random.default_rng(0).normal(size=(3, 64, 32, 3)).astype(np.float32)
    return model, x, {k: np.asarray(v, np.float64) for k, v in model(x, training=False).items()}


def test_pooling_identities(tiny):
    """Check 3: y_part = GAP(X * P_k), y_fore = GAP(X * (1 - P_0)), y_global = GAP(X); BNNeck and L2 norm."""
    _, _, out = tiny
    x, logits = out["feature_map"], out["part_logits"]
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    parts = np.concatenate([(x * p[..., k:k + 1]).mean((1, 2)) for k in range(1, 7)], axis=1)
    np.testing.assert_allclose(out["y_part"], parts, atol=1e-6)
    np.testing.assert_allclose(out["y_fore"], (x * (1.0 - p[..., :1])).mean((1, 2)), atol=1e-6)
    np.testing.assert_allclose(out["y_global"], x.mean((1, 2)), atol=1e-6)
    assert np.abs(out["y_part"]).max() > 1e-3
    np.testing.assert_allclose(np.linalg.norm(out["embedding"], axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(out["embedding"], out["features"] / np.linalg.norm(out["features"], axis=1, keepdims=True), atol=1e-6)
    visible = np.stack([(logits.argmax(-1) == k).any((1, 2)) for k in range(1, 7)], axis=1)
    np.testing.assert_array_equal(out["visibility"], visible.astype(np.float64))


def test_bnneck_has_no_shift_and_classifier_init(tiny):
    model, _, _ = tiny
    fresh = ISPNet(**{**model.constructor_args})
    bn = fresh.get_layer("bottleneck_part")
    assert not bn.center and bn.gamma.shape == (96,)
    std = float(np.std(np.asarray(fresh.get_layer("classifier_global").kernel)))
    assert 0.0005 < std < 0.002  # N(0, 0.001)


def test_config_and_keras_round_trip(tiny, tmp_path):
    model, x, _ = tiny
    helpers.check_config_round_trip(model, x, atol=1e-5)
    helpers.check_keras_round_trip(model, tmp_path, x, atol=1e-5)
