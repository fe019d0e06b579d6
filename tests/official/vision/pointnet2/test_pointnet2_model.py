"""PointNet++ (spec card pointmixup.md check 6; METHOD_CONTRACT item 1): the MSG classifier's trainable count
1,742,856 (per stage as the card hand-counts it) and SSG's, and the layers' semantics against a numpy replay of
Pointnet2_PyTorch (FPS from point 0, ball query in index order padded with the first hit, centre-relative xyz
before the features, shared MLP conv-BN-ReLU, max pool; group-all on raw xyz; 3-NN inverse-distance feature
propagation with [interpolated, skip] order); `run_stages` equals the functional forward."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from official.core.registry import create_model
from official.layers.pointnet2 import FeaturePropagation, SetAbstraction
from official.vision.pointnet2 import variants  # noqa: F401  (registration)
from official.vision.pointnet2.model import PointNet2Classifier
from tests.helpers import randomise_weights

MICRO = ((8, (0.5,), (6,), ((8,),)), (None, (), (), ((16,),)))  # one SSG stage + group-all: the cheapest graph


def test_msg_and_ssg_trainable_counts_and_output():
    msg = create_model("pointnet2_msg_modelnet40")
    assert msg.trainable_parameter_count == 1_742_856
    per_stage = [sum(int(np.prod(v.shape)) for v in sa.trainable_weights) for sa in msg.sa_layers]
    assert per_stage == [35_616, 216_512, 823_552]  # the card's SA1 + SA2 + SA3; head 667,176
    assert msg.output_shape == (None, 40) and msg.input_shape == (None, 1024, 3)
    # Pointnet2_PyTorch SSG: [64,64,128] r 0.2, [128,128,256] r 0.4, [256,512,1024], the same head
    assert create_model("pointnet2_ssg_modelnet40").trainable_parameter_count == 1_472_360


def _fps(x, k):
    chosen, dist = [0], np.full(len(x), 1e10)
    for _ in range(k - 1):
        dist = np.minimum(dist, ((x - x[chosen[-1]]) ** 2).sum(-1))
        chosen.append(int(np.argmax(dist)))
    return np.asarray(chosen)


def _ball(x, center, r, k):
    hits = [i for i in range(len(x)) if ((x[i] - center) ** 2).sum() < r * r][:k]
    first = hits[0] if hits else 0
    return np.asarray(hits + [first] * (k - len(hits)))


def _mlp(layer, x):
    """SharedMLP in inference mode, from its Keras weights."""
    for conv, bn in zip(layer.convs, layer.norms, strict=True):
        x = x @ np.asarray(conv.kernel)
        x = (x - np.asarray(bn.moving_mean)) / np.sqrt(np.asarray(bn.moving_variance) + 1e-5)
        x = np.maximum(x * np.asarray(bn.gamma) + np.asarray(bn.beta), 0)
    return x


def test_set_abstraction_msg_and_group_all_match_a_numpy_replay():
    rng = np.random.default_rng(0)
    xyz = rng.uniform(-1, 1, (2, 40, 3)).astype(np.float32)
    feats = rng.normal(size=(2, 40, 5)).astype(np.float32)
    sa = SetAbstraction(((6, 8), (4,)), npoint=10, radii=(0.5, 0.9), nsamples=(4, 7))
    new_xyz, new_feats = sa(xyz, feats)
    randomise_weights(sa, 1)  # moving statistics too, so BN's inference form is exercised
    new_xyz, new_feats = (np.asarray(t) for t in sa(xyz, feats))
    assert new_feats.shape == (2, 10, 12)
    for b in range(2):
        idx = _fps(xyz[b], 10)
        np.testing.assert_array_equal(new_xyz[b], xyz[b][idx])
        outs = []
        for mlp, r, k in zip(sa.mlps, (0.5, 0.9), (4, 7), strict=True):
            rows = []
            for c in xyz[b][idx]:
                g = _ball(xyz[b], c, r, k)
                rows.append(_mlp(mlp, np.concatenate([xyz[b][g] - c, feats[b][g]], -1)).max(0))
            outs.append(np.stack(rows))
        np.testing.assert_allclose(new_feats[b], np.concatenate(outs, -1), rtol=1e-4, atol=1e-5)
    group_all = SetAbstraction(((8, 6),))
    group_all(xyz, feats)
    randomise_weights(group_all, 2)
    centre, pooled = (np.asarray(t) for t in group_all(xyz, feats))
    want = _mlp(group_all.mlps[0], np.concatenate([xyz, feats], -1)).max(1)  # raw xyz, not re-centred
    np.testing.assert_allclose(pooled[:, 0], want, rtol=1e-4, atol=1e-5)
    assert not centre.any()


def test_feature_propagation_matches_a_numpy_replay():
    rng = np.random.default_rng(3)
    unknown, known = rng.uniform(size=(1, 12, 3)).astype(np.float32), rng.uniform(size=(1, 5, 3)).astype(np.float32)
    skip, kf = rng.normal(size=(1, 12, 2)).astype(np.float32), rng.normal(size=(1, 5, 4)).astype(np.float32)
    fp = FeaturePropagation((6,))
    fp(unknown, known, skip, kf)
    randomise_weights(fp, 4)
    got = np.asarray(fp(unknown, known, skip, kf))
    d = np.sqrt(((unknown[0][:, None] - known[0][None]) ** 2).sum(-1))
    nn = np.argsort(d, 1)[:, :3]
    w = 1 / (np.take_along_axis(d, nn, 1) + 1e-8)
    w /= w.sum(1, keepdims=True)
    interp = (kf[0][nn] * w[..., None]).sum(1)
    np.testing.assert_allclose(got[0], _mlp(fp.mlp, np.concatenate([interp, skip[0]], -1)), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("stages", [MICRO])
def test_run_stages_is_the_functional_forward_and_the_hook_sees_each_level(stages):
    keras.utils.set_random_seed(0)
    net = PointNet2Classifier(classes=3, num_points=24, stages=stages, head_widths=(8,))
    randomise_weights(net, 5)
    x = np.random.default_rng(6).uniform(-1, 1, (2, 24, 3)).astype(np.float32)
    seen = []

    def hook(level, xyz, features):
        seen.append((level, tuple(xyz.shape), None if features is None else tuple(features.shape)))
        return xyz, features

    np.testing.assert_allclose(np.asarray(net.run_stages(x, hook)), np.asarray(net(x)), atol=1e-6)
    assert seen == [(0, (2, 24, 3), None), (1, (2, 8, 3), (2, 8, 8))]
    rebuilt = PointNet2Classifier.from_config(net.get_config())
    assert rebuilt.count_params() == net.count_params()
