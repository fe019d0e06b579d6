"""official/ops/rotations.py against scipy.spatial.transform.Rotation: random rotations and batches,
the identity, 180-degree rotations, q vs -q, float64, gradients at 0. The KERAS_BACKEND=jax run (jit and
grad of every function here) is shared with mesh_ops: tests/official/ops/test_mesh_ops.py."""

import numpy as np
from scipy.spatial.transform import Rotation

from official.ops import rotations as rot


def _random(n, seed=0):
    return Rotation.random(n, random_state=seed)


def _special():
    """Identity, 180 degrees about x, y, z and a diagonal axis, tiny angles, 179.999 degrees."""
    axes = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1], [1, -2, 0.5]], np.float64)
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    rotvecs = np.concatenate([np.zeros((1, 3)), np.pi * axes, 1e-4 * axes[:2], np.deg2rad(179.999) * axes[3:]])
    return Rotation.from_rotvec(rotvecs)


def _same_rotation_quat(got, ref, atol):
    """Quaternions equal up to the sign q ~ -q."""
    err = np.minimum(np.abs(got - ref).max(-1), np.abs(got + ref).max(-1))
    assert err.max() < atol, err.max()


def test_quaternion_to_matrix_matches_scipy():
    r = Rotation.concatenate([_random(64), _special()])
    q = r.as_quat(scalar_first=True)
    np.testing.assert_allclose(np.asarray(rot.quaternion_to_matrix(q.astype(np.float32))), r.as_matrix(), atol=2e-6)
    np.testing.assert_allclose(np.asarray(rot.quaternion_to_matrix(q)), r.as_matrix(), atol=1e-12)
    # -q and a non-unit 3.7 q are the same rotation
    np.testing.assert_allclose(np.asarray(rot.quaternion_to_matrix(-3.7 * q)), r.as_matrix(), atol=1e-12)


def test_matrix_to_quaternion_matches_scipy_with_w_nonnegative():
    r = Rotation.concatenate([_random(64, seed=1), _special()])
    got = np.asarray(rot.matrix_to_quaternion(r.as_matrix()))
    assert np.all(got[:, 0] >= 0)
    _same_rotation_quat(got, r.as_quat(scalar_first=True), 1e-12)
    got32 = np.asarray(rot.matrix_to_quaternion(r.as_matrix().astype(np.float32)))
    _same_rotation_quat(got32, r.as_quat(scalar_first=True), 1e-6)
    # away from w = 0 the sign is unique: scipy's canonical form (w >= 0) exactly
    ref = _random(64, seed=1).as_quat(scalar_first=True, canonical=True)
    np.testing.assert_allclose(got[:64], ref, atol=1e-12)


def test_exact_180_degree_matrices():
    """The trace is -1 at 180 degrees; Shepperd must take an x, y or z row, not divide by w ~ 0."""
    for axis in np.eye(3):
        matrix = 2.0 * np.outer(axis, axis) - np.eye(3)
        got = np.asarray(rot.matrix_to_quaternion(matrix))
        np.testing.assert_allclose(np.abs(got), np.concatenate([[0.0], axis]), atol=1e-12)
        np.testing.assert_allclose(np.asarray(rot.quaternion_to_matrix(got)), matrix, atol=1e-12)


def test_multiply_is_hamilton_product_and_composes_like_scipy():
    a, b = _random(32, seed=2), _random(32, seed=3)
    qa, qb = a.as_quat(scalar_first=True), b.as_quat(scalar_first=True)
    got = np.asarray(rot.quaternion_multiply(qa, qb))
    _same_rotation_quat(got, (a * b).as_quat(scalar_first=True), 1e-12)
    # R(q1 * q2) = R(q1) @ R(q2): the order matters (rotations do not commute)
    np.testing.assert_allclose(np.asarray(rot.quaternion_to_matrix(got)), a.as_matrix() @ b.as_matrix(), atol=1e-12)
    # i * j = k, j * i = -k (the Hamilton convention, exactly, with the sign)
    i, j = np.array([0.0, 1, 0, 0]), np.array([0.0, 0, 1, 0])
    np.testing.assert_array_equal(np.asarray(rot.quaternion_multiply(i, j)), [0, 0, 0, 1])
    np.testing.assert_array_equal(np.asarray(rot.quaternion_multiply(j, i)), [0, 0, 0, -1])
    # broadcasting a single quaternion over a (4, 8) batch
    q_batch = _random(32, seed=4).as_quat(scalar_first=True).reshape(4, 8, 4)
    got = np.asarray(rot.quaternion_multiply(qa[0], q_batch))
    ref = (a[0] * Rotation.from_quat(q_batch.reshape(-1, 4), scalar_first=True)).as_quat(scalar_first=True)
    _same_rotation_quat(got.reshape(-1, 4), ref, 1e-12)


