"""Mask2CAD, trainable end to end: the zoo's CPN detector + Mask2CAD heads + the CAD-view encoder and the
in-graph retrieval database (keras.ops only; the registered `mask2cad_*` variants).

Why CPN: the zoo has no Mask R-CNN (README "How the heads attach"); CPN (official/vision/cpn) is the zoo's
2D detector and its stride-4 region map feeds the RoIAlign of the heads (cpn_attach.Mask2CADOnCPN).
- training (`model(x, training=True)` with CPN's targets in x): CPN's stage-1/2 outputs on its own
  proposals, the Mask2CAD heads on the GT boxes (the paper trains the heads on GT boxes), and the
  embeddings of every CAD view; `compute_loss` = CPN's loss + mask BCE + 0.5 L_embed + 0.25 L_rotcls +
  5 (L_rotreg + L_centre) (losses.py, spec card weights);
- inference (`detect_and_retrieve`, or `model({"images", ["intrinsics", "depth"]})`): CPN detections
  (soft-NMS, fixed `max_detections` rows), the heads on them with the predicted class, cosine retrieval
  against the view table, rotation bin + residual, projected centre and, given K and the known depth
  (Pix3D protocol: depth is not predicted), the translation.
The CAD database (rendered views, their model ids and categories) and the rotation bins are
non-trainable weights set by the Task from the data (`set_cad_database`, `set_rotation_bins`); they are
saved with every checkpoint. `view_table` holds the views' embeddings for inference and is recomputed by
`refresh_view_table()` (the Task calls it before evaluation and export).
GUESS/difference: the view encoder is a small CNN (model.view_encoder), the paper's is a ResNet-18;
training encodes every view each step (cheap for the fixture; 6,320 Pix3D views at 64 px is ~50 GFLOP
per step), where the reimpl samples views per batch.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from official.vision.cpn import decode
from official.vision.cpn.head import unpack_proposals
from official.vision.cpn.variants import VARIANTS
from research.three_d.mask2cad import losses, retrieval
from research.three_d.mask2cad.cpn_attach import Mask2CADOnCPN
from research.three_d.mask2cad.model import mask_loss, view_encoder

HEAD_TERMS = ("mask", "embed", "rotation_cls", "rotation_reg", "centre")


@keras.saving.register_keras_serializable(package="eccv20zoo")
class Mask2CAD(Mask2CADOnCPN):
    """CPN (`detector`, a registered CPN variant's arguments, with the overrides below) + Mask2CAD.

    Args:
        detector: CPN variant whose arguments are used ("cpn_dla34", "cpn_hg104", "cpn_dla34tiny").
        num_classes, input_size, max_detections, flip_test: CPN overrides (Pix3D: 9 classes).
        roi_size, mask_width, mask_convs, head_width, embed_dim, num_bins: heads (spec card: 14, 256, 4,
            256, 128, 16).
        num_cad_views, view_size, view_widths: the CAD database size (models x views), render size and
            view-encoder widths.
        num_hard_negatives: hardest negatives per row in L_embed (None = all of the same category).
        cpn_num_samples, cpn_roi_sampling_ratio: CPN stage-2 rows per image and RoIAlign samples per bin
            (0 = the detector variant's; the CPU run uses 96 and 1 as cpn_dla34tiny_shapes).
        detector_overrides: further CPN constructor arguments over the variant's (None = none); the CI run
            uses it for a detector with fewer layers, whose graph traces in a fraction of the time.
    """

    def __init__(self, detector: str = "cpn_dla34", num_classes: int = 9, input_size: int = 511,
                 max_detections: int = 100, flip_test: bool = True, roi_size: int = 14, mask_width: int = 256,
                 mask_convs: int = 4, head_width: int = 256, embed_dim: int = 128, num_bins: int = 16,
                 num_cad_views: int = 6320, view_size: int = 64, view_widths: tuple[int, ...] = (32, 64, 128, 256),
                 num_hard_negatives: int | None = None, cpn_num_samples: int = 0, cpn_roi_sampling_ratio: int = 0,
                 detector_overrides: dict | None = None, **kwargs):
        if detector not in VARIANTS:
            raise ValueError(f"Mask2CAD: detector must be one of {sorted(VARIANTS)}, got {detector!r}")
        cpn = {**VARIANTS[detector], "num_classes": num_classes, "input_size": input_size,
               "max_detections": max_detections, "flip_test": flip_test}
        if cpn_num_samples:
            cpn["num_samples"] = cpn_num_samples
        if cpn_roi_sampling_ratio:
            cpn["roi_sampling_ratio"] = cpn_roi_sampling_ratio
        cpn.update(detector_overrides or {})
        super().__init__(cpn, roi_size, mask_width, mask_convs, head_width, embed_dim, num_bins, **kwargs)
        self.num_bins, self.num_hard_negatives = num_bins, num_hard_negatives
        self.view_encoder = view_encoder(view_size, tuple(view_widths), embed_dim, {"momentum": 0.9, "epsilon": 1e-5})

        def constant(name, shape, dtype="float32"):
            return self.add_weight(shape=shape, dtype=dtype, initializer="zeros", trainable=False, name=name)

        self.views = constant("cad_views", (num_cad_views, view_size, view_size, 1))
        self.view_models = constant("cad_view_models", (num_cad_views,), "int32")
        self.view_categories = constant("cad_view_categories", (num_cad_views,), "int32")
        self.view_table = constant("cad_view_table", (num_cad_views, embed_dim))
        self.rotation_bins = constant("rotation_bins", (num_classes, num_bins, 4))
        self.rotation_bins.assign(np.tile([1.0, 0.0, 0.0, 0.0], (num_classes, num_bins, 1)).astype(np.float32))
        self.head_trackers = [keras.metrics.Mean(name=f"{t}_loss") for t in HEAD_TERMS]
        self.built = True  # every part is a built functional model or a weight created above (export tracks it)

    # --- the database and bins (set from the data by the Task) ----------------------------------
    def set_cad_database(self, views, view_models, view_categories) -> None:
        """views (V, s, s, 1) renders in [0, 1]; view_models, view_categories (V,) int."""
        want = tuple(self.views.shape)
        if tuple(np.shape(views)) != want:
            raise ValueError(f"Mask2CAD: CAD views of shape {np.shape(views)}, the model holds {want} "
                             "(model.num_cad_views = models x views per model, model.view_size)")
        self.views.assign(np.asarray(views, np.float32))
        self.view_models.assign(np.asarray(view_models, np.int32))
        self.view_categories.assign(np.asarray(view_categories, np.int32))
        self.refresh_view_table()

    def set_rotation_bins(self, bins) -> None:
        """(num_classes, num_bins, 4) medoid quaternions (rotation_bins.fit_rotation_bins)."""
        self.rotation_bins.assign(np.asarray(bins, np.float32))

    def refresh_view_table(self, batch: int = 512) -> None:
        """view_table <- the current view encoder's embeddings of every CAD view (inference mode)."""
        views = np.asarray(self.views)
        table = [np.asarray(self.view_encoder(views[i:i + batch], training=False))
                 for i in range(0, len(views), batch)]
        self.view_table.assign(np.concatenate(table, 0))

    def example_inputs(self, batch: int = 1) -> np.ndarray:
        """Images at the detector's input size with pixel values in [0, 255] (the registry sweep's forward pass;
        a subclass model has no `inputs` to read it from)."""
        size = self.detector.input_size
        return np.random.default_rng(0).uniform(0, 255, (batch, size, size, 3)).astype(np.float32)

    # --- forward -----------------------------------------------------------------------------
    def call(self, inputs, training=False):
        """Training dict (CPN targets + boxes/classes in pixels) -> loss inputs; else inference."""
        if isinstance(inputs, dict) and training and "gt_boxes" in inputs:
            feats = self.detector.body(inputs["image"], training=training)
            out = self.detector.head.training_outputs(feats, inputs, training)
            out.update(self.roi_outputs(feats[self.feature_name], inputs["boxes"], inputs["classes"], training))
            out["view_embedding"] = self.view_encoder(self.views, training=training)
            return out
        if isinstance(inputs, dict):
            images = inputs["images"] if "images" in inputs else inputs["image"]
            return self.detect_and_retrieve(images, inputs.get("image_sizes"), inputs.get("intrinsics"),
                                            inputs.get("depth"))
        return self.detect_and_retrieve(inputs)

    def _decode(self, out: dict, boxes, batch, intrinsics=None, depth=None) -> dict:
        """Per-RoI head outputs (B*D rows, class already chosen in out["classes"]) -> per-box predictions."""
        classes = out["classes"]
        found = retrieval.retrieve(out["embedding"], classes, self.view_table, self.view_categories,
                                   self.view_models)
        quat = retrieval.decode_rotation(out["rotation_logits"], out["rotation_delta"], classes, self.rotation_bins)
        flat_boxes = ops.reshape(ops.cast(boxes, "float32"), (-1, 4))
        uv = retrieval.decode_centre(retrieval.select_class(out["centre_offset"], classes), flat_boxes)
        d = boxes.shape[1] if boxes.shape[1] is not None else ops.shape(boxes)[1]
        res = {"model_id": found[0], "similarity": found[2], "quaternion": quat, "centre_uv": uv,
               "embedding": out["embedding"], "mask_probs": out["mask_probs"][..., 0]}
        if intrinsics is not None and depth is not None:
            k = ops.reshape(ops.repeat(ops.cast(intrinsics, "float32")[:, None], d, axis=1), (-1, 3, 3))
            z = ops.reshape(ops.repeat(ops.reshape(ops.cast(depth, "float32"), (-1, 1)), d, axis=1), (-1,))
            res["translation"] = retrieval.translation_from_centre(uv, z, k)
        return {key: ops.reshape(v, (batch, d, *v.shape[1:])) for key, v in res.items()}

    def detect_and_retrieve(self, images, image_sizes=None, intrinsics=None, depth=None) -> dict:
        """CPN detections (B, max_detections) + per detection: CAD model id, cosine similarity, quaternion
        [w, x, y, z], projected centre (u, v) and, with intrinsics (B, 3, 3) and depth (B,), translation."""
        images = ops.cast(ops.convert_to_tensor(images), "float32")
        batch = images.shape[0] if images.shape[0] is not None else ops.shape(images)[0]
        flip = self.detector.flip_test
        views = ops.concatenate([images, ops.flip(images, axis=2)], axis=0) if flip else images
        feats = self.detector.body(views, training=False)
        det = decode.postprocess(
            unpack_proposals(self.detector.head(feats)), batch, self.detector.input_size, flip, image_sizes,
            self.detector.pre_nms_top_k, self.detector.max_detections, self.detector.soft_nms_sigma,
            self.detector.merge_weight_exp or None, self.detector.nms_iou)
        classes = ops.maximum(det["classes"], 0)
        out = self.roi_outputs(feats[self.feature_name][:batch], det["boxes"], classes, False)
        return {**det, **self._decode(out, det["boxes"], batch, intrinsics, depth)}

    def predict_on_boxes(self, images, boxes, classes, intrinsics=None, depth=None) -> dict:
        """The heads on given boxes (B, D, 4) pixels with given classes (B, D): the GT-box evaluation."""
        images = ops.cast(ops.convert_to_tensor(images), "float32")
        feats = self.detector.body(images, training=False)[self.feature_name]
        out = self.roi_outputs(feats, boxes, classes, False)
        batch = images.shape[0] if images.shape[0] is not None else ops.shape(images)[0]
        return self._decode(out, ops.convert_to_tensor(boxes), batch, intrinsics, depth)

    # --- training ----------------------------------------------------------------------------
    @property
    def metrics(self):
        """Keras' metrics + CPN's four loss terms (trackers of the nested detector, which Keras skips)."""
        own = super().metrics
        return own + [m for m in self.detector.loss_trackers if all(m is not o for o in own)]

    def head_loss_terms(self, x: dict, y: dict, y_pred: dict) -> dict:
        """Mask BCE and the four Mask2CAD terms on the GT boxes (padded rows masked by x["valid"])."""
        valid = ops.reshape(ops.cast(x["valid"], "float32"), (-1,))
        model_id = ops.reshape(ops.cast(y["model_id"], "int32"), (-1,))
        classes = y_pred["classes"]
        pos = ops.equal(model_id[:, None], self.view_models[None, :])
        same = ops.equal(classes[:, None], self.view_categories[None, :])
        targets = {"classes": classes, "valid": valid, "positive_mask": pos,
                   "negative_mask": ops.logical_and(same, ops.logical_not(pos)),
                   "rotation_bin": ops.reshape(y["rotation_bin"], (-1,)),
                   "rotation_delta": ops.reshape(y["rotation_delta"], (-1, 4)),
                   "centre_offset": ops.reshape(y["centre_offset"], (-1, 2))}
        terms = losses.mask2cad_head_losses(y_pred, targets, y_pred["view_embedding"], self.num_hard_negatives)
        terms["mask"] = mask_loss(y_pred, x["gt_masks"], x["boxes"], self.roi_size, valid)
        return terms

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """CPN's loss (its corner / offset / grouping / region terms) + mask + weighted Mask2CAD terms."""
        if not isinstance(y, dict) or "rotation_bin" not in y or "view_embedding" not in y_pred:
            return super().compute_loss(x, y, y_pred, sample_weight, training)
        total = self.detector.compute_loss(x, y, y_pred, sample_weight, training)
        terms = self.head_loss_terms(x, y, y_pred)
        for tracker, name in zip(self.head_trackers, HEAD_TERMS, strict=True):
            tracker.update_state(terms[name])
        return total + self._aggregate_additional_loss(terms["total"] + terms["mask"])

