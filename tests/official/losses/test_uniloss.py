"""UniLoss surrogate (official/losses/uniloss.py): the spec card's checks 1-6 and the issue's gradient-sign check.

The official analytical backward (ported to numpy) is compared outside the repo, in .peer/uniloss_parity.py
(result in the card: the autodiff gradient matches finite differences; the official formula differs by
the sign of its normalisation term and `gradient="official"` reproduces it to 1e-8).
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from official.evaluation.average_precision import interpolated_average_precision
from official.losses import uniloss as U
from tests.helpers import run_jax_script


def _acc_setup(rng, b=8, c=5, scale=1.0):
    s = rng.normal(0, scale, (b, c))
    y = rng.integers(0, c, b)
    return s, y


def _fixed_anchors(d, valid, correct, metric, seed=7, num_single=16):
    """Anchors of the prediction at `d` drawn once (int seed), and their exact values."""
    vflat = np.asarray(valid).reshape(-1)
    b = np.asarray(U.relax(d), np.float64).reshape(-1) * vflat
    anchors = np.asarray(U.sample_anchors(np.asarray(correct).reshape(-1), np.asarray(U.hard_sign(b, vflat)), vflat,
                                          num_single, seed=seed))
    values = np.asarray(metric(anchors.reshape((-1, *np.asarray(d).shape))))
    return vflat, anchors.astype(np.float64), values.astype(np.float64)


# --- check 1: the refactoring of accuracy is exact ----------------------------------------------
def test_accuracy_from_sign_vector_equals_argmax_accuracy():
    rng = np.random.default_rng(0)
    for _ in range(20):
        s, y = _acc_setup(rng, b=16, c=int(rng.integers(2, 12)))
        d, valid, correct = U.accuracy_comparisons(s.astype("float32"), y)
        got = float(U.accuracy_from_bits(U.hard_sign(d, valid)[None], valid)[0])
        assert got == pytest.approx(np.mean(np.argmax(s, -1) == y), abs=1e-7)
        # the all-correct vector is the anchor of accuracy 1, one flipped bit costs exactly one example
        assert float(U.accuracy_from_bits(correct[None], valid)[0]) == 1.0
        flip = np.asarray(correct).copy()
        flip[0, (y[0] + 1) % s.shape[1]] = -1.0
        assert float(U.accuracy_from_bits(flip[None], valid)[0]) == pytest.approx(1 - 1 / 16)
    # a tie with the true class is not a correct comparison (sign(0) = -1 here)
    d, valid, _ = U.accuracy_comparisons(np.array([[1.0, 1.0, 0.0]], "float32"), np.array([0]))
    assert float(U.accuracy_from_bits(U.hard_sign(d, valid)[None], valid)[0]) == 0.0


# --- check 2: interpolation property -------------------------------------------------------------
def test_interpolation_equals_anchor_value_at_anchors_and_stays_within_their_range():
    rng = np.random.default_rng(1)
    s, y = _acc_setup(rng)
    d, valid, correct = U.accuracy_comparisons(s, y)
    vflat, anchors, values = _fixed_anchors(d, valid, correct, lambda bits: U.accuracy_from_bits(bits, valid))
    assert len(anchors) == 49 and values[0] == 1.0  # 1 + 3 x 16 anchors, the first is all-correct
    for k in (0, 5, 20, 40):  # at an anchor: its exact value (zero distance handled, no NaN)
        assert float(U.idw_interpolate(anchors[k], anchors, values)) == pytest.approx(values[k], abs=1e-12)
    with tf.GradientTape() as tape:
        b = tf.Variable(anchors[3])
        m = U.idw_interpolate(b, anchors, values)
    assert np.all(np.isfinite(tape.gradient(m, b).numpy()))
    for _ in range(50):  # anywhere else: a convex combination
        b = np.clip(rng.normal(0, 1, anchors.shape[1]), -1, 1) * vflat
        m = float(U.idw_interpolate(b, anchors, values))
        assert values.min() - 1e-9 <= m <= values.max() + 1e-9
    # IDW weights are 1/distance: halfway-dominated by the nearer of two anchors, in closed form
    two = np.array([[1.0, 1.0], [-1.0, -1.0]])
    m = float(U.idw_interpolate(np.array([0.5, 0.5]), two, np.array([1.0, 0.0])))
    w1, w2 = 1 / np.sqrt(0.5), 1 / np.sqrt(4.5)
    assert m == pytest.approx(w1 / (w1 + w2), abs=1e-12)


def test_anchor_kinds_follow_the_official_recipe():
    rng = np.random.default_rng(2)
    s, y = _acc_setup(rng)
    d, valid, correct = U.accuracy_comparisons(s, y)
    vflat = np.asarray(valid).reshape(-1)
    current = np.asarray(U.hard_sign(np.asarray(d).reshape(-1), vflat))
    c = np.asarray(correct).reshape(-1)
    a = np.asarray(U.sample_anchors(c, current, vflat, 16, seed=3))
    np.testing.assert_array_equal(a[:, ~vflat], 0.0)  # masked comparisons are 0 in every anchor
    np.testing.assert_array_equal(a[0], c)
    assert np.all(np.sum(a[1:17] != c, axis=1) == 1)  # good: one flip of all-correct
    near = a[17:33]
    assert np.all(np.sum(near != current, axis=1) == 1)  # nearby: one flip of the prediction ...
    flipped = np.argmax(near != current, axis=1)
    assert np.all(current[flipped] != c[flipped])  # ... among the bits where it is wrong
    assert set(np.unique(a[33:][:, vflat])) == {-1.0, 1.0}  # bad: random signs
    # a prediction without errors: nearby anchors are one-flip neighbours of all-correct
    a2 = np.asarray(U.sample_anchors(c, c, vflat, 4, seed=3))
    assert np.all(np.sum(a2[5:9] != c, axis=1) == 1)


# --- check 3: gradient vs finite differences, anchors fixed ----------------------------------------
@pytest.mark.parametrize("kind", ["accuracy", "binary_ap"])
def test_gradient_matches_finite_differences(kind):
    rng = np.random.default_rng(3)
    if kind == "accuracy":
        s, y = _acc_setup(rng, b=6, c=4)
        comparisons, metric = U.accuracy_comparisons, U.accuracy_from_bits
    else:
        s, y = rng.normal(0, 1, 10), np.array([1, 0, 0, 1, 0, 0, 0, 1, 0, 0], np.float64)
        comparisons = U.ap_comparisons
    d, valid, correct = comparisons(s, y)
    if kind == "accuracy":
        fn = lambda bits: metric(bits, valid)  # noqa: E731
    else:
        fn = lambda bits: U.ap_from_bits(bits, y, valid)  # noqa: E731
    vflat, anchors, values = _fixed_anchors(d, valid, correct, fn)

    def loss(x):
        dd, _, _ = comparisons(x, y)
        return -U.idw_interpolate(ops.where(vflat, U.relax(ops.reshape(dd, (-1,))), 0.0), anchors, values)

    x = tf.constant(s, tf.float64)
    theoretical, numerical = tf.test.compute_gradient(loss, [x], delta=1e-5)
    np.testing.assert_allclose(theoretical[0], numerical[0], atol=1e-4)
    assert np.abs(theoretical[0]).max() > 1e-3  # a real gradient, not zeros


# --- issue 12: the gradient's sign follows the metric ----------------------------------------------
def test_gradient_sign_matches_finite_differences_of_the_metric():
    """On random batches, moving one score by +-1 changes the accuracy; where it does, -dL/ds mostly has
    that sign (measured: 112 of 144 = 78%; a sign-flipped loss scores 22%, a random direction ~50%)."""
    rng = np.random.default_rng(4)
    agree = total = 0
    for trial in range(20):
        s, y = _acc_setup(rng, b=8, c=4)
        x = tf.Variable(s.astype("float32"))
        with tf.GradientTape() as tape:
            loss = U.accuracy_uniloss(x, y, seed=trial)
        g = tape.gradient(loss, x).numpy()
        for i, j in np.ndindex(*s.shape):
            delta = []
            for h in (1.0, -1.0):
                z = s.copy()
                z[i, j] += h
                delta.append(np.mean(np.argmax(z, -1) == y))
            change = delta[0] - delta[1]
            if change != 0:
                total += 1
                agree += np.sign(-g[i, j]) == np.sign(change)
    assert total > 50 and agree / total >= 0.7, (agree, total)


# --- check 4: descent direction ---------------------------------------------------------------------
def test_one_uniloss_step_increases_batch_accuracy_on_average():
    rng = np.random.default_rng(5)
    seed = keras.random.SeedGenerator(5)

    @tf.function
    def step(xf, y, w0):
        w = w0
        with tf.GradientTape() as tape:
            tape.watch(w)
            loss = U.accuracy_uniloss(tf.matmul(xf, w), y, seed=seed)
        g = tape.gradient(loss, w)
        return w - 0.2 * g / tf.norm(g)  # a normalised step: UniLoss gradients are small (~1e-2)

    changes = []
    for _ in range(100):
        x = rng.normal(0, 1, (32, 5))
        w_true = rng.normal(0, 1, (5, 3))
        y = np.argmax(x @ w_true + rng.normal(0, 0.3, (32, 3)), -1)
        w = rng.normal(0, 0.5, (5, 3)).astype("float32")
        xf = x.astype("float32")
        before = np.mean(np.argmax(xf @ w, -1) == y)
        after = step(tf.constant(xf), tf.constant(y), tf.constant(w)).numpy()
        changes.append(np.mean(np.argmax(xf @ after, -1) == y) - before)
    # measured: +0.053 on average, 77% of draws improve, 5% get worse (a sign-flipped loss: negative)
    assert np.mean(changes) > 0.02, np.mean(changes)


# --- check 5: AP refactoring --------------------------------------------------------------------------
def test_ap_from_sign_vector_equals_interpolated_ap_of_the_ranking():
    rng = np.random.default_rng(6)
    for _ in range(30):
        n = int(rng.integers(2, 14))
        s = rng.permutation(n).astype("float32")  # no ties
        t = (rng.random(n) < 0.4).astype("float32")
        d, valid, correct = U.ap_comparisons(s, t)
        got = float(U.ap_from_bits(U.hard_sign(d, valid)[None], t, valid)[0])
        assert got == pytest.approx(interpolated_average_precision(s, t), abs=1e-6)
        if 0 < t.sum() < n:
            assert float(U.ap_from_bits(correct[None], t, valid)[0]) == 1.0  # all-correct ranking
    # a cyclic binary vector (p0 > n1 > p2 > n3 > p0) encodes no ranking: the official code scores 0
    t = np.array([1, 0, 1, 0], "float32")
    _, valid, _ = U.ap_comparisons(np.zeros(4, "float32"), t)
    bits = np.zeros((4, 4), "float32")
    bits[0, 1], bits[1, 2], bits[2, 3], bits[0, 3] = 1, 1, 1, -1  # p0>n1, n1>p2, p2>n3, n3>p0
    assert float(U.ap_from_bits(bits[None], t, valid)[0]) == 0.0
    bits[0, 3] = 1  # p0 > n3: the ranking p0, n1, p2, n3 (precisions 1 and 2/3)
    assert float(U.ap_from_bits(bits[None], t, valid)[0]) == pytest.approx((1 + 2 / 3) / 2)


# --- check 6: toy training with UniLoss only -------------------------------------------------------------
def test_mlp_on_gaussian_blobs_reaches_95_percent_with_uniloss_only():
    rng = np.random.default_rng(0)
    centres = np.array([[2.0, 2.0], [-2.0, 2.0], [-2.0, -2.0], [2.0, -2.0]])  # nearest-centre accuracy 99.6%
    y = rng.integers(0, 4, 512)
    x = (centres[y] + rng.normal(0, 0.7, (512, 2))).astype("float32")
    keras.utils.set_random_seed(0)
    net = keras.Sequential([keras.Input((2,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(4)])
    opt = keras.optimizers.Adam(0.03)
    seed = keras.random.SeedGenerator(0)

    @tf.function
    def step(xb, yb):
        with tf.GradientTape() as tape:
            loss = U.accuracy_uniloss(ops.sigmoid(net(xb)), yb, seed=seed)
        opt.apply_gradients(zip(tape.gradient(loss, net.trainable_variables), net.trainable_variables, strict=True))
        return loss

    for _epoch in range(3):  # measured: 99.6% after 3 epochs (CE reaches about the same)
        order = rng.permutation(512)
        for i in range(0, 512, 64):
            step(x[order[i:i + 64]], y[order[i:i + 64]])
    acc = np.mean(np.argmax(net(x).numpy(), -1) == y)
    assert acc >= 0.95, acc


def test_zero_pairs_and_saturated_scores_give_a_finite_constant_loss():
    # no positive in the batch: nothing to compare, loss -1 (AP of an empty positive set), zero gradient
    x = tf.Variable(np.array([0.3, -0.2, 0.1], "float32"))
    with tf.GradientTape() as tape:
        loss = U.binary_ap_uniloss(x, np.zeros(3), seed=0)
    assert float(loss) == pytest.approx(-1.0)
    g = tape.gradient(loss, x)
    assert g is None or np.all(np.asarray(g) == 0)
    # saturated sigmoids (b~ exactly +-1 in float32): on the all-correct anchor, finite
    with tf.GradientTape() as tape:
        z = tf.Variable(np.array([[40.0, -40.0, -40.0]], "float32"))
        loss = U.accuracy_uniloss(z, np.array([0]), seed=0)
    assert float(loss) == pytest.approx(-1.0) and np.all(np.isfinite(tape.gradient(loss, z).numpy()))


# --- backends ----------------------------------------------------------------------------------------
_JAX = """
import sys
import numpy as np
import keras
assert keras.backend.backend() == "jax"
from official.losses import uniloss as U
d = dict(np.load(sys.argv[1]))
dd, valid, _ = U.accuracy_comparisons(d["s"], d["y"])
acc = U.idw_interpolate(np.where(np.asarray(valid).reshape(-1), np.asarray(U.relax(dd)).reshape(-1), 0.0),
                        d["acc_anchors"], U.accuracy_from_bits(d["acc_anchors"].reshape(-1, 6, 4), valid))
