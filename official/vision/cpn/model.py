"""CPN: Corner Proposal Network (Duan et al., ECCV 2020) as a Keras model.

One network, two stages on one stride-4 map (spec "Method"):
- the "body" (a functional model built in __init__): pixel normalisation, backbone (DLA-34 + DLA-up
  neck, or stacked hourglass), per stack cascade corner pooling, top-left / bottom-right heatmap and
  offset heads, and the grouping (32 ch) and region feature branches;
- stage 1 decoding: top-K corners of the last stack, all K x K pairs (decode.py);
- stage 2: RoIAlign 7x7 of every proposal on the grouping and region maps (output-grid coordinates,
  mmdetection-v1 convention, as CPNDet), the binary grouping classifier and the multi-class region
  classifier; score (s_c + 0.5)(s_r + 0.5) - 0.25 for proposals with grouping >= 0.2.

`model(images)` (images: (batch, S, S, 3) RGB pixels 0-255) returns the K*K proposals before NMS packed
as (batch, K*K, 8) = (x1, y1, x2, y2 in input pixels, fused score or -1, class, tl score, br score):
the network body that TFLite exports; `model.proposals(images)` unpacks it.
`model.detect(images)` adds the flip test and soft-NMS with box merging -> fixed-size detections.
`model({"image", "gt_boxes", "gt_classes", "box_mask"}, training=True)` additionally assigns the
decoded proposals to the objects and returns everything `compute_loss` needs, so `fit` trains it.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from official.core.base_model import ZooModel
from official.losses.focal import masked_smooth_l1, penalty_reduced_focal_loss
from official.vision.backbones.dla import DLA34_CHANNELS, DLA34_LEVELS, DLABackbone
from official.vision.backbones.hourglass import HG104_DIMS, HG104_MODULES, HourglassBackbone
from official.vision.cpn import decode
from official.vision.cpn.head import CPNProposalHead, unpack_proposals
from official.vision.cpn.layers import HEATMAP_BIAS, cascade_corner_pool, feature_branch, prediction_head

# CornerNet's ImageNet statistics (BGR on the 0-1 scale in the official code), here RGB on 0-255.
PIXEL_MEAN = (0.47026115 * 255, 0.44719302 * 255, 0.40789654 * 255)
PIXEL_STD = (0.27809835 * 255, 0.27408164 * 255, 0.28863828 * 255)
LOSS_TERMS = ("corner_loss", "offset_loss", "grouping_loss", "region_loss")


@keras.saving.register_keras_serializable(package="eccv20zoo")
class CPN(ZooModel):
    """Corner Proposal Network.

    Args:
        backbone: "dla34" (DLA + DLA-up neck) or "hourglass" (stacked hourglass).
        num_classes: heatmap channels / region classes (80 for COCO).
        input_size: S of the square training and serving input.
        dla_channels, dla_levels: DLA widths and tree depths (DLA-34: (16, 32, 64, 128, 256, 512),
            (1, 1, 1, 2, 2, 1)).
        hourglass_dims, hourglass_modules, num_stacks, stem_channels, cnv_dim: hourglass structure
            (Hourglass-104: (256, 256, 384, 384, 384, 512), (2, 2, 2, 2, 2, 4), 2, 128, 256).
        pool_channels: inner width of the cascade corner pooling (64 DLA-34, 128 hourglass).
        head_channels: hidden width of the heatmap/offset heads (256).
        region_channels: region feature branch width (64 DLA-34, 256 hourglass).
        region_hidden: width of the region classifier's 7x7 conv (256).
        grouping_channels: grouping feature branch and classifier width (32).
        branch_convs: convs in the stage-2 feature branches (1 DLA-34, 2 hourglass).
        classifier_bn: BN after the classifiers' 7x7 conv (hourglass) instead of a bias (DLA-34).
        top_k: corners kept per type (70): K*K proposals.
        nms_kernel: heatmap peak max-pool size (3).
        grouping_threshold: proposals below this grouping score are rejected (0.2).
        roi_size, roi_sampling_ratio: RoIAlign bins (7) and samples per bin axis (2).
        num_samples: stage-2 rows per training image (4900 = CPNDet's sampler size).
        max_proposals: proposals classified at inference, best s_c first; 0 = all K*K.
        pre_nms_top_k: best proposals per view entering soft-NMS (1000, CPNDet `_decode`).
        max_detections: detections per image after soft-NMS (100).
        soft_nms_sigma, merge_weight_exp, nms_iou: soft-NMS (Gaussian, sigma 0.5, box merging with
            weight exponent 10; nms_iou only matters for a hard/linear rule).
        flip_test: `detect` averages the image and its mirror (CPNDet test protocol).
        pixel_mean, pixel_std: RGB normalisation on the 0-255 scale.
        bn_momentum, bn_epsilon: BatchNorm (PyTorch momentum 0.1 = Keras 0.9, eps 1e-5).
    """

    def __init__(
        self,
        backbone: str = "dla34",
        num_classes: int = 80,
        input_size: int = 511,
        dla_channels: tuple[int, ...] = DLA34_CHANNELS,
        dla_levels: tuple[int, ...] = DLA34_LEVELS,
        hourglass_dims: tuple[int, ...] = HG104_DIMS,
        hourglass_modules: tuple[int, ...] = HG104_MODULES,
        num_stacks: int = 2,
        stem_channels: int = 128,
        cnv_dim: int = 256,
        pool_channels: int = 64,
        head_channels: int = 256,
        region_channels: int = 64,
        region_hidden: int = 256,
        grouping_channels: int = 32,
        branch_convs: int = 1,
        classifier_bn: bool = False,
        top_k: int = 70,
        nms_kernel: int = 3,
        grouping_threshold: float = 0.2,
        roi_size: int = 7,
        roi_sampling_ratio: int = 2,
        num_samples: int = 4900,
        max_proposals: int = 0,
        pre_nms_top_k: int = 1000,
        max_detections: int = 100,
        soft_nms_sigma: float = 0.5,
        merge_weight_exp: float = 10.0,
        nms_iou: float = 0.5,
        flip_test: bool = True,
        pixel_mean: tuple[float, float, float] = PIXEL_MEAN,
        pixel_std: tuple[float, float, float] = PIXEL_STD,
        bn_momentum: float = 0.9,
        bn_epsilon: float = 1e-5,
        **kwargs,
    ):
        bn = {"momentum": bn_momentum, "epsilon": bn_epsilon}
        shape = (input_size, input_size, 3)
        images = keras.Input(shape, name="images")
        x = layers.Normalization(mean=list(pixel_mean), variance=[s * s for s in pixel_std], name="normalize")(images)
        if backbone == "dla34":
            net = DLABackbone(dla_channels, dla_levels, True, shape, bn_momentum, bn_epsilon, name="backbone")
            stacks = [net(x)["P2_fused"]]
        elif backbone == "hourglass":
            net = HourglassBackbone(
                hourglass_dims, hourglass_modules, num_stacks, stem_channels, cnv_dim, shape, bn_momentum, bn_epsilon,
                name="backbone",
            )
            out = net(x)
            stacks = [out[f"stack{s}"] for s in range(num_stacks - 1)] + [out["P2"]]
        else:
            raise ValueError(f"CPN: backbone must be 'dla34' or 'hourglass', got {backbone!r}")
        feats = {}
        for s, feat in enumerate(stacks):
            tl = cascade_corner_pool(feat, pool_channels, "top", "left", f"s{s}_tl_pool", bn)
            br = cascade_corner_pool(feat, pool_channels, "bottom", "right", f"s{s}_br_pool", bn)
            feats[f"tl_heat{s}"] = prediction_head(tl, head_channels, num_classes, f"s{s}_tl_heat", HEATMAP_BIAS)
            feats[f"br_heat{s}"] = prediction_head(br, head_channels, num_classes, f"s{s}_br_heat", HEATMAP_BIAS)
            feats[f"tl_off{s}"] = prediction_head(tl, head_channels, 2, f"s{s}_tl_off")
            feats[f"br_off{s}"] = prediction_head(br, head_channels, 2, f"s{s}_br_off")
            feats[f"grouping_feat{s}"] = feature_branch(feat, grouping_channels, branch_convs, f"s{s}_grouping", bn)
            feats[f"region_feat{s}"] = feature_branch(feat, region_channels, branch_convs, f"s{s}_region", bn)
        body = keras.Model(images, feats, name="body")
        output_size = int(feats["tl_heat0"].shape[1])
        head = CPNProposalHead(
            num_classes, len(stacks), input_size, output_size, grouping_channels, region_channels, region_hidden,
            classifier_bn, top_k, nms_kernel, grouping_threshold, roi_size, roi_sampling_ratio, num_samples,
            max_proposals, bn_momentum, bn_epsilon, name="proposal_head",
        )
        inputs = keras.Input(shape, name="images")
        super().__init__(inputs=inputs, outputs=head(body(inputs)), **kwargs)
        for key, value in self.constructor_args.items():  # self.flip_test, self.input_size, ...
            setattr(self, key, value)
        self.body = body
        self.head = head
        self.stacks = len(stacks)
        self.output_size = output_size
        self.input_spec = None  # training calls take a dict of image + objects
        self.loss_trackers = [keras.metrics.Mean(name=n) for n in LOSS_TERMS]

    # --- forward -------------------------------------------------------------------------------
    def call(self, inputs, training=None, mask=None):
        """images -> packed proposals (functional graph); a training dict -> `compute_loss` inputs."""
        if isinstance(inputs, dict):
            if training and "gt_boxes" in inputs:
                feats = self.body(inputs["image"], training=training)
                return self.head.training_outputs(feats, inputs, training)
            inputs = inputs["image"]
        return super().call(inputs, training=training, mask=mask)

    def proposals(self, images) -> dict:
        """Unpacked pre-NMS proposals of (B, S, S, 3) pixel images (see head.unpack_proposals)."""
        return unpack_proposals(self(images, training=False))

    # --- training ------------------------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """(corner focal + offset smooth-L1 + grouping focal + region focal) / stacks (spec "losses")."""
        if not isinstance(y, dict) or "tl_heatmap" not in y or "grouping_labels" not in y_pred:
            return super().compute_loss(x, y, y_pred, sample_weight, training)
        corner = offset = grouping = region = 0.0
        for s in range(self.stacks):
            corner += penalty_reduced_focal_loss(y_pred[f"tl_heat{s}"], y["tl_heatmap"])
            corner += penalty_reduced_focal_loss(y_pred[f"br_heat{s}"], y["br_heatmap"])
            tl_off = decode.gather_cells(y_pred[f"tl_off{s}"], y["tl_indices"])
            br_off = decode.gather_cells(y_pred[f"br_off{s}"], y["br_indices"])
            offset += masked_smooth_l1(tl_off, y["tl_offsets"], y["box_mask"])
            offset += masked_smooth_l1(br_off, y["br_offsets"], y["box_mask"])
            grouping += penalty_reduced_focal_loss(y_pred[f"grouping_logits{s}"], y_pred["grouping_labels"], y_pred["roi_valid"])
            region += penalty_reduced_focal_loss(
                y_pred[f"region_logits{s}"], y_pred["region_labels"], y_pred["region_mask"][..., None]
            )
        terms = [t / self.stacks for t in (corner, offset, grouping, region)]
        for tracker, value in zip(self.loss_trackers, terms, strict=True):
            tracker.update_state(value)
        total = terms[0] + terms[1] + terms[2] + terms[3]
        # `_aggregate_additional_loss` applies Keras' per-replica scaling (tf.distribute) as for add_loss.
        total = self._aggregate_additional_loss(total)
        for extra in self.losses:
            total = total + self._aggregate_additional_loss(extra)
        return total

    # --- inference -----------------------------------------------------------------------------
    def detect(self, images, image_sizes=None, flip: bool | None = None) -> dict:
        """Fixed-size detections of (B, S, S, 3) pixel images (flip test + soft-NMS with merging).

        image_sizes: optional (B, 2) (height, width) of the real image inside the padded input;
        boxes are clipped to it (and boxes more than 5 px outside are dropped, as CPNDet does).
        Returns boxes (B, D, 4) in input pixels, scores (B, D), classes (B, D) int32 (contiguous),
        num_detections (B,), valid (B, D).
        """
        flip = self.flip_test if flip is None else flip
        images = ops.convert_to_tensor(images)
        batch = ops.shape(images)[0]
        views = ops.concatenate([images, ops.flip(images, axis=2)], axis=0) if flip else images
        return decode.postprocess(
            self.proposals(views), batch, self.input_size, flip, image_sizes, self.pre_nms_top_k,
            self.max_detections, self.soft_nms_sigma, self.merge_weight_exp or None, self.nms_iou,
        )
