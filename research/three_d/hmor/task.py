"""The multi-person 3D pose Task (HMOR): whole images + intrinsics in, per-person absolute 3D poses out.

Data: the 3DMPPE JSON (official/data/mppe3d.py: MuCo-3DHP, MuPoTS-3D, or `tools.make_humans3d --layout
mppe3d`). Each image is resized to `input_size`; f, c, boxes and 2D joints follow the resize (u' = (u + 0.5)
s - 0.5, f' = f s), so the pinhole model stays exact. Training batches are
    x = {images (B, H, W, 3) float 0-255, focal (B, 2), center (B, 2), boxes (B, P, 4) ground truth}
    y = {boxes, keypoints_cam (B, P, J, 3) mm, keypoints_img (B, P, J, 2), keypoints_vis (B, P, J), person_mask}
and the model owns its objective (`HMOR.compute_loss`). No augmentation (model card).

Evaluation (metrics.py): the model detects people, predictions are matched to ground truth by 2D root
distance (official/evaluation/pose3d.match_people); MuPoTS-style 3DPCK (rel, abs; all and matched
people), PCK AUC, root-relative MPJPE and PA-MPJPE of matched people, root depth error, detection recall,
and the depth-order accuracy of pairs of matched people; with `gt_boxes_eval` the same on the ground-truth
boxes ("gtbox/..."), which isolates the pose and depth heads from the detector.

Serving: `serving_default(images: float32 [B, H, W, 3] RGB 0-255 any size, focal: float32 [B, 2], center:
float32 [B, 2])` -> boxes [B, P, 4] (original pixels), scores [B, P], valid [B, P], num_detections [B],
root_depth [B, P] mm, joints_cam [B, P, J, 3] mm camera frame, joints_img [B, P, J, 2] original pixels;
P = the model's max_people (fixed). TFLite holds the per-person pose head: RoI features (1, R, R, C) ->
(1, J, 3) integral voxels (HMOR.pose_head_model).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from official.core.config import ConfigError
from official.core.registry import register_task
from official.core.task import Task
from official.data import mppe3d
from official.ops.roi_align import roi_align
from research.three_d.hmor import metrics as hmor_metrics
from research.three_d.hmor.config import Pose3dDataConfig, Pose3dTaskConfig  # noqa: F401  (re-exported)

LABEL_KEYS = ("boxes", "keypoints_cam", "keypoints_img", "keypoints_vis", "person_mask")
SERVING_KEYS = ("boxes", "scores", "valid", "num_detections", "root_depth", "joints_cam", "joints_img")


def compile_hmor(model: keras.Model, optimizer: Any, jit_compile: bool) -> None:
    """compile(loss=None) for HMOR.compute_loss, which autograph is told to leave alone: it has no
    Python control flow on tensors, and cProfile of a first traced train step showed ~8 s of its ~25 s
    converting the ~30 loss helper functions on 2 loaded cores."""
    model.compile(optimizer=optimizer, loss=None, jit_compile=jit_compile)
    if keras.backend.backend() == "tensorflow":
        model.compute_loss = tf.autograph.experimental.do_not_convert(model.compute_loss)


def resize_example(ex: dict, size: tuple[int, int]) -> dict:
    """Resizes an mppe3d example to `size` (H, W) and maps f, c, boxes and keypoints_img with it."""
    hw = tf.cast(tf.shape(ex["image"])[:2], tf.float32)
    scale = tf.stack([size[1] / hw[1], size[0] / hw[0]])  # (sx, sy)
    image = tf.image.resize(tf.cast(ex["image"], tf.float32), size, method="bilinear")
    out = dict(ex, image=image, focal=ex["focal"] * scale, center=(ex["center"] + 0.5) * scale - 0.5)
    out["keypoints_img"] = (ex["keypoints_img"] + 0.5) * scale - 0.5
    out["boxes"] = ex["boxes"] * tf.tile(scale, [2])
    return out


def split_example(ex: dict, training: bool) -> tuple[dict, dict]:
    x = {"images": ex["image"], "focal": ex["focal"], "center": ex["center"]}
    if training:
        x["boxes"] = ex["boxes"]
    y = {k: ex[k] for k in LABEL_KEYS}
    y["person_mask"] = tf.cast(y["person_mask"], tf.float32)
    if not training:
        y["image_id"] = ex["image_id"]
    return x, y


@register_task("multi_person_pose3d")
class MultiPersonPose3dTask(Task):
    """Monocular multi-person absolute 3D pose (see the module docstring)."""

    # --- data --------------------------------------------------------------------------------
    def records(self, data) -> mppe3d.Mppe3dRecords:
        if data.source != "mppe3d":
            raise ConfigError(f"data.source: expected 'mppe3d', got {data.source!r}")
        return mppe3d.load_mppe3d(data.annotations, data.path, data.max_people)

    def examples(self, data, training: bool, records=None) -> tf.data.Dataset:
        ds = mppe3d.records_dataset(records if records is not None else self.records(data))
        size = tuple(int(v) for v in data.input_size)
        if training:
            ds = ds.cache() if data.cache else ds
            ds = ds.shuffle(data.shuffle_buffer, seed=self.config.runtime.seed).repeat()
        return ds.map(lambda ex: resize_example(ex, size), num_parallel_calls=tf.data.AUTOTUNE)

    def build_inputs(self, data, training, global_batch_size, input_context=None):
        batch = input_context.get_per_replica_batch_size(global_batch_size) if input_context else global_batch_size
        ds = self.examples(data, training)
        if input_context is not None and input_context.num_input_pipelines > 1:
            ds = ds.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
        ds = ds.map(lambda ex: split_example(ex, training), num_parallel_calls=tf.data.AUTOTUNE)
        return ds.batch(batch, drop_remainder=training).prefetch(tf.data.AUTOTUNE)

    def num_examples(self, data) -> int | None:
        return len(self.records(data))

    # --- objective ---------------------------------------------------------------------------
    def build_losses(self):
        return None  # HMOR.compute_loss (losses.py)

    def compile_model(self, model: keras.Model, optimizer: Any, jit_compile: bool) -> None:
        compile_hmor(model, optimizer, jit_compile)

    # --- evaluation --------------------------------------------------------------------------
    def _forward(self, model: keras.Model) -> Callable:
        def run(x):
            return model(x, training=False)

        if keras.backend.backend() == "tensorflow":
            return tf.function(tf.autograph.experimental.do_not_convert(run), reduce_retracing=True)
        return run

    def _score(self, batches: Iterable[tuple[dict, dict, dict | None]]) -> dict[str, Any]:
        task = self.config.task
        return hmor_metrics.evaluate_batches(
            batches, root=self._root(), eval_joints=tuple(task.eval_joints) or None,
            pck_threshold=task.pck_threshold_mm, match_distance=task.match_distance_px or np.inf,
        )

    def _root(self) -> int:
        from research.three_d.hmor.ordinal import skeleton

        return skeleton(self.config.model.skeleton).root

    def evaluate(self, model: keras.Model, dataset, steps: int | None = None, tide: bool = False,
                 predictions_out: str | None = None) -> dict[str, Any]:
        """MuPoTS-style metrics of `model` (detections, and on ground-truth boxes) on an eval dataset."""
        self.check_tide(tide)
        forward = self._forward(model)

        def batches():
            for i, (x, y) in enumerate(dataset):
                if steps is not None and i >= steps:
                    break
                pred = {k: np.asarray(v) for k, v in forward(x).items()}
                oracle = None
                if self.config.task.gt_boxes_eval:
                    oracle = {k: np.asarray(v) for k, v in forward(dict(x, boxes=y["boxes"])).items()}
                yield {k: np.asarray(v) for k, v in y.items()}, pred, oracle

        return self._score(batches())

    def evaluate_saved_model(self, loaded: Any, global_batch_size: int, steps: int | None = None, tide: bool = False,
                             predictions_out: str | None = None) -> dict[str, Any]:
        """The same metrics from serving_default on the original (unresized) eval images."""
        self.check_tide(tide)
        fn = loaded.signatures["serving_default"]
        ds = mppe3d.records_dataset(self.records(self.config.eval_data)).batch(1)

        def batches():
            for i, ex in enumerate(ds):
                if steps is not None and i >= steps:
                    break
                out = fn(images=tf.cast(ex["image"], tf.float32), focal=ex["focal"], center=ex["center"])
                y = {k: np.asarray(ex[k]) for k in LABEL_KEYS}
                yield y, {k: v.numpy() for k, v in out.items()}, None

        return self._score(batches())

    # --- export ------------------------------------------------------------------------------
    def _serve(self, model: keras.Model) -> Callable:
        size = tuple(int(v) for v in self.config.eval_data.input_size)

        def serve(images: tf.Tensor, focal: tf.Tensor, center: tf.Tensor) -> dict[str, tf.Tensor]:
            hw = tf.cast(tf.shape(images)[1:3], tf.float32)
            scale = tf.stack([size[1] / hw[1], size[0] / hw[0]])  # (sx, sy)
            resized = tf.image.resize(tf.cast(images, tf.float32), size, method="bilinear")
            out = model({"images": resized, "focal": focal * scale, "center": (center + 0.5) * scale - 0.5},
                        training=False)
            mask = tf.cast(out["valid"], tf.float32)
            boxes = out["boxes"] / tf.tile(scale, [2]) * mask[..., None]
            joints_img = ((out["joints_img"] + 0.5) / scale - 0.5) * mask[..., None, None]
            return {
                "boxes": boxes, "scores": out["scores"] * mask, "valid": out["valid"],
                "num_detections": tf.cast(tf.reduce_sum(mask, -1), tf.int32),
                "root_depth": out["root_depth"] * mask, "joints_cam": out["joints_cam"] * mask[..., None, None],
                "joints_img": joints_img,
            }  # fmt: skip

        return serve

    def serving_signatures(self, model: keras.Model, image_size: int) -> dict[str, tuple[Callable, list]]:
        signature = [tf.TensorSpec([None, None, None, 3], tf.float32, name="images"),
                     tf.TensorSpec([None, 2], tf.float32, name="focal"),
                     tf.TensorSpec([None, 2], tf.float32, name="center")]  # fmt: skip
        return {"serving_default": (self._serve(model), signature)}

    def _eval_request(self) -> dict[str, np.ndarray]:
        ex = next(iter(mppe3d.records_dataset(self.records(self.config.eval_data)).take(1).batch(1)))
        return {"images": ex["image"].numpy().astype(np.float32), "focal": ex["focal"].numpy(),
                "center": ex["center"].numpy()}

    def serving_verification(self, model: keras.Model, num_examples: int, image_size: int) -> list[tuple[str, dict, dict]]:
        request = self._eval_request()
        out = self._serve(model)(**{k: tf.constant(v) for k, v in request.items()})
        return [("serving_default", request, {k: v.numpy() for k, v in out.items()})]

    def warmup_inputs(self, image_size: int, count: int) -> list[tuple[str, dict]]:
        return [("serving_default", self._eval_request())] * count

    def export_body(self, model: keras.Model) -> keras.Model:
        self._export_model = model  # verification_inputs read RoI features through it
        return model.pose_head_model()

    def roi_features(self, model: keras.Model, count: int) -> np.ndarray:
        """(N, R, R, C) RoI features of ground-truth people of the eval images (the pose head's real inputs)."""
        x, y = next(iter(self.build_inputs(self.config.eval_data, False, max(count, 1))))
        from research.three_d.hmor.geometry import crop_boxes

        feats = model.features(x["images"], training=False)
        crops = crop_boxes(y["boxes"], model.crop_scale)
        roi = roi_align(feats, crops, model.roi_size, 1.0 / model.stride, sampling_ratio=2, mode="aligned")
        roi = np.asarray(roi).reshape((-1, *roi.shape[2:]))
        keep = np.asarray(y["person_mask"]).reshape(-1) > 0
        return roi[keep][:max(count, 1)].astype(np.float32)

    def verification_inputs(self, num_examples: int, image_size: int) -> np.ndarray:
        model = getattr(self, "_export_model", None)
        if model is None:
            raise ConfigError("verification_inputs: call export_body(model) first")
        return self.roi_features(model, min(num_examples, 4))

    def representative_dataset(self, num_examples: int, image_size: int) -> Iterable[list[np.ndarray]]:
        model = getattr(self, "_export_model", None)
        for roi in self.roi_features(model, num_examples):
            yield [roi[None]]
