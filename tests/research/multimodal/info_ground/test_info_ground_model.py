"""info-ground's head (research/multimodal/info_ground): spec card checks 1, 2, 4 and 5 and the loss formulas."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from official.core import registry
from research.multimodal.info_ground import losses
from tests.helpers import randomise_weights


@pytest.fixture(scope="module")
def tiny():
    keras.utils.set_random_seed(0)
    model = registry.create_model("info_ground_tiny")
    randomise_weights(model, 0)
    return model


def test_parameter_counts():
    """Check 1: (o, u, w) = (2048, 2048, 768), d = 384, 2-layer MLPs: 11,749,376 (= the torch CapInfoNCE's
    parameters(): fo, ku 2 x 4,987,264 + fw, kw 2 x 887,424)."""
    model = registry.create_model("info_ground_bert_base")
    assert model.trainable_parameter_count == 11_749_376
    c = model.criterion
    assert c.fo.count_params() - 2 * 2048 == 2048 * 2048 + 2048 + 2 * 2048 + 2048 * 384 + 384  # BN stats aside
    assert c.fw.count_params() - 2 * 768 == 887_424
    # tiny: fo, ku 2 x (64*64+64 + 128 + 64*16+16) + fw, kw 2 x (32*32+32 + 64 + 32*16+16)
    assert registry.create_model("info_ground_tiny").trainable_parameter_count == 2 * 5328 + 2 * 1648


def test_shapes_of_the_batch_wide_attention():
    """Check 2: Bo = Bw = 3, To = 30, Tw = 6 -> attention (3, 3, 6, 30), att_V_o (3, 3, 6, 384), logits (3, 3, 6);
    the training path's logits (no att_V_o) equal the materialised ones."""
    keras.utils.set_random_seed(0)
    model = registry.create_model("info_ground_bert_base")
    x = model.example_inputs(3)
    att, att_v_o, logits = model.criterion.cross_outputs(x["region_feats"], x["region_mask"], x["word_feats"],
                                                         x["word_mask"], training=False)
    assert (att.shape, att_v_o.shape, logits.shape) == ((3, 3, 6, 30), (3, 3, 6, 384), (3, 3, 6))
    out = model(x, training=False)
    assert out["logits"].shape == (3, 3, 6) and out["neg_logits"].shape == (3, 26)
    np.testing.assert_allclose(np.asarray(out["logits"]), np.asarray(logits), rtol=1e-4, atol=1e-4)


def test_attention_sums_to_one_over_real_regions(tiny):
    """Check 5: every word's attention sums to 1 over the non-pad regions and is exactly 0 on pads (mask_padding);
    with mask_padding=False (the authors' arithmetic) the pads take attention."""
    x = tiny.example_inputs(4, seed=1)
    att, _, _ = tiny.criterion.cross_outputs(x["region_feats"], x["region_mask"], x["word_feats"], x["word_mask"])
    att = np.asarray(att)
    pad = x["region_mask"] == 0
    assert pad.any()
    np.testing.assert_allclose(att.sum(-1), 1.0, atol=1e-5)
    by_region = np.moveaxis(att, (1, 3), (0, 1))  # (Bo, To, Bw, Tw): pad[o, u] selects image o's region u
    assert np.all(by_region[pad] == 0.0)
    assert att.max() > 0.3  # not a uniform attention
    pair = np.asarray(tiny.criterion.pair_attention(x["region_feats"], x["region_mask"], x["word_feats"], x["word_mask"]))
    np.testing.assert_allclose(pair, np.stack([att[i, i] for i in range(4)]), atol=1e-6)
    raw = registry.create_model("info_ground_tiny", mask_padding=False)
    raw.set_weights(tiny.get_weights())
    att_raw, _, _ = raw.criterion.cross_outputs(x["region_feats"], x["region_mask"], x["word_feats"], x["word_mask"])
    assert float(np.moveaxis(np.asarray(att_raw), (1, 3), (0, 1))[pad].sum()) > 0.01


def _nce_reference(logits, mask):
    """Loss 1 in float64 numpy, written from the card (CE over images per word, mean over words, then captions)."""
    logits = logits.astype(np.float64)
    log_p = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    per = [(log_p[i, i] * mask[i]).sum() / (mask[i].sum() + 1e-6) for i in range(len(logits))]
    return -float(np.mean(per))


def test_image_word_nce_formula_and_bounds():
    """Check 4: the loss equals the formula, is >= 0, is exactly 0 for B = 1, and on separable features it falls
    towards 0 as B grows while the bound log(B) - L rises."""
    rng = np.random.default_rng(0)
    logits, mask = rng.normal(size=(5, 5, 4)).astype(np.float32) * 3, (rng.uniform(size=(5, 4)) > 0.3).astype(np.float32)
    mask[2] = 0  # a caption without valid words contributes 0
    got = float(losses.image_word_nce(logits, mask))
    assert got == pytest.approx(_nce_reference(logits, mask), abs=1e-5) and got >= 0
    assert float(losses.image_word_nce(rng.normal(size=(1, 1, 4)).astype(np.float32), np.ones((1, 4)))) == 0.0
    bounds, values = [], []
    for b in (2, 8, 32):
        # separable: caption i's words score 10 on image i, 0 elsewhere
        sep = (10.0 * np.eye(b)[:, :, None] * np.ones((1, 1, 3))).astype(np.float32)
        value = float(losses.image_word_nce(sep, np.ones((b, 3), np.float32)))
        values.append(value)
        bounds.append(math.log(b) - value)
    assert all(v >= 0 for v in values) and values[-1] < 1e-2
    assert bounds[0] < bounds[1] < bounds[2]


def test_neg_noun_nce_formula():
    rng = np.random.default_rng(1)
    logits, valid = rng.normal(size=(4, 26)).astype(np.float32), np.array([1, 0, 1, 1], np.float32)
    log_p = logits.astype(np.float64) - np.log(np.exp(logits.astype(np.float64)).sum(1, keepdims=True))
    want = -(log_p[:, 0] * valid).sum() / (valid.sum() + 1e-6)
    assert float(losses.neg_noun_nce(logits, valid)) == pytest.approx(want, abs=1e-5)
    assert float(losses.neg_noun_nce(logits, np.zeros(4, np.float32))) == 0.0


def test_training_step_lowers_the_loss_and_uses_the_padding_masks(tiny):
    """A few Adam steps on one batch lower both terms; padded regions never change the logits (mask_padding). (The
    XLA train step is test_info_ground_short_run.py's.)"""
    x = tiny.example_inputs(6, seed=2)
    changed = {**x, "region_feats": x["region_feats"] + 5.0 * (1 - x["region_mask"])[..., None]}
    a, b = tiny(x, training=False), tiny(changed, training=False)
    np.testing.assert_allclose(np.asarray(a["logits"]), np.asarray(b["logits"]), atol=1e-5)
    import tensorflow as tf

    model = registry.create_model("info_ground_tiny")
    optimizer = keras.optimizers.Adam(1e-2)
    history = []
    for _ in range(16):  # eager steps: tracing a train function costs more than the steps
        with tf.GradientTape() as tape:
            total, terms = losses.info_ground_loss(model(x, training=True))
        optimizer.apply_gradients(zip(tape.gradient(total, model.trainable_variables), model.trainable_variables,
                                      strict=True))
        history.append({k: float(v) for k, v in terms.items()})
    first, last = history[0], history[-1]
    assert last["lang_sup_loss"] < 0.5 * first["lang_sup_loss"] and last["neg_noun_loss"] < 0.5 * first["neg_noun_loss"]
