"""Card checks 1 (soft-argmax through the model's joints layer), 2 (part grouping and reassembly), 4 (parameter
accounting), and the TF-vs-JAX forward parity of the derived network (METHOD_CONTRACT item 9)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from official.core import registry
from research.three_d.partaware_pose import genotypes as gt
from research.three_d.partaware_pose.model import IntegralJoints, PartAwarePoseNet
from research.three_d.partaware_pose.ops import MixedOp
from research.three_d.partaware_pose.parts import H36M_PART_GROUPS, channel_permutation, check_groups
from tests import helpers
from tests.research.three_d.partaware_pose.pa_fixtures import MICRO

BASELINE = 34_274_944  # spec card: ResNet-50 trunk 23,508,032 + deconvs 10,487,296 + 1x1 conv 279,616
DERIVED = 7_942_232  # the default genotype's derived network (README "Parameter count")


def test_parameter_counts():
    baseline = registry.create_model("partaware_pose_r50baseline")
    assert helpers.trainable_count(baseline) == BASELINE
    trunk = sum(int(np.prod(v.shape)) for v in baseline.trainable_weights if "resnet" in v.path)
    assert trunk == 23_508_032
    derived = registry.create_model("partaware_pose_derived")
    assert helpers.trainable_count(derived) == DERIVED < 0.5 * BASELINE
    assert derived.output.shape[1:] == (17, 3) and derived.volumes_model().output.shape[1:] == (64, 64, 17 * 64)


def test_part_groups_cover_each_joint_once_and_reassemble_in_dataset_order():
    assert sorted(j for g in H36M_PART_GROUPS for j in g) == list(range(17))
    with pytest.raises(ValueError, match="exactly once"):
        check_groups(((0, 1), (1, 2)), 3)
    keras.utils.set_random_seed(0)
    model = PartAwarePoseNet(**MICRO)
    d = MICRO["depth_bins"]
    for p, group in enumerate(H36M_PART_GROUPS):  # head p emits constant maps: channel i*D+b = joint*D + b
        final = model.get_layer("body").head_finals[p]
        final.kernel.assign(np.zeros(final.kernel.shape, "float32"))
        final.bias.assign(np.asarray([j * d + b for j in group for b in range(d)], "float32"))
    volumes = np.asarray(model.volumes_model()(np.zeros((1, 32, 32, 3), "float32")))
    assert volumes.shape == (1, 8, 8, 17 * d)
    np.testing.assert_array_equal(volumes[0, 3, 5], np.arange(17 * d))
    assert sorted(channel_permutation(H36M_PART_GROUPS, d)) == list(range(17 * d))
    assert not any(isinstance(layer, MixedOp) for layer in model._flatten_layers())  # derived: discrete ops only


def test_soft_argmax_decodes_deltas_and_blobs_with_gradients():
    j, d, h, w = 2, 11, 13, 15
    layer = IntegralJoints(j, d)
    targets = [(3, 1, 4), (0, 4, 2)]  # (x, y, z) voxels
    volumes = np.full((1, h, w, j * d), -1e4, "float32")
    for k, (x, y, z) in enumerate(targets):
        volumes[0, y, x, k * d + z] = 1e4
    np.testing.assert_allclose(np.asarray(layer(volumes))[0], targets, atol=1e-5)
    yy, xx, zz = np.meshgrid(np.arange(h), np.arange(w), np.arange(d), indexing="ij")
    centre = np.array([7.3, 6.4, 5.3])  # a Gaussian log-blob (sigma 1 voxel) 5+ sigma inside the grid
    blob = -((xx - centre[0]) ** 2 + (yy - centre[1]) ** 2 + (zz - centre[2]) ** 2) / 2.0
    volumes = np.stack([blob, blob], axis=-2).reshape(1, h, w, j * d).astype("float32")
    np.testing.assert_allclose(np.asarray(layer(volumes))[0, 0], centre, atol=1e-3)
    import tensorflow as tf

    v = tf.Variable(np.random.default_rng(0).normal(size=(1, 4, 5, j * 3)).astype("float32"))
    with tf.GradientTape() as tape:
        out = tf.reduce_sum(IntegralJoints(j, 3)(v) * np.arange(1, 7, dtype="float32").reshape(1, 2, 3))
    grad = tape.gradient(out, v).numpy()
    assert np.all(np.isfinite(grad)) and np.all(grad != 0.0)


def test_jax_forward_matches_tensorflow(tmp_path):
    """Two part heads with interleaved joints (the reassembly permutation is not the identity)."""
    keras.utils.set_random_seed(0)
    two = ((0, 7, 8, 9, 10, 11, 12, 13), (1, 2, 3, 4, 5, 6, 14, 15, 16))
    genotype = dict(gt.DEFAULT_GENOTYPE, parts=gt.DEFAULT_GENOTYPE["parts"][:2])
    model = PartAwarePoseNet(**dict(MICRO, part_groups=two, genotype=genotype))
    helpers.randomise_weights(model, 0)
    x = np.random.default_rng(1).normal(size=(2, 32, 32, 3)).astype("float32")
    helpers.check_config_round_trip(model, x)
    assert helpers.check_jax_parity(model, tmp_path, x, atol=1e-4) <= 1e-4
