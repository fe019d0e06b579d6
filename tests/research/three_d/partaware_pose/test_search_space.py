"""Card check 3: the DARTS mixed op and the derived-cell extraction; the alpha softmax and genotype config."""

from __future__ import annotations

import numpy as np
import pytest

from research.three_d.partaware_pose import genotypes as gt
from research.three_d.partaware_pose.ops import MixedOp
from research.three_d.partaware_pose.search import op_weights


def test_mixed_op_with_one_hot_alpha_is_that_op():
    """Stride 2 (a reduction edge): every op strided, skip = factorized reduce (stride 1 shares the code)."""
    stride = 2
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 4)).astype("float32")
    mixed = MixedOp(4, stride, affine=False)
    for k, name in enumerate(gt.PRIMITIVES):
        w = np.eye(len(gt.PRIMITIVES), dtype="float32")[k]
        got = np.asarray(mixed(x, w, training=False))
        assert got.shape == (2, 8 // stride, 8 // stride, 4)
        if name == "zero":
            assert not np.any(got), "a one-hot zero op must output zeros"
            continue
        want = np.asarray(mixed.candidates[k - 1](x, training=False))
        assert mixed.candidates[k - 1].name == name
        np.testing.assert_array_equal(got, want, err_msg=name)
    assert np.abs(got).max() > 1e-3


def test_op_weights_are_a_softmax_over_the_candidates_of_each_edge():
    alpha = np.random.default_rng(1).normal(size=(gt.NUM_EDGES, len(gt.PRIMITIVES))).astype("float32")
    w = np.asarray(op_weights(alpha))
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-6)
    want = np.exp(alpha) / np.exp(alpha).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(w, want, atol=1e-6)


def test_derived_cell_keeps_two_inputs_per_node_and_never_zero():
    rng = np.random.default_rng(2)
    for _ in range(20):
        weights = rng.dirichlet(np.ones(len(gt.PRIMITIVES)), size=gt.NUM_EDGES)
        weights[:, 0] += 1.0  # zero dominates every edge: it must still never be chosen
        cell = gt.derive_cell(weights)
        assert len(cell) == 2 * gt.INTERMEDIATE_NODES
        for k in range(gt.INTERMEDIATE_NODES):
            (op_a, a), (op_b, b) = cell[2 * k], cell[2 * k + 1]
            assert a != b and 0 <= a < 2 + k and 0 <= b < 2 + k
            assert "zero" not in (op_a, op_b)
        gt.check_cell(cell)


def test_derived_cell_picks_the_strongest_edges_and_ops():
    w = np.full((gt.NUM_EDGES, len(gt.PRIMITIVES)), 0.01)
    # edge rows: node2 <- 0, 1 | node3 <- 0, 1, 2 | node4 <- 0, 1, 2, 3
    strongest = {0: ("sep_conv_3x3", 0.5), 1: ("max_pool_3x3", 0.4), 3: ("dil_conv_5x5", 0.3), 4: ("skip_connect", 0.6),
                 2: ("avg_pool_3x3", 0.2), 8: ("sep_conv_5x5", 0.9), 6: ("dil_conv_3x3", 0.8), 7: ("sep_conv_3x3", 0.1)}
    for row, (op, value) in strongest.items():
        w[row, gt.PRIMITIVES.index(op)] = value
    w[5, 0] = 0.95  # node 4 <- 0: only `zero` is strong there, so the edge ranks by its best other op (0.01)
    assert gt.derive_cell(w) == (("sep_conv_3x3", 0), ("max_pool_3x3", 1), ("dil_conv_5x5", 1),
                                 ("skip_connect", 2), ("dil_conv_3x3", 1), ("sep_conv_5x5", 3))


def test_genotype_config_is_checked():
    g = gt.check_genotype(gt.DEFAULT_GENOTYPE, 5)
    assert len(g["parts"]) == 5 and all(len(c) == 6 for c in g["parts"])
    with pytest.raises(ValueError, match="genotype.parts: 5 part cells, expected 4"):
        gt.check_genotype(gt.DEFAULT_GENOTYPE, 4)
    bad = dict(gt.DEFAULT_GENOTYPE, normal=(("zero", 0),) + gt.DEFAULT_GENOTYPE["normal"][1:])
    with pytest.raises(ValueError, match=r"genotype.normal\[0\]: op 'zero'"):
        gt.check_genotype(bad, 5)
    bad = dict(gt.DEFAULT_GENOTYPE, reduce=gt.DEFAULT_GENOTYPE["reduce"][:5] + (("skip_connect", 4),))
    with pytest.raises(ValueError, match="node 4 cannot read node 4"):
        gt.check_genotype(bad, 5)
