"""The `gesture_handpose` Task: FPHA-layout clips -> gesture logits + per-frame 2.5D hand pose.

Data: official/data/fpha.py (`list_sequences` + `fpha_clips`), batched; the model owns its loss
(`compute_loss`, losses.py). Evaluation (one centre-sampled clip per test sequence): top-1 accuracy, MEPE
(camera frame, ground-truth root depth), root-relative MEPE, PCK AUC 0-50 mm and the 2D error on the
heatmap grid (metrics.py). Serving (SavedModel): serving_default(clip float32 (B, T, S, S, 3) RGB 0-255)
-> {gesture_probs (B, K), joints3d (B, T, J, 3) = (u, v) crop pixels + root-relative z mm}; camera_joints
(clip, focal (B, 2), center (B, 2), root_depth (B, T)) -> the same + joints_cam (B, T, J, 3) mm. TFLite
holds the per-frame pose network (image (1, S, S, 3) -> joints (1, J, 3)).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from official.core.config import ConfigError
from official.core.registry import register_task
from official.core.task import Task
from official.data import fpha
from research.three_d.gesture_handpose import metrics as gh_metrics
from research.three_d.gesture_handpose.config import FphaDataConfig, GestureTaskConfig
from research.three_d.gesture_handpose.model import camera_joints


@register_task("gesture_handpose")
class GestureHandPoseTask(Task):
    def __init__(self, config):
        super().__init__(config)
        if not isinstance(config.task, GestureTaskConfig):
            raise ConfigError("task: gesture_handpose needs a GestureTaskConfig section")
        for key in ("train_data", "eval_data"):
            if not isinstance(getattr(config, key), FphaDataConfig):
                raise ConfigError(f"{key}: gesture_handpose needs an FphaDataConfig (path, split, num_frames, ...)")
        self._sequences: dict[tuple, list] = {}
        self._skipped: dict[tuple, int] = {}

    # --- data --------------------------------------------------------------------------------
    def sequences(self, data: FphaDataConfig) -> list:
        key = (data.path, data.split, data.split_file)
        if key not in self._sequences:
            seqs, skipped = fpha.list_sequences(data.path, data.split, data.split_file)
            self._sequences[key], self._skipped[key] = seqs, sum(skipped.values())
        return self._sequences[key]

    def skipped_examples(self) -> int:
        return sum(self._skipped.values())

    def num_examples(self, data) -> int | None:
        return len(self.sequences(data))

    def build_inputs(self, data, training: bool, global_batch_size: int, input_context: Any = None):
        batch = input_context.get_per_replica_batch_size(global_batch_size) if input_context else global_batch_size
        ds = fpha.fpha_clips(
            self.sequences(data), data.num_frames, data.image_size, training, self.config.runtime.seed,
            data.crop_padding, tuple(data.focal), tuple(data.center),
            label_fraction=data.label_fraction if training else 1.0,
            pose_fraction=data.pose_fraction if training else 1.0)
        if input_context is not None and input_context.num_input_pipelines > 1:
            ds = ds.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
        return ds.batch(batch, drop_remainder=training).prefetch(tf.data.AUTOTUNE)

    # --- objective ---------------------------------------------------------------------------
    def build_losses(self):
        return None  # the model's compute_loss (losses.py)

    def compile_model(self, model: keras.Model, optimizer: Any, jit_compile: bool) -> None:
        model.compile(optimizer=optimizer, loss=None, jit_compile=jit_compile)

    # --- evaluation --------------------------------------------------------------------------
    def _heatmap_stride(self) -> int:
        """Input pixels per heatmap pixel: 2^trunk_level / 2^deconvs."""
        m = self.config.model
        ups = 2 ** len(m.deconv_filters)
        return max((2 ** (m.trunk_level)) // ups, 1)

    def score(self, predict_fn, dataset, steps: int | None = None) -> dict[str, float]:
        """Metrics of predict_fn(clip) -> (gesture scores (B, K), joints3d (B, T, J, 3)) over `dataset`."""
        stride = self._heatmap_stride()
        logits, labels, pred_cam, gt_cam, pred_hm, gt_hm = [], [], [], [], [], []
        for i, (inputs, y) in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            scores, joints = predict_fn(inputs)
            joints = np.asarray(joints, np.float32)
            cam = np.asarray(y["joints_cam"], np.float32)
            lifted = camera_joints(joints, cam[..., 0, 2], np.asarray(y["focal"])[:, None], np.asarray(y["center"])[:, None])
            logits.append(np.asarray(scores))
            labels.append(np.asarray(y["label"]))
            pred_cam.append(np.asarray(lifted).reshape(-1, *cam.shape[-2:]))
            gt_cam.append(cam.reshape(-1, *cam.shape[-2:]))
            pred_hm.append(((joints[..., :2] + 0.5) / stride - 0.5).reshape(-1, joints.shape[-2], 2))
            gt_hm.append(((np.asarray(y["joints_uv"]) + 0.5) / stride - 0.5).reshape(-1, joints.shape[-2], 2))
        t = self.config.task
        out = {"top1": gh_metrics.top1(np.concatenate(logits), np.concatenate(labels)), "clips": len(np.concatenate(labels))}
        out.update(gh_metrics.pose_metrics(np.concatenate(pred_cam), np.concatenate(gt_cam), np.concatenate(pred_hm),
                                           np.concatenate(gt_hm), t.pck_max_mm, t.pck_step_mm))
        return out

    def evaluate(self, model, dataset, steps=None, tide=False, predictions_out=None) -> dict[str, Any]:
        self.check_tide(tide)
        network = getattr(model, "inference_model", model)

        @tf.function(reduce_retracing=True)
        def predict(clip):
            out = network(clip, training=False)
            return out["gesture_logits"], out["joints3d"]

        return self.score(lambda clip: predict(clip), dataset, steps)

    def evaluate_predict_fn(self, predict_fn, dataset, steps=None, tide=False, predictions_out=None):
        self.check_tide(tide)
        return self.score(lambda clip: predict_fn(np.asarray(clip)), dataset, steps)

    def saved_model_predict_fn(self, loaded):
        serve = loaded.signatures["serving_default"]

        def predict(clip):
            out = serve(clip=tf.constant(clip, tf.float32))
            return out["gesture_probs"].numpy(), out["joints3d"].numpy()

        return predict

    # --- export ------------------------------------------------------------------------------
    def _clip_shape(self) -> tuple[int, int]:
        m = self.config.model
        return m.frames, m.image_size

    def serving_signatures(self, model, image_size: int) -> dict:
        frames, size = self._clip_shape()
        clip = tf.TensorSpec([None, frames, size, size, 3], tf.float32, name="clip")
        focal = tf.TensorSpec([None, 2], tf.float32, name="focal")
        center = tf.TensorSpec([None, 2], tf.float32, name="center")
        root = tf.TensorSpec([None, frames], tf.float32, name="root_depth")

        def serve(clip):
            out = model(clip, training=False)
            return {"gesture_probs": tf.nn.softmax(out["gesture_logits"]), "joints3d": out["joints3d"]}

        def serve_camera(clip, focal, center, root_depth):
            out = serve(clip)
            joints = camera_joints(out["joints3d"], root_depth, focal[:, None], center[:, None])
            return {**out, "joints_cam": joints}

        return {"serving_default": (serve, [clip]), "camera_joints": (serve_camera, [clip, focal, center, root])}

    def _examples(self, n: int) -> dict[str, np.ndarray]:
        frames, size = self._clip_shape()
        rng = np.random.default_rng(0)
        return {"clip": rng.uniform(0, 255, (n, frames, size, size, 3)).astype(np.float32),
                "focal": np.full((n, 2), 200.0, np.float32), "center": np.full((n, 2), size / 2, np.float32),
                "root_depth": np.full((n, frames), 400.0, np.float32)}

    def warmup_inputs(self, image_size: int, n: int) -> list[tuple[str, dict]]:
        ex = self._examples(1)
        return [("serving_default", {"clip": ex["clip"]}) for _ in range(n)]

    def serving_verification(self, model, n: int, image_size: int) -> list[tuple[str, dict, dict]]:
        ex = self._examples(min(n, 2))
        out = model(ex["clip"], training=False)
        probs = np.asarray(keras.ops.softmax(out["gesture_logits"]))
        joints = np.asarray(out["joints3d"])
        cam = np.asarray(camera_joints(joints, ex["root_depth"], ex["focal"][:, None], ex["center"][:, None]))
        return [("serving_default", {"clip": ex["clip"]}, {"gesture_probs": probs, "joints3d": joints}),
                ("camera_joints", ex, {"gesture_probs": probs, "joints3d": joints, "joints_cam": cam})]

    def export_body(self, model):
        return model.frame_pose_model()

    def verification_inputs(self, num_examples: int, image_size: int):
        return self._examples(1)["clip"][0, : max(1, min(num_examples, 4))]

    def representative_dataset(self, num_examples: int, image_size: int):
        for frame in self.verification_inputs(num_examples, image_size):
            yield [frame[None]]
