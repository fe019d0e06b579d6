"""CPN's proposal head: stage-1 decoding, the two RoI classifiers and score fusion, as one layer.

A layer (not functional ops) because decoding needs dynamic batch shapes; it owns the per-stack
grouping and region classifiers. Inference: `head(feats)` -> packed proposals (see PACKED_COLUMNS),
the last output of the network body that TFLite exports. Training: `head.training_outputs(...)`
assigns the decoded proposals (or the objects themselves) and classifies them on every stack.
"""

from __future__ import annotations

import keras
from keras import ops

from official.losses.focal import clamped_sigmoid
from official.ops.roi_align import roi_align
from official.vision.cpn import decode, targets
from official.vision.cpn.layers import roi_classifier

# Columns of the packed (batch, K*K, 8) proposal tensor: boxes in input pixels, fused score (-1 when
# rejected), class index (as float), and the two corner scores (soft-NMS box-merging weights).
PACKED_COLUMNS = ("x1", "y1", "x2", "y2", "score", "class", "tl_score", "br_score")


def unpack_proposals(packed) -> dict:
    """(B, N, 8) packed proposals -> dict of boxes, scores, classes (int32), valid, tl/br scores."""
    return {
        "boxes": packed[..., 0:4],
        "scores": packed[..., 4],
        "classes": ops.cast(ops.round(packed[..., 5]), "int32"),
        "valid": packed[..., 4] > 0.0,
        "tl_scores": packed[..., 6],
        "br_scores": packed[..., 7],
    }


