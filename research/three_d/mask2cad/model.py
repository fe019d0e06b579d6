"""Mask2CAD's second stage on given boxes (keras.ops only): feature map -> RoIAlign 14x14 -> mask head ->
mask-weighted Mask2CAD heads, plus the CAD-view encoder whose embeddings form the retrieval table.

What this is and is not (README "How the heads attach"): the zoo has no Mask R-CNN, so this model takes the
boxes as an input, as the paper's heads do in training (GT boxes) and as they would from any detector's
`detect()` at test time. Pieces:
- features: ResNet trunk (official/vision/backbones/resnet) + a one-level FPN-style top-down neck to stride
  2^level (HMOR's pattern; the paper pools from ResNet-50-FPN levels);
- RoIAlign 14x14 (official/ops/roi_align, "aligned", 2 samples per bin) of every box;
- mask head: `mask_convs` x [conv3x3 + ReLU] + 1x1 conv -> per-class 14x14 mask logits. GUESS/difference:
  Mask R-CNN predicts 28x28 after a transposed conv; here the mask is predicted at the 14x14 the Mask2CAD
  heads consume;
- Mask2CAD heads (heads.py) on the features times the sigmoid mask of the box's class;
- view encoder: GUESS/difference: a small CNN (conv3x3 stride 2 + BN + ReLU blocks, GAP, Dense) on
  grey-shaded renders instead of the paper's ResNet-18, -> L2-normalised `embed_dim` vectors.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from official.core.base_model import ZooSubclassModel
from official.ops.roi_align import roi_align
from official.vision.backbones.resnet_topdown import resnet_topdown_features
from research.three_d.mask2cad.heads import L2Normalize, Mask2CADHeads
from research.three_d.mask2cad.retrieval import select_class


def mask_head(roi_size, channels, width, convs, num_classes):
    roi = keras.Input((roi_size, roi_size, channels), name="roi_features")
    x = roi
    for i in range(convs):
        x = layers.Conv2D(width, 3, padding="same", activation="relu", name=f"mask_conv{i + 1}")(x)
    return keras.Model(roi, layers.Conv2D(num_classes, 1, name="mask_logits")(x), name="mask_head")


def view_encoder(view_size, widths, embed_dim, bn):
    views = keras.Input((view_size, view_size, 1), name="views")
    x = views
    for i, w in enumerate(widths):
        x = layers.Conv2D(w, 3, strides=2, padding="same", use_bias=False, name=f"view_conv{i + 1}")(x)
        x = layers.BatchNormalization(name=f"view_bn{i + 1}", **bn)(x)
        x = layers.ReLU(name=f"view_relu{i + 1}")(x)
    x = layers.GlobalAveragePooling2D(name="view_pool")(x)
    x = L2Normalize(name="view_embedding")(layers.Dense(embed_dim, name="view_fc")(x))
    return keras.Model(views, x, name="view_encoder")


@keras.saving.register_keras_serializable(package="eccv20zoo")
class Mask2CADRoI(ZooSubclassModel):
    """{"images" (B, S, S, 3) 0-255, "boxes" (B, D, 4) x1 y1 x2 y2 pixels, "classes" (B, D)} -> per-RoI
    (B*D rows) mask_logits (14, 14, C), mask_probs of the given class, embedding, rotation_logits,
    rotation_delta, centre_offset. `encode_views(views)` embeds CAD renders (V, s, s, 1) -> (V, embed_dim)."""

    def __init__(self, num_classes: int, image_size: int = 64, resnet_blocks: tuple[int, ...] = (1, 1, 1, 1),
                 resnet_widths: tuple[int, ...] = (16, 32, 64, 128), stem_width: int = 16, level: int = 2,
                 neck_width: int = 64, roi_size: int = 14, mask_width: int = 64, mask_convs: int = 2,
                 head_width: int = 64, embed_dim: int = 128, num_bins: int = 16, view_size: int = 32,
                 view_widths: tuple[int, ...] = (16, 32, 64), bn_momentum: float = 0.9, bn_epsilon: float = 1e-5,
                 **kwargs):
        super().__init__(**kwargs)
        bn = {"momentum": bn_momentum, "epsilon": bn_epsilon}
        self.num_classes, self.roi_size, self.stride = num_classes, roi_size, 2 ** level
        self.features = resnet_topdown_features((image_size, image_size, 3), tuple(resnet_blocks),
                                                tuple(resnet_widths), stem_width, level, neck_width, bn)
        self.mask_head = mask_head(roi_size, neck_width, mask_width, mask_convs, num_classes)
        self.heads = Mask2CADHeads(num_classes, num_bins, roi_size, in_width=neck_width, width=head_width,
                                   embed_dim=embed_dim, bn_momentum=bn_momentum, bn_epsilon=bn_epsilon)
        self.view_encoder = view_encoder(view_size, tuple(view_widths), embed_dim, bn)

    def call(self, inputs, training=False):
        feats = self.features(ops.cast(inputs["images"], "float32"), training=training)
        boxes = ops.cast(inputs["boxes"], "float32")
        roi = roi_align(feats, boxes, self.roi_size, 1.0 / self.stride, sampling_ratio=2, mode="aligned")
        roi = ops.reshape(roi, (-1, self.roi_size, self.roi_size, roi.shape[-1]))
        mask_logits = self.mask_head(roi, training=training)
        classes = ops.reshape(ops.cast(inputs["classes"], "int32"), (-1,))
        one_hot = ops.one_hot(classes, self.num_classes, dtype=mask_logits.dtype)
        mask_probs = ops.sigmoid(ops.sum(mask_logits * one_hot[:, None, None, :], axis=-1, keepdims=True))
        out = dict(self.heads({"roi_features": roi, "mask_probs": mask_probs}, training=training))
        out.update(mask_logits=mask_logits, mask_probs=mask_probs, classes=classes)
        return out

    def encode_views(self, views, training=False):
        return self.view_encoder(ops.cast(views, "float32"), training=training)


def mask_loss(outputs, gt_masks, boxes, roi_size: int = 14, valid=None):
    """Binary cross-entropy of the given class's 14x14 mask logits against the RoI-aligned GT mask
    (gt_masks (B, H, W, 1) in {0, 1}, boxes (B, D, 4) pixels)."""
    target = roi_align(ops.cast(gt_masks, "float32"), ops.cast(boxes, "float32"), roi_size, 1.0, 2, "aligned")
    target = ops.cast(ops.reshape(target, (-1, roi_size, roi_size)) >= 0.5, "float32")
    logits = select_class(ops.reshape(ops.transpose(outputs["mask_logits"], (0, 3, 1, 2)),
                                      (-1, outputs["mask_logits"].shape[-1], roi_size * roi_size)),
                          outputs["classes"])
    bce = ops.mean(ops.binary_crossentropy(ops.reshape(target, (-1, roi_size * roi_size)), logits, from_logits=True),
                   axis=-1)
    if valid is None:
        return ops.mean(bce)
    w = ops.reshape(ops.cast(valid, "float32"), (-1,))
    return ops.sum(bce * w) / ops.maximum(ops.sum(w), 1.0)
