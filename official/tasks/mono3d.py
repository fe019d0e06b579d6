"""The monocular 3D detection Task: KITTI frames + P2 in, 3D boxes out, scored by the KITTI protocol.

Data: `official/data/kitti.py` (image_2 / label_2 / calib / ImageSets) -> `mono3d_augment` (KM3D's
affine crop-and-scale with P2 carried into the input frame, exact 3D flip) -> the model's targets
(`official/data/mono3d_targets.py`). Training batches are (images, targets); the model owns its
objective through `compute_loss`. Evaluation runs `model.detect(images, P2)`, maps the 2D boxes back to
the original image, writes KITTI result objects and scores them with `official/evaluation/kitti`
against the split's label_2 files: AP (0-100) per class / metric (2d, bev, 3d, aos) / difficulty at
both IoU settings, with headline keys such as "ap3d_car_moderate@0.7".

Serving (SavedModel): `serving_default(images: float32 [B, H, W, 3] RGB 0-255, any H x W, P2: float32
[B, 3, 4])` -> boxes3d [B, K, 7] (h, w, l, x, y, z, rotation_y; location = bottom centre, camera
metres), scores [B, K], classes [B, K] int32, alpha [B, K], boxes2d [B, K, 4] (the regressed 2D box,
original pixels, as KITTI results carry it), projected_boxes2d [B, K, 4] (the 3D box projected with P2,
clipped), valid [B, K], num_detections [B]. TFLite holds the network body: images -> the nine head
maps concatenated on channels (`BODY_CHANNELS` order).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from official.core.config import ConfigError
from official.core.file_io import write_json
from official.core.registry import register_task
from official.core.task import Task
from official.data import kitti, kitti_format, mono3d_augment
from official.data.keypoint_affine import warp_affine
from official.tasks.mono3d_config import Mono3dDataConfig, Mono3dTaskConfig  # noqa: F401  (re-exported)

BODY_HEADS = ("hm", "hm_hp", "hps", "hp_offset", "reg", "wh", "dim", "rot", "prob")


def _headline(results: dict, setting: str) -> dict[str, float]:
    out = {}
    for cls, metrics in results.items():
        for metric in ("3d", "bev"):
            for level, value in metrics[metric].items():
                if value is not None:
                    out[f"ap{metric}_{cls.lower()}_{level}@{setting}"] = float(value)
    return out


@register_task("mono3d")
class Mono3dTask(Task):
    """Monocular 3D object detection on KITTI-layout data (see the module docstring)."""

    # --- data --------------------------------------------------------------------------------
    def records(self, data) -> kitti.KittiRecords:
        if data.source != "kitti":
            raise ConfigError(f"data.source: expected 'kitti', got {data.source!r}")
        if len(data.classes) != self.config.task.num_classes:
            raise ConfigError(f"task.num_classes is {self.config.task.num_classes} but data.classes has {len(data.classes)}")
        return kitti.load_kitti_records(
            data.path, data.split, data.split_file or None, classes=tuple(data.classes), max_objects=data.max_objects
        )

    def _frames(self, data, training: bool, records=None) -> tf.data.Dataset:
        records = records if records is not None else self.records(data)
        ds = kitti.kitti_dataset(records, shuffle=training, seed=self.config.runtime.seed if training else None)
        return mono3d_augment.mono3d_dataset(
            ds, training, seed=self.config.runtime.seed if training else None, input_size=tuple(data.input_size),
            flip_prob=data.flip_prob, scales=tuple(data.scales), border=data.border, color_jitter=data.color_jitter,
            normalize=False, random_center=data.random_center,
        )  # fmt: skip

    def build_inputs(self, data, training, global_batch_size, input_context=None):
        from official.data.mono3d_targets import encode_targets

        batch = input_context.get_per_replica_batch_size(global_batch_size) if input_context else global_batch_size
        ds = self._frames(data, training)
        if input_context is not None and input_context.num_input_pipelines > 1:
            ds = ds.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
        if not training:
            return ds.batch(batch).prefetch(tf.data.AUTOTUNE)
        size, classes, max_objects = tuple(data.input_size), self.config.task.num_classes, data.max_objects
        ds = ds.repeat().map(
            lambda ex: (ex["image"], encode_targets(ex, size, classes, max_objects=max_objects)),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
        return ds.batch(batch, drop_remainder=True).prefetch(tf.data.AUTOTUNE)

    def num_examples(self, data) -> int | None:
        return len(self.records(data))

    # --- objective ---------------------------------------------------------------------------
    def build_losses(self):
        return None  # the model's compute_loss (official/vision/rtm3d/losses.py)

    def compile_model(self, model: keras.Model, optimizer: Any, jit_compile: bool) -> None:
        model.compile(optimizer=optimizer, loss=None, jit_compile=jit_compile)

    # --- evaluation --------------------------------------------------------------------------
    def _detector(self, model: keras.Model) -> Callable:
        geometry = self.config.task.geometry or None

        def run(images, P2):
            return model.detect(images, P2, geometry=geometry)

        return tf.function(run) if keras.backend.backend() == "tensorflow" else run

    @staticmethod
    def to_original(boxes: np.ndarray, affine_inv: np.ndarray, image_size: np.ndarray) -> np.ndarray:
        """(K, 4) input-pixel boxes -> original-image boxes through the 2x3 inverse affine, clipped."""
        corners = np.stack([boxes[:, [0, 1]], boxes[:, [2, 3]]], 1)  # (K, 2, 2)
        mapped = corners @ affine_inv[:, :2].T + affine_inv[:, 2]
        out = np.concatenate([mapped.min(1), mapped.max(1)], -1)
        height, width = image_size
        return np.clip(out, 0.0, [width - 1, height - 1, width - 1, height - 1])

    def result_objects(self, dets: dict, b: int, affine_inv, image_size) -> list[kitti_format.KittiObject]:
        """KITTI result objects of image b of a `detect` batch (valid detections only)."""
        classes = self.config.eval_data.classes
        valid = np.asarray(dets["valid"][b])
        boxes = self.to_original(np.asarray(dets["boxes2d"][b]), np.asarray(affine_inv), np.asarray(image_size))
        out = []
        for k in np.flatnonzero(valid):
            out.append(kitti_format.KittiObject(
                type=classes[int(dets["classes"][b][k])], truncated=-1.0, occluded=-1,
                alpha=float(dets["alpha"][b][k]), box2d=tuple(float(v) for v in boxes[k]),
                dimensions=tuple(float(v) for v in dets["dimensions"][b][k]),
                location=tuple(float(v) for v in dets["locations"][b][k]),
                rotation_y=float(dets["rotation_y"][b][k]), score=float(dets["scores"][b][k]),
            ))  # fmt: skip
        return out

    def _score(self, ids: list[str], preds: list, predictions_out: str | None) -> dict[str, Any]:
        from official.evaluation.kitti.api import evaluate_kitti_objects

        data, task = self.config.eval_data, self.config.task
        label_dir = os.path.join(self.records(data).root, "label_2")
        gts = [kitti_format.read_label_file(os.path.join(label_dir, f"{i}.txt")) for i in ids]
        if predictions_out:
            write_json({i: [o.to_line() for o in p] for i, p in zip(ids, preds, strict=True)}, predictions_out)
        metrics: dict[str, Any] = {"frames": float(len(ids))}
        for setting in ("0.7", "0.5"):
            results = evaluate_kitti_objects(gts, preds, tuple(data.classes), task.recall_points, setting)
            metrics.update(_headline(results, setting))
            metrics[f"kitti@{setting}"] = results
        return metrics

    def _evaluate_batches(self, detect: Callable, dataset, steps: int | None, predictions_out: str | None):
        ids, preds = [], []
        for i, x in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            dets = {k: np.asarray(v) for k, v in detect(x["image"], x["P2"]).items()}
            for b, frame_id in enumerate(np.asarray(x["image_id"])):
                ids.append(frame_id.decode())
                preds.append(self.result_objects(dets, b, x["input_affine_inv"][b], x["image_size"][b]))
        return self._score(ids, preds, predictions_out)

    def evaluate(self, model: keras.Model, dataset, steps: int | None = None, tide: bool = False,
                 predictions_out: str | None = None) -> dict[str, Any]:
        """KITTI AP of `model` on an eval `build_inputs` dataset."""
        self.check_tide(tide)
        return self._evaluate_batches(self._detector(model), dataset, steps, predictions_out)

    def evaluate_predict_fn(self, predict_fn: Callable, dataset, steps: int | None = None, tide: bool = False,
                            predictions_out: str | None = None) -> dict[str, Any]:
        """KITTI AP of an artifact holding the network body (TFLite): its concatenated head maps are split
        and decoded on the host with the model config's decoding settings."""
        from official.vision.rtm3d.decode import decode_detections
        from official.vision.rtm3d.model import head_channels

        self.check_tide(tide)
        m = self.config.model
        sizes = head_channels(self.config.task.num_classes)

        def detect(images, P2):
            body = np.asarray(predict_fn(np.asarray(images, np.float32)), np.float32)
            splits = np.cumsum([sizes[name] for name in BODY_HEADS])[:-1]
            heads = dict(zip(BODY_HEADS, np.split(body, splits, axis=-1), strict=True))
            stride = int(self.config.eval_data.input_size[0]) // body.shape[1]
            return decode_detections(heads, np.asarray(P2), stride, m.top_k, m.keypoint_threshold, m.center_threshold,
                                     self.config.task.geometry or m.geometry, m.gauss_newton_iterations,
                                     m.orientation_decode)

        return self._evaluate_batches(detect, dataset, steps, predictions_out)

    def evaluate_saved_model(self, loaded: Any, global_batch_size: int, steps: int | None = None, tide: bool = False,
                             predictions_out: str | None = None) -> dict[str, Any]:
        """KITTI AP of serving_default on the original eval images (the warp runs inside the graph)."""
        self.check_tide(tide)
        fn = loaded.signatures["serving_default"]
        records = self.records(self.config.eval_data)
        ds = kitti.kitti_dataset(records).batch(1)
        ids, preds = [], []
        for i, x in enumerate(ds):
            if steps is not None and i >= steps:
                break
            out = {k: v.numpy() for k, v in fn(images=tf.cast(x["image"], tf.float32), P2=x["P2"]).items()}
            ids.append(x["image_id"].numpy()[0].decode())
            preds.append(self._served_objects(out, 0))
        return self._score(ids, preds, predictions_out)

    def _served_objects(self, out: dict, b: int) -> list[kitti_format.KittiObject]:
        classes = self.config.eval_data.classes
        return [
            kitti_format.KittiObject(
                type=classes[int(out["classes"][b][k])], truncated=-1.0, occluded=-1, alpha=float(out["alpha"][b][k]),
                box2d=tuple(float(v) for v in out["boxes2d"][b][k]), dimensions=tuple(float(v) for v in out["boxes3d"][b][k][:3]),
                location=tuple(float(v) for v in out["boxes3d"][b][k][3:6]), rotation_y=float(out["boxes3d"][b][k][6]),
                score=float(out["scores"][b][k]),
            )
            for k in np.flatnonzero(out["valid"][b])
        ]

    # --- export ------------------------------------------------------------------------------
    def export_body(self, model: keras.Model) -> keras.Model:
        """images -> the nine head maps concatenated on channels (BODY_HEADS order) for TFLite."""
        outputs = model.outputs if isinstance(model.outputs, list) else list(model.outputs)
        by_name = dict(zip(model.output_names, outputs, strict=True)) if hasattr(model, "output_names") else None
        maps = [by_name[name] for name in BODY_HEADS] if by_name else outputs
        return keras.Model(model.inputs, keras.layers.Concatenate(axis=-1, name="heads")(maps), name="rtm3d_body")

    def quantized_agreement(self, reference: np.ndarray, quantized: np.ndarray) -> float | None:
        """Share of centre-heatmap cells above 0.3 after sigmoid that int8 also puts above 0.3 (peaks kept)."""
        classes = self.config.task.num_classes
        ref = 1 / (1 + np.exp(-reference[..., :classes])) > 0.3
        got = 1 / (1 + np.exp(-quantized[..., :classes])) > 0.3
        return float(np.mean(got[ref])) if ref.any() else float(np.mean(ref == got))

    def _serve(self, model: keras.Model) -> Callable:
        data = self.config.eval_data
        size = tuple(int(v) for v in data.input_size)
        geometry = self.config.task.geometry or None

        def serve(images: tf.Tensor, P2: tf.Tensor) -> dict[str, tf.Tensor]:
            image_size = tf.shape(images)[1:3]
            center, scale = mono3d_augment.eval_center_scale(image_size)
            a3 = tf.cast(mono3d_augment.input_affine(center, scale, size), tf.float32)  # original -> input
            inputs = tf.map_fn(lambda im: warp_affine(im, a3[:2], size), tf.cast(images, tf.float32))
            dets = model.detect(inputs, tf.einsum("ij,bjk->bik", a3, tf.cast(P2, tf.float32)), geometry=geometry)
            inv = tf.linalg.inv(a3)
            corners = tf.stack([dets["boxes2d"][..., 0:2], dets["boxes2d"][..., 2:4]], -2)
            mapped = tf.einsum("bkci,ji->bkcj", corners, inv[:2, :2]) + inv[:2, 2]
            hw = tf.cast(image_size, tf.float32)
            limit = tf.stack([hw[1] - 1.0, hw[0] - 1.0, hw[1] - 1.0, hw[0] - 1.0])
            boxes2d = tf.clip_by_value(tf.concat([tf.reduce_min(mapped, -2), tf.reduce_max(mapped, -2)], -1), 0.0, limit)
            from official.ops import box3d

            uv = box3d.box_keypoints_2d(dets["dimensions"], dets["locations"], dets["rotation_y"], tf.cast(P2, tf.float32))[..., :8, :]
            projected = tf.clip_by_value(tf.concat([tf.reduce_min(uv, -2), tf.reduce_max(uv, -2)], -1), 0.0, limit)
            valid = dets["valid"]
            mask = tf.cast(valid, tf.float32)[..., None]
            boxes3d = tf.concat([dets["dimensions"], dets["locations"], dets["rotation_y"][..., None]], -1)
            return {
                "boxes3d": boxes3d * mask, "scores": dets["scores"], "classes": tf.cast(dets["classes"], tf.int32),
                "alpha": dets["alpha"] * mask[..., 0], "boxes2d": boxes2d * mask, "projected_boxes2d": projected * mask,
                "valid": valid, "num_detections": dets["num_detections"],
            }  # fmt: skip

        return serve

    def serving_signatures(self, model: keras.Model, image_size: int) -> dict[str, tuple[Callable, list]]:
        signature = [tf.TensorSpec([None, None, None, 3], tf.float32, name="images"),
                     tf.TensorSpec([None, 3, 4], tf.float32, name="P2")]  # fmt: skip
        return {"serving_default": (self._serve(model), signature)}

    def _eval_examples(self, count: int) -> dict[str, np.ndarray]:
        ds = kitti.kitti_dataset(self.records(self.config.eval_data)).take(count).batch(count)
        x = next(iter(ds))
        return {"images": x["image"].numpy().astype(np.float32), "P2": x["P2"].numpy()}

    def serving_verification(self, model: keras.Model, num_examples: int, image_size: int) -> list[tuple[str, dict, dict]]:
        request = self._eval_examples(1)
        serve = self._serve(model)
        out = {k: v.numpy() for k, v in serve(tf.constant(request["images"]), tf.constant(request["P2"])).items()}
        return [("serving_default", request, out)]

    def warmup_inputs(self, image_size: int, count: int) -> list[tuple[str, dict]]:
        return [("serving_default", self._eval_examples(1))] * count

    def verification_inputs(self, num_examples: int, image_size: int) -> np.ndarray:
        ds = self._frames(self.config.eval_data, False).take(min(num_examples, 4)).batch(min(num_examples, 4))
        return next(iter(ds))["image"].numpy().astype(np.float32)

    def representative_dataset(self, num_examples: int, image_size: int) -> Iterable[list[np.ndarray]]:
        """Calibration inputs: training frames through the test-time warp (no augmentation)."""
        for x in self._frames(self.config.train_data, False).take(num_examples):
            yield [x["image"].numpy()[None].astype(np.float32)]

