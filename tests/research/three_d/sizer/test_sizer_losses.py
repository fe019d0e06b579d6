"""SIZER spec-card checks 3 (ParserNet identity / convexity) and 4 (Chamfer vs cKDTree, Laplacian on a
planar grid), and the ParserNet regulariser and pretraining losses against numpy."""

import keras
import numpy as np
from scipy.spatial import Delaunay, cKDTree

from official.ops.mesh_ops import neighbour_lists
from research.three_d.sizer import losses, synthetic
from research.three_d.sizer.model import ParserNet

TEMPLATE = synthetic.make_template(seed=0)
K = 8


def _parser(seed=0):
    keras.utils.set_random_seed(seed)
    vi = TEMPLATE["vert_indices"]
    model = ParserNet(num_input_vertices=len(TEMPLATE["v_template"]), num_output_vertices=len(vi), num_neighbours=K)
    neighbours = synthetic.neighbour_order(TEMPLATE, K)
    model.set_neighbours(neighbours)
    return model, neighbours, vi


def test_parsernet_identity_and_convexity():
    model, neighbours, vi = _parser()
    rng = np.random.default_rng(0)
    reg = (TEMPLATE["v_template"][None] + 0.01 * rng.normal(size=(2, len(TEMPLATE["v_template"]), 3))).astype(np.float32)
    # random weights: each output vertex is a convex combination of its K candidates
    out = model(reg, training=False)
    w, parsed = np.asarray(out["weights"]), np.asarray(out["vertices"])
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-6)
    cands = reg[:, neighbours]  # (B, V, K, 3)
    np.testing.assert_allclose(parsed, np.einsum("bvk,bvkc->bvc", w, cands), atol=1e-6)
    for v in (0, 50, 191):
        assert Delaunay(cands[0, v].astype(np.float64)).find_simplex(parsed[0, v].astype(np.float64)) >= 0
    # "+inf" logit on the identity candidate: the output IS the input's garment vertices
    targets = losses.identity_targets(neighbours, vi)
    fc3 = model.get_layer("fc3")
    fc3.kernel.assign(np.zeros(fc3.kernel.shape, np.float32))
    fc3.bias.assign((1e4 * targets.reshape(-1)).astype(np.float32))
    out = model(reg, training=False)
    # equal to the last bit on some CPUs; 1 ulp off where the vectorised exp(0) rounds below 1 (AMD EPYC)
    np.testing.assert_allclose(np.asarray(out["vertices"]), reg[:, vi], rtol=3e-7, atol=0)
    assert float(losses.identity_pretrain_loss(out["weights"], targets)) < 1e-6  # -log(1 - 1 ulp) = 6e-8
    assert float(losses.local_regulariser(out["weights"], reg, neighbours)) < 1e-6


def test_identity_pretraining_and_local_regulariser_vs_numpy():
    model, neighbours, vi = _parser(1)
    targets = losses.identity_targets(neighbours, vi)
    assert (targets.sum(1) == 1).all() and (targets[:, 0] == 1).all()  # nearest candidate = itself
    reg = (TEMPLATE["v_template"][None] + 0.01 * np.random.default_rng(1).normal(size=(2, 578, 3))).astype(np.float32)
    w = np.asarray(model(reg, training=False)["weights"])
    cands = reg[:, neighbours]
    anchor = np.take_along_axis(cands, w.argmax(-1)[..., None, None], axis=2)
    expected = (w * np.linalg.norm(cands - anchor, axis=-1)).sum() / w.size
    np.testing.assert_allclose(float(losses.local_regulariser(w, reg, neighbours)), expected, rtol=1e-5)
    np.testing.assert_allclose(float(losses.identity_pretrain_loss(w, targets)),
                               np.abs(w - targets).sum(-1).mean(), rtol=1e-5)


def _numpy_chamfer(a, b):
    return cKDTree(b).query(a)[0] ** 2 @ np.full(len(a), 1 / len(a)) + cKDTree(a).query(b)[0] ** 2 @ np.full(len(b), 1 / len(b))


def test_chamfer_matches_ckdtree_and_laplacian_on_planar_grid():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(2, 150, 3)), rng.normal(size=(2, 110, 3))
    nb, mask = neighbour_lists(TEMPLATE["garment_faces"], len(TEMPLATE["vert_indices"]))
    # garment_loss on meshes without the template's faces: Chamfer term only (weight 0 for the Laplacian)
    from official.losses.chamfer import chamfer_distance
    got = np.asarray(chamfer_distance(a, b))
    np.testing.assert_allclose(got, [_numpy_chamfer(a[i], b[i]) for i in range(2)], atol=1e-6)
    np.testing.assert_allclose(np.asarray(chamfer_distance(b, a)), got, atol=1e-6)  # symmetric
    g = TEMPLATE["v_template"][TEMPLATE["vert_indices"]][None].astype(np.float32)
    terms = losses.garment_loss(g, g, nb, mask)
    assert float(terms["chamfer"]) == 0.0
    # planar regular grid (triangulated with one diagonal direction): interior vertices' uniform Laplacian is 0
    n = 9
    xs, ys = np.meshgrid(np.arange(n, dtype=np.float32), np.arange(n, dtype=np.float32), indexing="ij")
    grid = np.stack([xs.ravel(), ys.ravel(), np.zeros(n * n, np.float32)], -1)[None] * 0.01
    idx = np.arange(n * n).reshape(n, n)
    q = np.stack([idx[:-1, :-1], idx[1:, :-1], idx[1:, 1:], idx[:-1, 1:]], -1).reshape(-1, 4)
    faces = np.concatenate([q[:, [0, 1, 2]], q[:, [0, 2, 3]]])
    nb, mask = neighbour_lists(faces, n * n)
    interior = np.zeros((n, n), np.float32)
    interior[1:-1, 1:-1] = 1.0
    from official.ops.mesh_ops import laplacian_smoothing_loss
    assert float(laplacian_smoothing_loss(grid, nb, mask, interior.ravel())) < 1e-8
    noisy = grid + np.random.default_rng(3).normal(0, 0.002, grid.shape).astype(np.float32)
    assert float(laplacian_smoothing_loss(noisy, nb, mask, interior.ravel())) > 1e-4
    terms = losses.garment_loss(noisy, grid, nb, mask)
    np.testing.assert_allclose(float(terms["total"]), float(terms["chamfer"]) + 100 * float(terms["laplacian"]), rtol=1e-6)


def test_vertex_error_matches_scipy_and_weighs_examples():
    """The paper's metric against scipy's Euclidean distances (an independent implementation), edge cases
    (identical meshes, a rigid shift), and the running mean counting examples, not batches."""
    from scipy.spatial.distance import cdist

    from research.three_d.sizer.metrics import VertexError, vertex_errors_mm

    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(3, 50, 3)), rng.normal(size=(3, 50, 3))
    want = [np.diag(cdist(a[i], b[i])).mean() * 1000 for i in range(3)]
    np.testing.assert_allclose(np.asarray(vertex_errors_mm(a, b)), want, rtol=1e-5)
    np.testing.assert_array_equal(np.asarray(vertex_errors_mm(a, a)), 0.0)
    shifted = a + np.array([0.003, -0.004, 0.0])  # 5 mm at every vertex
    np.testing.assert_allclose(np.asarray(vertex_errors_mm(shifted, a)), 5.0, rtol=1e-4)
    metric = VertexError()
    metric.update_state(b[:1], a[:1])  # one example, then two
    metric.update_state(b[1:], a[1:])
    np.testing.assert_allclose(float(metric.result()), np.mean(want), rtol=1e-5)
