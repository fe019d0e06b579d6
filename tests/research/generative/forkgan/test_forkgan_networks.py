"""ForkGAN's networks, card checks 1-3: exact parameter counts of the official sizes (generator 16,484,544,
classifier 723,456, one 2-scale D 2,783,040), the shapes at 256x512 (read from the symbolic graphs, no
forward pass), and the fork wiring: with noise 0 and the reconstruction decoder given the translation
decoder's weights, both outputs are identical; the noise is active at inference only when asked."""

import numpy as np
import tensorflow as tf

import research.generative.forkgan  # noqa: F401  (registers the variants)
from official.core import registry
from research.generative.forkgan.networks import (
    BicubicHalf,
    DomainClassifier,
    ForkGenerator,
    MultiScaleDiscriminator,
)
from tests import helpers


def test_official_parameter_counts_and_shapes():
    g = registry.create_model("forkgan_gf64")
    assert g.trainable_parameter_count == 16_484_544
    assert helpers.trainable_count(g) == 16_484_544  # the attached reconstruction decoder is counted once
    assert g.output_shape == (None, 256, 512, 3)
    assert g.encoder.output_shape == (None, 64, 128, 256)
    assert g.reconstruction_decoder.output_shape == (None, 256, 512, 3)
    cls = DomainClassifier((64, 128, 256), 32)
    assert cls.trainable_parameter_count == 723_456 and cls.output_shape == (None, 1, 1, 2)
    d = MultiScaleDiscriminator(3, 32, 4, 2, (256, 512))
    assert d.trainable_parameter_count == 2_783_040
    assert [tuple(s) for s in d.output_shape] == [(None, 16, 32, 1), (None, 8, 16, 1)]
    assert 12 * d.trainable_parameter_count == 33_396_480


def _tiny(**kw):
    return ForkGenerator(filters=4, encoder_blocks=1, decoder_blocks=2, image_size=(16, 32), **kw)


def test_fork_wiring_shared_weights_without_noise_gives_identical_outputs():
    g = _tiny(noise_std=0.0)
    helpers.randomise_weights(g, 1)
    g.reconstruction_decoder.set_weights(g.translation_decoder.get_weights())
    x = np.random.default_rng(0).uniform(-1, 1, (2, 16, 32, 3)).astype("float32")
    t, r, c = (np.asarray(v) for v in g.fork(x))
    assert np.abs(t).max() > 0.05 and c.shape == (2, 4, 8, 16)
    np.testing.assert_allclose(r, t, atol=1e-6)
    np.testing.assert_allclose(np.asarray(g(x)), t, atol=1e-6)
    np.testing.assert_allclose(c, np.asarray(g.encoder(x)), atol=1e-6)  # no noise: the code is r5 itself


def test_noise_on_code_and_after_first_block():
    g = _tiny(noise_std=0.02, noise_at_inference=True)
    helpers.randomise_weights(g, 2)
    x = np.random.default_rng(1).uniform(-1, 1, (1, 16, 32, 3)).astype("float32")
    _, r1, c1 = (np.asarray(v) for v in g.fork(x))
    _, r2, _ = (np.asarray(v) for v in g.fork(x))
    noise = c1 - np.asarray(g.encoder(x))
    assert 0.01 < noise.std() < 0.03  # N(0, 0.02) on the returned code
    assert np.abs(r1 - r2).max() > 0  # the reconstruction sees fresh noise each call (official: also at test)
    quiet = _tiny(noise_std=0.02, noise_at_inference=False)
    quiet.set_weights(g.get_weights())
    _, q1, qc = (np.asarray(v) for v in quiet.fork(x))
    np.testing.assert_allclose(qc, np.asarray(quiet.encoder(x)), atol=0)
    _, q2, _ = (np.asarray(v) for v in quiet.fork(x))
    np.testing.assert_array_equal(q1, q2)
    assert np.abs(np.asarray(quiet.fork(x, training=True)[2]) - qc).max() > 0  # training always adds it


def test_bicubic_half_matches_tf_resize():
    x = np.random.default_rng(0).normal(size=(2, 16, 32, 3)).astype("float32")
    want = tf.image.resize(x, (8, 16), method="bicubic").numpy()
    np.testing.assert_allclose(np.asarray(BicubicHalf()(x)), want, atol=1e-5)


def test_bicubic_half_gradient_compiles_under_xla():
    """The discriminators' second scale in a jit_compile=True step (networks.py: ResizeBicubicGrad does not compile;
    BicubicHalf is gathers): the compiled gradient equals the eager one and is not zero."""
    x = tf.constant(np.random.default_rng(1).normal(size=(1, 8, 16, 2)).astype("float32"))
    w = tf.constant(np.random.default_rng(2).normal(size=(1, 4, 8, 2)).astype("float32"))
    layer = BicubicHalf()

    def grad(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(layer(x) * w)
        return tape.gradient(y, x)

    want = grad(x).numpy()
    got = tf.function(grad, jit_compile=True)(x).numpy()
    assert np.abs(want).max() > 0.1
    np.testing.assert_allclose(got, want, atol=1e-5)
