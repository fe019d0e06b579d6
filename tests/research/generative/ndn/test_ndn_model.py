"""NDN model: parameter counts, output shapes/ranges (spec check 6), relation completion, permutation
equivariance of the graph modules (spec check 5)."""

import numpy as np
import pytest
from keras import ops

from official.core.registry import create_model
from official.evaluation import layout_relations as R
from research.generative.ndn import variants  # noqa: F401
from research.generative.ndn.model import complete_relations, example_inputs
from tests import helpers


def _count(c, d, L, z):
    """Hand count: embeddings + L triplet convs (8 d^2 + 6 d each) per graph module, plus heads."""
    gm = (c + 1) * d + 6 * (d // 2) + 4 * (d - d // 2) + L * (8 * d * d + 6 * d)
    relation = 2 * gm + (d * 2 * z + 2 * z) + (z * d + d) + (3 * d * 6 + 6) + (3 * d * 4 + 4)
    generator = gm + (5 * d + d) + ((d + 4) * 2 * z + 2 * z) + ((d + z) * d + d) + (d * 4 + 4)
    refiner = gm + (4 * d + d) + (d * 4 + 4)
    return relation + generator + refiner


@pytest.fixture(scope="module")
def tiny():
    model = create_model("ndn_tiny", num_categories=5, max_elements=6)
    helpers.randomise_weights(model, 0)  # non-zero biases, fixed values: independent of the global seed state
    return model


def test_parameter_counts():
    assert _count(13, 32, 2, 8) == 73_810 and _count(13, 128, 5, 32) == 2_694_418
    assert create_model("ndn_tiny").count_params() == 73_810
    assert create_model("ndn_base").count_params() == 2_694_418


def test_shapes_ranges_and_padding(tiny):
    x = example_inputs(tiny, batch=3, seed=1)
    cats, nm = tiny.graph_nodes(x["categories"], x["mask"])
    loc_logits, size_logits = tiny.relation(cats, nm, x["loc_relations"], x["size_relations"], x["z_relation"])
    assert tuple(loc_logits.shape) == (3, 7, 7, 6) and tuple(size_logits.shape) == (3, 7, 7, 4)
    y = tiny(x)
    boxes = np.asarray(y["boxes"])
    assert boxes.shape == (3, 6, 4)
    valid = x["mask"] > 0
    assert np.all(boxes[valid] > 0) and np.all(boxes[valid] < 1)
    assert np.all(boxes[~valid] == 0)
    loc = np.asarray(y["loc_relations"])
    # Completed graph: every valid off-diagonal pair known, padding pairs unknown.
    nm = np.concatenate([np.ones((3, 1), bool), valid], 1)
    pair = nm[:, :, None] & nm[:, None, :] & ~np.eye(7, dtype=bool)[None]
    assert np.all(loc[pair] > 0) and np.all(loc[~pair] == 0)


def test_completion_keeps_given_and_is_inverse_consistent():
    rng = np.random.default_rng(0)
    n1 = 5
    given = np.zeros((2, n1, n1), "int32")
    given[:, 0, 1], given[:, 2, 3] = R.LOC_TOP, R.LOC_LEFT
    given[:, 3, 2] = R.LOC_RIGHT
    logits = rng.normal(size=(2, n1, n1, 6)).astype("float32")
    slog = rng.normal(size=(2, n1, n1, 4)).astype("float32")
    mask = np.ones((2, n1), "float32")
    mask[1, -1] = 0
    loc, size = (np.asarray(t) for t in complete_relations(given, given * 0, logits, slog, mask))
    assert np.all(loc[:, 0, 1] == R.LOC_TOP) and np.all(loc[:, 1, 0] == R.LOC_BOTTOM)
    assert np.all(loc[:, 2, 3] == R.LOC_LEFT) and np.all(loc[:, 3, 2] == R.LOC_RIGHT)
    np.testing.assert_array_equal(loc[0].T, R.LOC_INVERSE[loc[0]])
    np.testing.assert_array_equal(size[0].T, R.SIZE_INVERSE[size[0]])
    # Unknown entries take the argmax over known classes (never "unknown").
    expect = np.argmax(logits[0, 1, 2, 1:]) + 1
    assert loc[0, 1, 2] == expect
    assert np.all(loc[1, -1] == 0) and np.all(loc[1, :, -1] == 0)


def test_graph_modules_are_permutation_equivariant(tiny):
    rng = np.random.default_rng(3)
    n = tiny.max_elements
    boxes = np.concatenate([rng.uniform(0.2, 0.8, (1, n, 2)), rng.uniform(0.05, 0.3, (1, n, 2))], -1).astype("float32")
    mask = np.ones((1, n), "float32")
    cats = rng.integers(1, 6, (1, n)).astype("int32")
    loc, size = (m[None] for m in R.relation_matrices(boxes[0]))
    loc = np.where(rng.uniform(size=loc.shape) < 0.5, loc, 0)
    z = rng.normal(size=(1, tiny.latent_dim)).astype("float32")
    perm = rng.permutation(n)
    nperm = np.concatenate([[0], perm + 1])  # the canvas stays node 0

    def run(c, lo, si, b):
        nc, nm = tiny.graph_nodes(c, mask)
        ll, sl = tiny.relation(nc, nm, lo, si, z)
        ref = tiny.refiner(nc, nm, lo, si, b)
        return np.asarray(ll), np.asarray(sl), np.asarray(ref)

    a = run(cats, loc, size, boxes)
    b = run(cats[:, perm], loc[:, nperm][:, :, nperm], size[:, nperm][:, :, nperm], boxes[:, perm])
    np.testing.assert_allclose(b[0], a[0][:, nperm][:, :, nperm], atol=1e-5)
    np.testing.assert_allclose(b[1], a[1][:, nperm][:, :, nperm], atol=1e-5)
    np.testing.assert_allclose(b[2], a[2][:, perm], atol=1e-5)
    assert np.abs(a[2] - boxes).max() > 1e-3  # the refiner actually moves boxes
    assert float(ops.std(a[0])) > 0


def test_triplet_conv_matches_a_per_edge_loop():
    """sg2im's pooling written edge by edge: node i averages s_ij (i subject) and o_ji (i object) over valid pairs."""
    from research.generative.ndn.layers import TripletGraphConv, pair_mask_from

    rng = np.random.default_rng(7)
    n, d = 4, 6
    conv = TripletGraphConv(d, hidden=5)
    h = rng.normal(size=(1, n, d)).astype("float32")
    e = rng.normal(size=(1, n, n, d)).astype("float32")
    node_mask = np.array([[1, 1, 1, 0]], "float32")
    new_h, new_e = (np.asarray(t) for t in conv(h, e, pair_mask_from(node_mask)))
    w = [np.asarray(v) for v in conv.weights]  # net1_a k, b, net1_b k, b, net2_a k, b, net2_b k, b
    relu = lambda x: np.maximum(x, 0)  # noqa: E731
    msgs = {i: [] for i in range(n)}
    for i in range(n):
        for j in range(n):
            if i == j or not (node_mask[0, i] and node_mask[0, j]):
                continue
            t = relu(relu(np.concatenate([h[0, i], e[0, i, j], h[0, j]]) @ w[0] + w[1]) @ w[2] + w[3])
            msgs[i].append(t[:d])
            msgs[j].append(t[2 * d:])
            np.testing.assert_allclose(new_e[0, i, j], t[d:2 * d], atol=1e-5)
    for i in range(n):
        if not msgs[i]:
            np.testing.assert_array_equal(new_h[0, i], 0)
            continue
        ref = relu(relu(np.mean(msgs[i], 0) @ w[4] + w[5]) @ w[6] + w[7])
        np.testing.assert_allclose(new_h[0, i], ref, atol=1e-5)


def test_losses_match_a_numpy_reference(tiny):
    from research.generative.ndn.losses import ndn_losses
    from research.generative.ndn.model import example_batch

    b = example_batch(tiny, 3, seed=2)
    b["loc_partial"] = np.where(np.random.default_rng(0).uniform(size=b["loc_full"].shape) < 0.5, b["loc_full"], 0)
    out = {k: np.asarray(v) for k, v in tiny.train_forward(b).items()}
    got = {k: float(v) for k, v in ndn_losses(out, b, kl_weight=0.5).items()}
    nm = out["node_mask"]
    pm = nm[:, :, None] * nm[:, None, :] * (1 - np.eye(nm.shape[1]))[None]

    def ce(logits, labels):
        logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        return -(np.take_along_axis(logp, labels[..., None], -1)[..., 0] * pm).sum() / pm.sum()

    def kl(mu, lv):
        return 0.5 * (mu ** 2 + np.exp(lv) - lv - 1).sum(-1)

    el = b["mask"]
    ref = {"relation_loc_ce": ce(out["loc_logits"], b["loc_full"]),
           "relation_size_ce": ce(out["size_logits"], b["size_full"]),
           "relation_kl": kl(out["relation_mu"], out["relation_logvar"]).mean(),
           "layout_l1": (np.abs(out["generated"] - b["boxes"]).mean(-1) * el).sum() / el.sum(),
           "layout_kl": (kl(out["layout_mu"], out["layout_logvar"]) * el).sum() / el.sum(),
           "refine_l1": (np.abs(out["refined"] - b["boxes"]).mean(-1) * el).sum() / el.sum()}
    ref["loss"] = (ref["relation_loc_ce"] + ref["relation_size_ce"] + ref["layout_l1"] + ref["refine_l1"]
                   + 0.5 * (ref["relation_kl"] + ref["layout_kl"]))
    for k, v in ref.items():
        assert got[k] == pytest.approx(v, rel=1e-4), k
    assert ref["relation_kl"] > 0 and ref["layout_kl"] > 0