da, va, _ = U.ap_comparisons(d["s_ap"], d["t"])
ap_vals = U.ap_from_bits(d["ap_anchors"].reshape(-1, 10, 10), d["t"], va)
ap = U.idw_interpolate(np.where(np.asarray(va).reshape(-1), np.asarray(U.relax(da)).reshape(-1), 0.0), d["ap_anchors"], ap_vals)
off = U.official_gradient_surrogate(np.asarray(U.relax(dd)).reshape(-1) * np.asarray(valid).reshape(-1), d["acc_anchors"],
                                    -np.asarray(U.accuracy_from_bits(d["acc_anchors"].reshape(-1, 6, 4), valid)))
np.savez(sys.argv[2], acc=np.asarray(acc), ap=np.asarray(ap), ap_vals=np.asarray(ap_vals), off=np.asarray(off))
"""


@pytest.mark.jax
def test_surrogates_match_under_jax(tmp_path):
    rng = np.random.default_rng(7)
    s, y = _acc_setup(rng, b=6, c=4)
    s = s.astype("float32")
    d, valid, correct = U.accuracy_comparisons(s, y)
    _, acc_anchors, acc_values = _fixed_anchors(d, valid, correct, lambda b: U.accuracy_from_bits(b, valid))
    s_ap = rng.normal(0, 1, 10).astype("float32")
    t = np.array([1, 0, 0, 1, 0, 0, 0, 1, 0, 0], "float32")
    da, va, ca = U.ap_comparisons(s_ap, t)
    _, ap_anchors, ap_values = _fixed_anchors(da, va, ca, lambda b: U.ap_from_bits(b, t, va))
    got = run_jax_script(_JAX, tmp_path, s=s, y=y, s_ap=s_ap, t=t, acc_anchors=acc_anchors.astype("float32"),
                         ap_anchors=ap_anchors.astype("float32"))
    vflat = np.asarray(valid).reshape(-1)
    b = np.asarray(U.relax(d)).reshape(-1) * vflat
    np.testing.assert_allclose(got["acc"], U.idw_interpolate(b, acc_anchors.astype("float32"), acc_values), rtol=1e-5)
    np.testing.assert_allclose(got["ap_vals"], ap_values, atol=1e-6)
    vb = np.asarray(va).reshape(-1)
    bap = np.asarray(U.relax(da)).reshape(-1) * vb
    np.testing.assert_allclose(got["ap"], U.idw_interpolate(bap, ap_anchors.astype("float32"), ap_values), rtol=1e-5)
    np.testing.assert_allclose(got["off"], U.official_gradient_surrogate(b, acc_anchors.astype("float32"), -acc_values),
                               rtol=1e-5)