@keras.saving.register_keras_serializable(package="eccv20zoo")
class CPNProposalHead(keras.layers.Layer):
    """Decoding + grouping/region classification of the body's per-stack maps (see model.CPN)."""

    def __init__(
        self,
        num_classes: int,
        stacks: int,
        input_size: int,
        output_size: int,
        grouping_channels: int,
        region_channels: int,
        region_hidden: int,
        classifier_bn: bool,
        top_k: int,
        nms_kernel: int,
        grouping_threshold: float,
        roi_size: int,
        roi_sampling_ratio: int,
        num_samples: int,
        max_proposals: int,
        bn_momentum: float,
        bn_epsilon: float,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.stacks = stacks
        self.scale = input_size / output_size
        self.top_k = top_k
        self.nms_kernel = nms_kernel
        self.grouping_threshold = grouping_threshold
        self.roi_size = roi_size
        self.roi_sampling_ratio = roi_sampling_ratio
        self.num_samples = num_samples
        self.max_proposals = max_proposals
        bn = {"momentum": bn_momentum, "epsilon": bn_epsilon}
        self.grouping_classifiers = [
            roi_classifier(roi_size, grouping_channels, grouping_channels, 1, classifier_bn, f"s{s}_grouping_cls", bn)
            for s in range(stacks)
        ]
        self.region_classifiers = [
            roi_classifier(roi_size, region_channels, region_hidden, num_classes, classifier_bn, f"s{s}_region_cls", bn)
            for s in range(stacks)
        ]
        # Plain attributes too: TF's checkpoint graph does not follow Keras 3's tracked lists, so without
        # them a checkpoint restored into a fresh model (`restore_for_inference`) missed these weights.
        for s in range(stacks):
            setattr(self, f"grouping_cls{s}", self.grouping_classifiers[s])
            setattr(self, f"region_cls{s}", self.region_classifiers[s])

    def classify(self, stack: int, feats: dict, boxes, training: bool = False):
        """Grouping (B, N) and region (B, N, C) logits of grid boxes (B, N, 4) on stack `stack`
        (RoIAlign in output-grid units, mmdetection-v1 convention, as CPNDet)."""
        n = ops.shape(boxes)[1]

        def pooled(name: str):
            rois = roi_align(feats[f"{name}{stack}"], boxes, self.roi_size, 1.0, self.roi_sampling_ratio, "mmdet_v1")
            return ops.reshape(rois, (-1, self.roi_size, self.roi_size, rois.shape[-1]))

        grouping = self.grouping_classifiers[stack](pooled("grouping_feat"), training=training)
        region = self.region_classifiers[stack](pooled("region_feat"), training=training)
        return ops.reshape(grouping, (-1, n)), ops.reshape(region, (-1, n, self.num_classes))

    def call(self, feats: dict):
        """Packed (B, M, 8) proposals of the last stack, M = K*K or `max_proposals`."""
        last = self.stacks - 1
        pairs = decode.corner_proposals(feats[f"tl_heat{last}"], feats[f"br_heat{last}"], self.top_k, self.nms_kernel)
        refined = decode.refine_boxes(pairs, feats[f"tl_off{last}"], feats[f"br_off{last}"])
        pairs = decode.reject_inverted(pairs, refined)
        rows = {
            "grid": pairs["boxes"],
            "boxes": refined * self.scale,
            "corner": pairs["scores"],
            "classes": pairs["classes"],
            "valid": pairs["valid"],
            "tl": pairs["tl_scores"],
            "br": pairs["br_scores"],
        }
        if 0 < self.max_proposals < self.top_k * self.top_k:
            _, keep = ops.top_k(pairs["scores"], self.max_proposals)
            rows = {k: ops.take_along_axis(v, keep[..., None] if len(v.shape) == 3 else keep, axis=1) for k, v in rows.items()}
        grouping, region = self.classify(last, feats, rows["grid"])
        grouping = clamped_sigmoid(grouping)
        s_r = ops.squeeze(ops.take_along_axis(clamped_sigmoid(region), rows["classes"][..., None], axis=2), axis=2)
        keep = ops.logical_and(rows["valid"], grouping >= self.grouping_threshold)
        score = ops.where(keep, decode.fuse_scores(rows["corner"], s_r), -1.0)
        columns = [ops.cast(rows["boxes"], "float32"), score[..., None], ops.cast(rows["classes"], "float32")[..., None],
                   rows["tl"][..., None], rows["br"][..., None]]
        return ops.concatenate([ops.cast(c, "float32") for c in columns], axis=-1)

    def compute_output_shape(self, input_shape):
        n = self.top_k * self.top_k
        if 0 < self.max_proposals < n:
            n = self.max_proposals
        return (input_shape["tl_heat0"][0], n, len(PACKED_COLUMNS))

    def training_outputs(self, feats: dict, inputs: dict, training: bool = True) -> dict:
        """Heads, stage-2 logits of every stack and their labels/masks (for `CPN.compute_loss`)."""
        last = self.stacks - 1
        heat_tl = ops.stop_gradient(feats[f"tl_heat{last}"])
        heat_br = ops.stop_gradient(feats[f"br_heat{last}"])
        pairs = decode.corner_proposals(heat_tl, heat_br, self.top_k, self.nms_kernel)
        proposal_valid = ops.logical_and(pairs["valid"], pairs["scores"] > 0)
        rows = targets.assign_proposals(
            pairs["boxes"], pairs["scores"], proposal_valid, inputs["gt_boxes"], inputs["gt_classes"],
            inputs["box_mask"], self.num_classes, self.num_samples,
        )
        rows = {k: ops.stop_gradient(v) for k, v in rows.items()}
        out = {k: v for k, v in feats.items() if k.startswith(("tl_", "br_"))}
        for s in range(self.stacks):
            out[f"grouping_logits{s}"], out[f"region_logits{s}"] = self.classify(s, feats, rows["boxes"], training)
        grouping_now = ops.stop_gradient(clamped_sigmoid(out[f"grouping_logits{last}"]))
        selected = ops.logical_or(rows["is_gt"], grouping_now >= self.grouping_threshold)
        out["roi_valid"] = ops.cast(rows["valid"], "float32")
        out["region_mask"] = ops.cast(ops.logical_and(rows["valid"], selected), "float32")
        out["grouping_labels"] = rows["grouping_labels"]
        out["region_labels"] = rows["region_labels"]
        return out
