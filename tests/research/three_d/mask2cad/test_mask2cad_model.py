"""Mask2CAD second stage on given boxes: output shapes, the RoI-aligned mask target against a hand-computed
one, a few training steps on rendered primitives (loss falls), and the fixture's geometry."""

import keras
import numpy as np
import tensorflow as tf

from research.three_d.mask2cad import losses, rotation_bins, synthetic
from research.three_d.mask2cad.model import Mask2CADRoI, mask_loss
from research.three_d.mask2cad.small_run import _targets

TINY = dict(resnet_widths=(8, 16, 16, 16), stem_width=8, neck_width=16, mask_width=16, head_width=16, embed_dim=16,
            num_bins=4, view_widths=(8, 16))


def test_mask_loss_target_is_the_box_aligned_mask():
    mask = np.zeros((1, 64, 64, 1), np.float32)
    mask[0, 16:48, 16:32] = 1.0  # the left half of the box below
    boxes = np.array([[[16.0, 16.0, 48.0, 48.0]]], np.float32)
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(1, 14, 14, 3)).astype(np.float32)
    target = np.zeros((14, 14))
    target[:, :7] = 1.0  # bins whose samples fall in x < 32
    z = logits[0, ..., 2]
    ref = np.mean(np.maximum(z, 0) - z * target + np.log1p(np.exp(-np.abs(z))))
    value = float(mask_loss({"mask_logits": logits, "classes": np.array([2])}, mask, boxes))
    np.testing.assert_allclose(value, ref, rtol=1e-5)


def test_forward_shapes_and_a_few_training_steps():
    keras.utils.set_random_seed(0)
    data = synthetic.make_scenes(6, seed=0)
    views = synthetic.render_views(num_views=4)
    # fixture geometry: the object's centre projects inside its box; the box encloses the mask
    uvw = data["translation"] @ data["K"].T
    uv = uvw[:, :2] / uvw[:, 2:]
    assert np.all((uv > data["box"][:, :2]) & (uv < data["box"][:, 2:]))
    assert views["views"].shape == (16, 32, 32, 1) and views["views"].max() > 0.5
    bins = rotation_bins.fit_rotation_bins(data["quaternion"], data["category"], 2, num_bins=4)
    tgt = _targets(data, bins, views)
    model = Mask2CADRoI(2, **TINY)
    boxes = np.stack([data["box"], data["box"]], 1)  # D = 2 boxes per image
    out = model({"images": data["image"], "boxes": boxes, "classes": np.stack([data["category"]] * 2, 1)})
    assert tuple(out["embedding"].shape) == (12, 16) and tuple(out["rotation_logits"].shape) == (12, 2, 4)
    assert tuple(out["mask_logits"].shape) == (12, 14, 14, 2) and tuple(out["centre_offset"].shape) == (12, 2, 2)
    np.testing.assert_allclose(np.asarray(out["embedding"])[0::2], np.asarray(out["embedding"])[1::2], atol=1e-6)
    assert tuple(model.encode_views(views["views"]).shape) == (16, 16)
    optimizer = keras.optimizers.Adam(3e-3)
    totals = []
    for _ in range(3):
        with tf.GradientTape() as tape:
            out = model({"images": data["image"], "boxes": data["box"][:, None],
                         "classes": tgt["classes"][:, None]}, training=True)
            terms = losses.mask2cad_head_losses(out, tgt, model.encode_views(views["views"], training=True))
            total = terms["total"] + mask_loss(out, data["mask"], data["box"][:, None])
        grads = tape.gradient(total, model.trainable_variables)
        assert all(g is not None for g in grads)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        totals.append(float(total))
    assert np.all(np.diff(totals) < 0), totals