def test_conjugate_inverts_and_normalize():
    r = _random(16, seed=5)
    q = r.as_quat(scalar_first=True)
    conj = np.asarray(rot.quaternion_conjugate(q))
    _same_rotation_quat(conj, r.inv().as_quat(scalar_first=True), 1e-12)
    ident = np.asarray(rot.quaternion_multiply(q, conj))
    np.testing.assert_allclose(ident, np.tile([1.0, 0, 0, 0], (16, 1)), atol=1e-12)
    scaled = q * np.linspace(0.1, 9, 16)[:, None]
    np.testing.assert_allclose(np.asarray(rot.quaternion_normalize(scaled)), q, atol=1e-12)
    assert np.all(np.isfinite(np.asarray(rot.quaternion_normalize(np.zeros((2, 4))))))


def test_axis_angle_matches_scipy_including_zero_and_pi():
    rng = np.random.default_rng(6)
    rotvecs = np.concatenate([
        _random(64, seed=6).as_rotvec(), _special().as_rotvec(),
        rng.normal(size=(8, 3)) * 1e-9, rng.normal(size=(8, 3)) * 0.03,  # Taylor branch and just past it
    ]).reshape(2, -1, 3)  # fmt: skip
    ref = Rotation.from_rotvec(rotvecs.reshape(-1, 3)).as_matrix().reshape(2, -1, 3, 3)
    np.testing.assert_allclose(np.asarray(rot.axis_angle_to_matrix(rotvecs)), ref, atol=1e-13)
    np.testing.assert_allclose(np.asarray(rot.axis_angle_to_matrix(rotvecs.astype(np.float32))), ref, atol=2e-6)


def test_axis_angle_gradient_finite_at_zero():
    import tensorflow as tf

    v = tf.Variable(np.zeros((2, 3), np.float32))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(rot.axis_angle_to_matrix(v) * tf.constant(np.arange(9, dtype=np.float32).reshape(3, 3)))
    grad = tape.gradient(loss, v).numpy()
    # d/dv of <W, I + [v]_x + ...> at 0 is the axial part of W - W^T: (W21 - W12, W02 - W20, W10 - W01)
    np.testing.assert_allclose(grad, np.tile([7 - 5, 2 - 6, 3 - 1], (2, 1)), atol=1e-6)


def test_angle_distances_match_scipy_and_are_sign_invariant():
    a, b = _random(64, seed=7), Rotation.concatenate([_random(60, seed=8), _special()[:4]])
    ref = (a.inv() * b).magnitude()
    qa, qb = a.as_quat(scalar_first=True), b.as_quat(scalar_first=True)
    np.testing.assert_allclose(np.asarray(rot.quaternion_angle_distance(qa, qb)), ref, atol=1e-12)
    np.testing.assert_allclose(np.asarray(rot.quaternion_angle_distance(qa, -qb)), ref, atol=1e-12)
    np.testing.assert_allclose(np.asarray(rot.quaternion_angle_distance(-2 * qa, qb)), ref, atol=1e-12)
    np.testing.assert_allclose(np.asarray(rot.rotation_matrix_angle_distance(a.as_matrix(), b.as_matrix())), ref,
                               atol=1e-12)
    # identical rotations, exact 180 degrees, and a 1e-5 rad gap in float32 (acos(cos) would give ~3e-4)
    np.testing.assert_allclose(np.asarray(rot.quaternion_angle_distance(qa, qa)), 0.0, atol=1e-12)
    flip = Rotation.from_rotvec([[np.pi, 0, 0]])
    np.testing.assert_allclose(np.asarray(rot.rotation_matrix_angle_distance(np.eye(3), flip.as_matrix())), np.pi)
    near = (a * Rotation.from_rotvec(np.tile([1e-5, 0, 0], (64, 1))))
    got = np.asarray(rot.quaternion_angle_distance(qa.astype(np.float32), near.as_quat(scalar_first=True).astype(np.float32)))
    np.testing.assert_allclose(got, 1e-5, rtol=0.05)
    got = np.asarray(rot.rotation_matrix_angle_distance(a.as_matrix().astype(np.float32),
                                                        near.as_matrix().astype(np.float32)))
    np.testing.assert_allclose(got, 1e-5, rtol=0.05)

