"""Mask2CAD's heads attached to the zoo's detector, CPN (official/vision/cpn), in place of Mask R-CNN.

The zoo has no Mask R-CNN (README "How the heads attach"). CPN provides what the heads need:
- boxes, contiguous classes, scores and a valid mask of fixed size (`CPN.detect`: soft-NMS, max_detections
  rows per image; the spec card's "max 8-100 per image");
- a stride-4 feature map: the region branch of its last stack (`body(images)["region_feat{last}"]`, the map
  CPN's own region classifier pools with RoIAlign). Boxes are in input pixels, so the RoIAlign scale is
  output_size / input_size.
Training feeds the GT boxes and classes (as the paper trains the heads); inference runs `detect`.
Differences from the paper: CPN instead of Mask R-CNN R50-FPN (one level, region_channels wide instead of
256); `detect` runs the body a second time for the RoI features (simplicity over speed); the CPN and
Mask2CAD losses are combined in network.Mask2CAD (the registered, trainable model built on this class).
"""

from __future__ import annotations

import keras
from keras import ops

from official.core.base_model import ZooSubclassModel
from official.ops.roi_align import roi_align
from official.vision.cpn.model import CPN
from research.three_d.mask2cad.heads import Mask2CADHeads
from research.three_d.mask2cad.model import mask_head


@keras.saving.register_keras_serializable(package="eccv20zoo")
class Mask2CADOnCPN(ZooSubclassModel):
    """{"images" (B, S, S, 3) 0-255 [, "boxes" (B, D, 4), "classes" (B, D)]} -> per-RoI Mask2CAD outputs
    (B*D rows) plus boxes, classes, scores, valid (B, D); without boxes the detector's detections are used."""

    def __init__(self, cpn: dict, roi_size: int = 14, mask_width: int = 64, mask_convs: int = 2,
                 head_width: int = 64, embed_dim: int = 128, num_bins: int = 16, **kwargs):
        super().__init__(**kwargs)
        self.detector = CPN(**cpn)
        self.num_classes, self.roi_size = self.detector.num_classes, roi_size
        self.feature_name = f"region_feat{self.detector.stacks - 1}"
        width = int(self.detector.body.output[self.feature_name].shape[-1])
        self.scale = float(self.detector.body.output[self.feature_name].shape[1]) / self.detector.input_size
        self.mask_head = mask_head(roi_size, width, mask_width, mask_convs, self.num_classes)
        self.heads = Mask2CADHeads(self.num_classes, num_bins, roi_size, in_width=width, width=head_width,
                                   embed_dim=embed_dim)

    def call(self, inputs, training=False):
        images = ops.cast(inputs["images"], "float32")
        if "boxes" in inputs:
            boxes = ops.cast(inputs["boxes"], "float32")
            classes = ops.cast(inputs["classes"], "int32")
            scores = ops.ones(ops.shape(boxes)[:2], "float32")
            valid = ops.ones(ops.shape(boxes)[:2], "bool")
        else:
            det = self.detector.detect(images)
            boxes, classes, scores, valid = det["boxes"], det["classes"], det["scores"], det["valid"]
        feats = self.detector.body(images, training=training)[self.feature_name]
        out = self.roi_outputs(feats, boxes, classes, training)
        out.update(boxes=boxes, scores=scores, valid=valid)
        return out

    def roi_outputs(self, feats, boxes, classes, training=False) -> dict:
        """RoIAlign 14x14 of `boxes` (B, D, 4) input pixels on the region map `feats`, the mask head, the
        mask of each box's class (`classes` (B, D)) and the mask-weighted Mask2CAD heads (B*D rows)."""
        roi = roi_align(feats, ops.cast(boxes, "float32"), self.roi_size, self.scale, sampling_ratio=2,
                        mode="aligned")
        roi = ops.reshape(roi, (-1, self.roi_size, self.roi_size, roi.shape[-1]))
        mask_logits = self.mask_head(roi, training=training)
        flat_classes = ops.reshape(ops.cast(classes, "int32"), (-1,))
        one_hot = ops.one_hot(flat_classes, self.num_classes, dtype=mask_logits.dtype)
        mask_probs = ops.sigmoid(ops.sum(mask_logits * one_hot[:, None, None, :], axis=-1, keepdims=True))
        out = dict(self.heads({"roi_features": roi, "mask_probs": mask_probs}, training=training))
        out.update(mask_logits=mask_logits, mask_probs=mask_probs, classes=flat_classes)
        return out
