"""Mask2CAD heads on the zoo's detector (CPN tiny, 64 px): the detection path gives fixed-size per-RoI
outputs, and the given-box path pools CPN's stride-4 region map at the right scale."""

import numpy as np
from keras import ops

from official.ops.roi_align import roi_align
from official.vision.cpn.variants import VARIANTS
from research.three_d.mask2cad.cpn_attach import Mask2CADOnCPN


def test_heads_on_cpn_detections_and_given_boxes():
    cfg = {**VARIANTS["cpn_dla34tiny"], "num_classes": 2, "input_size": 64, "flip_test": False,
           "max_detections": 4}
    model = Mask2CADOnCPN(cfg, mask_width=8, head_width=8, embed_dim=8, num_bins=4)
    assert model.scale == 16 / 64  # CPN's output grid is input / 4
    images = np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3)).astype(np.float32)
    out = model({"images": images})
    assert tuple(out["boxes"].shape) == (2, 4, 4) and tuple(out["valid"].shape) == (2, 4)
    assert tuple(out["embedding"].shape) == (8, 8) and tuple(out["rotation_logits"].shape) == (8, 2, 4)
    det = model.detector.detect(images)
    np.testing.assert_allclose(np.asarray(out["boxes"]), np.asarray(det["boxes"]), atol=1e-5)
    np.testing.assert_array_equal(np.asarray(out["classes"]), np.asarray(det["classes"]).reshape(-1))
    boxes = np.array([[[0, 0, 64, 64], [10, 20, 30, 50]]] * 2, np.float32)
    classes = np.array([[0, 1]] * 2)
    given = model({"images": images, "boxes": boxes, "classes": classes})
    feats = model.detector.body(images)["region_feat0"]  # the region branch of the (only) stack
    roi = ops.reshape(roi_align(feats, boxes, 14, 0.25, 2, "aligned"), (-1, 14, 14, feats.shape[-1]))
    logits = np.asarray(model.mask_head(roi))
    probs = 1 / (1 + np.exp(-logits[np.arange(4), :, :, classes.reshape(-1)]))[..., None]
    ref = model.heads({"roi_features": np.asarray(roi), "mask_probs": probs.astype(np.float32)})
    np.testing.assert_allclose(np.asarray(given["embedding"]), np.asarray(ref["embedding"]), atol=1e-5)
    np.testing.assert_allclose(np.asarray(given["mask_probs"]), probs, atol=1e-5)
