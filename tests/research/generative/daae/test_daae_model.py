"""DAAE networks: parameter counts recomputed by hand from the layer list (no official figure exists),
the spec's shapes (check 5), the hierarchical wiring of identity / age into the decoder's conditional BNs
(check 3), and the shared round trips (config, .keras, TF vs JAX; the SavedModel with its `age` / `age_to`
signatures is checked in test_daae_training.py)."""

import keras
import numpy as np
import pytest

from official.core import registry
from research.generative.daae import variants  # noqa: F401
from tests.helpers import run_model_test, trainable_count


def _block(cin, cout, cond=0):
    """IntroVAE residual block: 1x1 expand when widths differ, two bias-free 3x3 convs, two (conditional) BNs."""
    norm = 2 * (cond * cout + cout) if cond else 2 * cout  # CBN: Dense gamma + Dense beta; BN: gamma + beta
    return (cin * cout if cin != cout else 0) + 9 * cin * cout + 9 * cout * cout + 2 * norm


def hand_count(channels, identity, age, extra, identity_blocks=None):
    latent, c = identity + age + extra, channels
    enc = 25 * 3 * c[0] + 2 * c[0]
    widths = [c[0], *c[1:]]
    for cin, cout in zip(widths[:-1], widths[1:], strict=True):
        enc += _block(cin, cout)
    enc += _block(c[-1], c[-1]) + c[-1] * 16 * 2 * latent + 2 * latent
    dec = extra * c[-1] * 16 + c[-1] * 16
    outs = [*c[::-1], c[0]]
    identity_blocks = len(outs) // 2 if identity_blocks is None else identity_blocks
    cin = c[-1]
    for i, cout in enumerate(outs):
        dec += _block(cin, cout, identity if i < identity_blocks else age)
        cin = cout
    dec += 25 * c[0] * 3 + 3
    return enc + dec


@pytest.mark.parametrize("name, args", [
    ("daae_256", ((32, 64, 128, 256, 512, 512), 256, 128, 128)),
    ("daae_128", ((32, 64, 128, 256, 512), 256, 128, 128)),
    ("daae_tiny", ((8, 16, 32), 16, 8, 8)),
])
def test_parameter_counts_equal_the_layer_list(name, args):
    keras.backend.clear_session()
    counts = {"daae_256": 37_198_339, "daae_128": 27_298_307, "daae_tiny": 108_035}  # the card's table
    assert hand_count(*args) == counts[name]
    assert trainable_count(registry.create_model(name)) == counts[name]


def test_shapes_wiring_and_round_trips(tmp_path):
    model = run_model_test("daae_tiny", tmp_path, expected_trainable=108_035, jax=True, saved_model=False,
                           expected_output_shapes=[(2,), (2, 8), (2, 8), (2, 16), (2, 8), (2, 8), (2, 16),
                                                   (2, 32, 32, 3)])  # age, logvar_*, mu_* (keys sorted), image
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (2, 32, 32, 3)).astype("f4")
    out = model(x)
    np.testing.assert_allclose(np.asarray(out["age"]), np.asarray(out["mu_age"]).mean(-1) * 10.0, rtol=1e-5)
    aged = np.asarray(model.age_to(x, np.array([20.0, 70.0], "f4")))
    assert aged.shape == (2, 32, 32, 3)
    # age_to with the encoder's own age code is the reconstruction
    own = np.asarray(model.age_to(x, np.asarray(out["age"])))
    code = keras.ops.convert_to_tensor(np.ones((2, 8), "f4") * np.asarray(out["age"])[:, None] / 10)
    base = model.decode(out["mu_extra"], out["mu_identity"], code)
    np.testing.assert_allclose(own, np.asarray(base), atol=1e-5)
    # hierarchy: blocks 0-1 (coarse) see z_identity only, blocks 2-3 (fine) z_age; the image sees both
    dec = model.decoder
    probe = keras.Model(dec.inputs, [dec.get_layer(f"res{i}_act2").output for i in range(4)] + [dec.output])
    z = [rng.normal(size=(2, d)).astype("f4") for d in (8, 16, 8)]

    def changes(which):
        moved = list(z)
        moved[which] = moved[which] + 1.0
        return [float(np.abs(np.asarray(a) - np.asarray(b)).max()) for a, b in zip(probe(z), probe(moved), strict=True)]

    identity, age = changes(1), changes(2)
    assert age[0] == 0.0 and age[1] == 0.0 and min(age[2:]) > 1e-3, age
    assert min(identity) > 1e-3, identity
    with pytest.raises(ValueError, match="4 \\* 2 \\*\\* len"):
        registry.create_model("daae_tiny", image_size=64)
