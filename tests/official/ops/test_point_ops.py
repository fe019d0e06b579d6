"""Point ops (official/ops/point_ops.py): the C++ kernels AND the keras.ops composites against
numpy / scipy cKDTree / pykdtree references, Pointnet2 CUDA edge cases, gradients, and dispatch.

Each value test runs twice, `impl="kernel"` (official.ops.native's wrappers of the Zoo* ops) and
`impl="composite"` (point_ops.composite_*). The library is built by `pip install -e .`: this module
fails at import, not skips, when it is missing.
"""

import numpy as np
import pytest
import tensorflow as tf
from pykdtree.kdtree import KDTree
from scipy.spatial import cKDTree

from official.ops import native
from official.ops import point_ops as P
from tests import helpers

LIB = native.library()
assert LIB is not None, f"C++ kernels should be built by `pip install -e .`: {native.unavailable_reason()}"

NAMES = ("farthest_point_sample", "ball_query", "knn", "gather_points", "three_nn", "three_nn_interpolate")


def op(impl: str, name: str):
    if impl == "composite":
        return getattr(P, "composite_" + name)
    if name == "three_nn_interpolate":  # the public op's kernel path: ZooThreeNN + ZooThreeInterpolate
        return P.three_nn_interpolate
    return getattr(native, name)


def np_(t) -> np.ndarray:
    return t.numpy() if hasattr(t, "numpy") else np.asarray(t)


def cloud(batch: int, n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (batch, n, 3)).astype(np.float32)


def sq_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(M, N) float32 squared distances, summed x, y, z (the ops' order)."""
    d = a[:, None, :] - b[None, :, :]
    return (d[..., 0] * d[..., 0] + d[..., 1] * d[..., 1]) + d[..., 2] * d[..., 2]


def np_fps(points: np.ndarray, s: int) -> np.ndarray:
    out = np.zeros((len(points), s), np.int32)
    for b, xyz in enumerate(points):
        nearest = np.full(len(xyz), 1e10, np.float32)
        for i in range(1, s):
            nearest = np.minimum(nearest, sq_dist(xyz[out[b, i - 1]][None], xyz)[0])
            out[b, i] = np.argmax(nearest)  # the first maximum
    return out


def np_ball_query(points, centers, radius, k) -> np.ndarray:
    """cKDTree's ball (d <= r, sorted: index order), strict < applied on the float32 distance, first k, padded."""
    out = np.zeros(centers.shape[:2] + (k,), np.int32)
    for b in range(len(points)):
        tree = cKDTree(points[b])
        for s, found in enumerate(tree.query_ball_point(centers[b], radius * 1.0001)):
            d2 = sq_dist(centers[b, s][None], points[b, sorted(found)])[0] if found else np.zeros(0)
            inside = [j for j, d in zip(sorted(found), d2, strict=True) if d < np.float32(radius * radius)][:k]
            out[b, s] = (inside + [inside[0] if inside else 0] * k)[:k]
    return out


# ---------------------------------------------------------------- farthest point sampling


@pytest.mark.parametrize("impl", ["kernel", "composite"])
def test_farthest_point_sample_matches_numpy(impl):
    pts = cloud(3, 96, seed=1)
    got = np_(op(impl, "farthest_point_sample")(pts, 24))
    np.testing.assert_array_equal(got, np_fps(pts, 24))
    assert (got[:, 0] == 0).all() and got.dtype == np.int32
    # S = N: every point once (a permutation), still from point 0
    full = np_(op(impl, "farthest_point_sample")(pts[:, :16], 16))
    np.testing.assert_array_equal(np.sort(full, axis=1), np.tile(np.arange(16), (3, 1)))
    np.testing.assert_array_equal(full, np_fps(pts[:, :16], 16))


@pytest.mark.parametrize("impl", ["kernel", "composite"])
def test_farthest_point_sample_ties_and_duplicates(impl):
    # point 0 at the origin; points 1 and 2 tie at distance 1: the first (1) wins, then 2.
    pts = np.array([[[0, 0, 0], [1, 0, 0], [-1, 0, 0], [0, 0.5, 0]]], np.float32)
    np.testing.assert_array_equal(np_(op(impl, "farthest_point_sample")(pts, 4)), [[0, 1, 2, 3]])
    # two distinct positions, each twice: once both are taken every distance is 0 and argmax gives 0
    dup = np.array([[[0, 0, 0], [2, 0, 0], [0, 0, 0], [2, 0, 0]]], np.float32)
    np.testing.assert_array_equal(np_(op(impl, "farthest_point_sample")(dup, 4)), [[0, 1, 0, 0]])


# ---------------------------------------------------------------- ball query


@pytest.mark.parametrize("impl", ["kernel", "composite"])
def test_ball_query_matches_ckdtree(impl):
    pts = cloud(2, 200, seed=2)
    centers = np.concatenate([pts[:, :20], np.full((2, 1, 3), 9.0, np.float32)], axis=1)  # last: empty ball
    got = np_(op(impl, "ball_query")(pts, centers, 0.4, 8))
    np.testing.assert_array_equal(got, np_ball_query(pts, centers, 0.4, 8))
    assert (got[:, -1] == 0).all()  # empty ball -> zeros
    assert (got[:, :20, 0] <= np.arange(20)).all()  # the centre itself is in its ball, so found early
    # fewer points than slots: the found ones, then the first repeated
    few = np_(op(impl, "ball_query")(pts[:, :5], pts[:, :2], 10.0, 8))
    np.testing.assert_array_equal(few[0, 0], [0, 1, 2, 3, 4, 0, 0, 0])


@pytest.mark.parametrize("impl", ["kernel", "composite"])
def test_ball_query_is_strict_at_the_radius(impl):
    # squared distances 0.25 (exactly representable) = radius**2: outside; 0.2401 inside
    pts = np.array([[[0.5, 0, 0], [0, 0.49, 0], [0, 0, -0.5], [0.3, 0.3, 0.3]]], np.float32)
    centers = np.zeros((1, 1, 3), np.float32)
    np.testing.assert_array_equal(np_(op(impl, "ball_query")(pts, centers, 0.5, 3)), [[[1, 1, 1]]])
    np.testing.assert_array_equal(np_(op(impl, "ball_query")(pts, centers, np.float32(0.5), 3)), [[[1, 1, 1]]])


# ---------------------------------------------------------------- k-NN and 3-NN


@pytest.mark.parametrize("impl", ["kernel", "composite"])
def test_knn_matches_pykdtree(impl):
    pts, queries = cloud(2, 150, seed=3), cloud(2, 40, seed=4)
    d2, idx = (np_(t) for t in op(impl, "knn")(pts, queries, 6))
    for b in range(2):
        ref_d, ref_i = KDTree(pts[b]).query(queries[b], k=6)
        np.testing.assert_array_equal(idx[b], ref_i)
        np.testing.assert_allclose(d2[b], ref_d**2, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(d2[b], np.take_along_axis(sq_dist(queries[b], pts[b]), idx[b], 1))
    assert idx.dtype == np.int32 and (np.diff(d2, axis=-1) >= 0).all()


@pytest.mark.parametrize("impl", ["kernel", "composite"])
def test_knn_ties_lower_index_first_and_k_equals_n(impl):
    pts = np.array([[[1, 0, 0], [0, 1, 0], [0, 0, 0], [1, 0, 0], [0, 0, 1]]], np.float32)
    d2, idx = (np_(t) for t in op(impl, "knn")(pts, np.zeros((1, 1, 3), np.float32), 5))
    np.testing.assert_array_equal(idx, [[[2, 0, 1, 3, 4]]])  # four ties at 1: index order
    np.testing.assert_array_equal(d2, [[[0, 1, 1, 1, 1]]])


@pytest.mark.parametrize("impl", ["kernel", "composite"])
def test_three_nn_matches_ckdtree(impl):
    known, unknown = cloud(2, 64, seed=5), cloud(2, 30, seed=6)
    dist, idx = (np_(t) for t in op(impl, "three_nn")(unknown, known))
    for b in range(2):
        ref_d, ref_i = cKDTree(known[b]).query(unknown[b], k=3)
        np.testing.assert_array_equal(idx[b], ref_i)
        np.testing.assert_allclose(dist[b], ref_d, rtol=1e-5, atol=1e-6)


def test_too_few_points_is_an_error():
    pts = cloud(1, 2, seed=0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="exceeds the 2 points"):
        native.knn(pts, pts, 3)
    with pytest.raises(tf.errors.InvalidArgumentError, match="exceeds the 2 points"):
        native.three_nn(pts, pts)
    with pytest.raises(ValueError, match="exceeds the 2 points"):
        P.farthest_point_sample(pts, 3)
    with pytest.raises(tf.errors.InvalidArgumentError, match="outside"):
        native.gather_points(np.zeros((1, 4, 2), np.float32), np.array([[4]], np.int32))


# ---------------------------------------------------------------- gather and interpolation


@pytest.mark.parametrize("impl", ["kernel", "composite"])
def test_gather_points_matches_numpy(impl):
    rng = np.random.default_rng(7)
    feats = rng.normal(size=(3, 20, 5)).astype(np.float32)
    idx = rng.integers(0, 20, size=(3, 6, 4)).astype(np.int32)  # grouped (B, S, K), with repeats
    got = np_(op(impl, "gather_points")(feats, idx))
    want = np.stack([feats[b][idx[b]] for b in range(3)])
    np.testing.assert_array_equal(got, want)
    flat = np_(op(impl, "gather_points")(feats, idx[:, :, 0]))  # sampled (B, S)
    np.testing.assert_array_equal(flat, want[:, :, 0])


@pytest.mark.parametrize("impl", ["kernel", "composite"])
def test_three_nn_interpolate_matches_numpy(impl):
    known, unknown = cloud(2, 48, seed=8), cloud(2, 25, seed=9)
    unknown[:, 0] = known[:, 5]  # an unknown point on a known one takes (almost) its feature
    feats = np.random.default_rng(10).normal(size=(2, 48, 6)).astype(np.float32)
    got = np_(op(impl, "three_nn_interpolate")(unknown, known, feats))
    for b in range(2):
        d, i = cKDTree(known[b]).query(unknown[b], k=3)
        w = 1.0 / (d + 1e-8)
        want = np.einsum("mk,mkc->mc", w / w.sum(1, keepdims=True), feats[b][i])
        np.testing.assert_allclose(got[b], want, rtol=1e-4, atol=2e-5)
    np.testing.assert_allclose(got[:, 0], feats[:, 5], atol=1e-5)


def _grads(fn, *args):
    """(value, gradient to each float argument) under a GradientTape with a fixed upstream gradient."""
    ts = [tf.constant(a) for a in args]
    with tf.GradientTape() as tape:
        for t in ts:
            if t.dtype == tf.float32:
                tape.watch(t)
        y = fn(*ts)
        y = y[0] if isinstance(y, tuple) else y
        up = tf.constant(np.random.default_rng(11).normal(size=y.shape).astype(np.float32))
        loss = tf.reduce_sum(y * up)
    grads = tape.gradient(loss, [t for t in ts if t.dtype == tf.float32])
    return y.numpy(), [None if g is None else tf.convert_to_tensor(g).numpy() for g in grads]


def test_gradients_kernel_equal_composite():
    rng = np.random.default_rng(12)
    feats = rng.normal(size=(2, 30, 5)).astype(np.float32)
    idx = rng.integers(0, 30, size=(2, 7, 4)).astype(np.int32)
    known, unknown = cloud(2, 30, seed=13), cloud(2, 12, seed=14)
    cases = [
        ("gather_points", (feats, idx)),
        ("three_nn_interpolate", (unknown, known, feats)),
        ("knn", (known, unknown, 4)),
        ("three_nn", (unknown, known)),
    ]
    for name, args in cases:
        kernel = getattr(P, name)  # eager TF on CPU: the public op takes the kernel
        yk, gk = _grads(lambda *t, name=name, kernel=kernel: kernel(*t), *args)
        yc, gc = _grads(lambda *t, name=name: getattr(P, "composite_" + name)(*t), *args)
        np.testing.assert_allclose(yk, yc, rtol=1e-5, atol=1e-6, err_msg=name)
        for a, b in zip(gk, gc, strict=True):
            if b is None or not np.any(b):  # interpolation: no gradient to positions (None or zeros)
                assert a is None or not np.any(a), name
            else:
                np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5, err_msg=name)
    # scatter-add: with repeats the gather gradient of index j sums every slot that took j
    _, (g,) = _grads(lambda f: native.gather_points(f, np.array([[1, 1, 3]], np.int32)), feats[:1, :4])
    up = np.random.default_rng(11).normal(size=(1, 3, 5)).astype(np.float32)
    np.testing.assert_allclose(g[0], [np.zeros(5), up[0, 0] + up[0, 1], np.zeros(5), up[0, 2]], rtol=1e-6)


def test_numeric_gradients_of_the_kernels():
    rng = np.random.default_rng(15)
    feats = rng.normal(size=(2, 6, 3)).astype(np.float32)
    idx = tf.constant(rng.integers(0, 6, size=(2, 4, 3)).astype(np.int32))
    w = tf.constant(rng.uniform(0.1, 1, size=(2, 4, 3)).astype(np.float32))
    for fn in (lambda f: LIB.zoo_gather_points(f, idx), lambda f: LIB.zoo_three_interpolate(f, idx, w)):
        theoretical, numerical = tf.test.compute_gradient(fn, [feats])
        np.testing.assert_allclose(theoretical[0], numerical[0], atol=2e-3)


# ---------------------------------------------------------------- dispatch


def _graph_ops(fn, *args) -> set:
    graph_def = fn.get_concrete_function(*[tf.constant(a) for a in args]).graph.as_graph_def()
    return {n.op for n in list(graph_def.node) + [n for f in graph_def.library.function for n in f.node_def]}


def test_dispatch_kernel_composite_ops_and_xla():
    pts, feats = cloud(2, 64, seed=16), np.random.default_rng(17).normal(size=(2, 64, 4)).astype(np.float32)

    def net(p, f):
        centers = P.gather_points(p, P.farthest_point_sample(p, 8))
        grouped = P.gather_points(f, P.ball_query(p, centers, 0.5, 4))
        d2, _ = P.knn(p, centers, 3)
        return tf.reduce_max(grouped, axis=2), d2, P.three_nn_interpolate(p, centers, tf.reduce_max(grouped, axis=2))

    kernel_ops = {"ZooFarthestPointSample", "ZooBallQuery", "ZooKnn", "ZooGatherPoints", "ZooThreeNN",
                  "ZooThreeInterpolate"}
    plain, jitted = tf.function(net), tf.function(net, jit_compile=True)
    assert kernel_ops <= _graph_ops(plain, pts, feats)
    assert not any(o.startswith("Zoo") for o in _graph_ops(jitted, pts, feats))
    for a, b in zip(plain(pts, feats), jitted(pts, feats), strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    with native.composite_ops():  # (a cheap graph: tracing the whole net again costs seconds)
        forced = tf.function(lambda p: P.gather_points(p, P.knn(p, p[:, :4], 2)[1]))
        assert not any(o.startswith("Zoo") for o in _graph_ops(forced, pts))
    assert not native.kernel_applies(tf.constant(pts, tf.float16), rank=3)
    assert not native.kernel_applies(tf.constant(pts), rank=4)  # the corner pools' rule is unchanged
    assert native.kernel_applies(tf.constant(pts), rank=3) and native.kernel_applies(tf.zeros((1, 2, 2, 1)))


_JAX_SCRIPT = """
import sys
import jax
import numpy as np
from official.ops import native
from official.ops import point_ops as P
data = dict(np.load(sys.argv[1]))

@jax.jit  # one compile instead of one per eager op (5 s less on a loaded machine)
def run(p, q, f):
    d2, ki = P.knn(p, q, 4)
    return dict(fps=P.farthest_point_sample(p, 10), ball=P.ball_query(p, q, 0.5, 6), knn_d2=d2, knn_idx=ki,
                interp=P.three_nn_interpolate(q, p, f), grouped=P.gather_points(f, P.ball_query(p, q, 0.5, 6)))

out = run(data["points"], data["queries"], data["feats"])
assert native.library() is None and "tensorflow" not in sys.modules, "the JAX path imported TensorFlow"
np.savez(sys.argv[2], **{k: np.asarray(v) for k, v in out.items()})
"""


@pytest.mark.jax
def test_composites_under_jax_match_numpy(tmp_path):
    pts, queries = cloud(2, 80, seed=18), cloud(2, 12, seed=19)
    feats = np.random.default_rng(20).normal(size=(2, 80, 3)).astype(np.float32)
    got = helpers.run_jax_script(_JAX_SCRIPT, tmp_path, points=pts, queries=queries, feats=feats)
    np.testing.assert_array_equal(got["fps"], np_fps(pts, 10))
    ball = np_ball_query(pts, queries, 0.5, 6)
    np.testing.assert_array_equal(got["ball"], ball)
    np.testing.assert_array_equal(got["grouped"], np.stack([feats[b][ball[b]] for b in range(2)]))
    want = np.stack([np.take_along_axis(sq_dist(queries[b], pts[b]), got["knn_idx"][b], 1) for b in range(2)])
    np.testing.assert_allclose(got["knn_d2"], want, rtol=1e-6, atol=1e-7)  # XLA may fuse (FMA)
    np.testing.assert_array_equal(got["knn_idx"], np.stack([KDTree(pts[b]).query(queries[b], k=4)[1] for b in range(2)]))
    np.testing.assert_allclose(got["interp"], np_(P.three_nn_interpolate(queries, pts, feats)), rtol=1e-5, atol=1e-6)


def test_shape_functions_with_unknown_sizes():
    spec = tf.TensorSpec([None, None, 3], tf.float32)
    feats = tf.TensorSpec([None, None, 5], tf.float32)

    def shapes(fn, *specs):
        out = tf.function(fn, input_signature=list(specs)).get_concrete_function().structured_outputs
        return [t.shape.as_list() for t in (out if isinstance(out, tuple | list) else [out])]

    assert shapes(lambda p: LIB.zoo_farthest_point_sample(p, num_samples=7), spec) == [[None, 7]]
    assert shapes(lambda p, c: LIB.zoo_ball_query(p, c, radius_sq=0.1, max_samples=4), spec, spec) == [[None, None, 4]]
    assert shapes(lambda p, q: LIB.zoo_knn(p, q, k=3), spec, spec) == [[None, None, 3]] * 2
    assert shapes(lambda u, k: LIB.zoo_three_nn(u, k), spec, spec) == [[None, None, 3]] * 2
    idx = tf.TensorSpec([None, 6, 4], tf.int32)
    assert shapes(lambda f, i: LIB.zoo_gather_points(f, i), feats, idx) == [[None, 6, 4, 5]]
    with pytest.raises(ValueError, match="3"):
        tf.function(lambda p: LIB.zoo_farthest_point_sample(p, num_samples=1))(tf.zeros([1, 4, 2]))
