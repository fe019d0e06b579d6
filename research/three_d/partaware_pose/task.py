"""The `partaware_pose3d` Task: Human3.6M person crops -> integral 3D pose, MPJPE / PA-MPJPE in mm.

Data: `official.data.human36m.load_human36m` records (one person per image); each example is the
person box grown by `extension` to a square, warped to image_size (official/data/keypoint_affine.py), with
3DMPPE's training augmentation (scale, rotation, flip with left/right swap, colour gain). Labels are the
packed (J, 18) rows of losses.py: targets x, y = crop px / stride, z = root-relative depth in bins.
Loss: integral L1; metric: MPJPE (mm, GT root depth, root-aligned: 3DMPPE's Human3.6M Protocol 1 with
the GT root). `evaluate` adds PA-MPJPE (Protocol 2) with official/evaluation/pose3d.py.
Search (`task.search`): the training set's two halves (even / odd records) are batched separately and
each batch is [split A | split B] for PartAwarePoseSearch.train_step.
Serving: serving_default(images (B, S, S, 3) pixel values 0-255) -> {joints_voxel (B, J, 3),
joints_crop (B, J, 3): x, y crop pixels, z root-relative mm}.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from official.core import registry
from official.core.config import ConfigError
from official.core.task import Task
from official.data import human36m, image_decode, keypoint_affine
from official.data.skeletons3d import H36M_17
from official.evaluation import pose3d
from official.ops.integral_decode import depth_bins_to_mm, mm_to_depth_bins
from research.three_d.partaware_pose import losses
from research.three_d.partaware_pose.config import H36MCropDataConfig, PartAwareTaskConfig

MEAN = np.array([0.485, 0.456, 0.406], np.float32) * 255.0  # ImageNet statistics (3DMPPE pixel_mean / std)
STD = np.array([0.229, 0.224, 0.225], np.float32) * 255.0


def flip_permutation(num_joints: int) -> np.ndarray:
    perm = np.arange(num_joints)
    for a, b in H36M_17.flip_pairs:
        perm[a], perm[b] = b, a
    return perm


@registry.register_task("partaware_pose3d")
class PartAwarePoseTask(Task):
    def __init__(self, config):
        super().__init__(config)
        if not isinstance(config.task, PartAwareTaskConfig):
            raise ConfigError("task: partaware_pose3d needs a PartAwareTaskConfig section")
        for key in ("train_data", "eval_data"):
            if not isinstance(getattr(config, key), H36MCropDataConfig):
                raise ConfigError(f"{key}: partaware_pose3d needs an H36MCropDataConfig (path, subjects, ...)")
        self._records: dict[int, Any] = {}

    # --- data --------------------------------------------------------------------------------
    def records(self, data: H36MCropDataConfig):
        if id(data) not in self._records:
            self._records[id(data)] = human36m.load_human36m(data.path, tuple(data.subjects), data.sampling)
        return self._records[id(data)]

    def num_examples(self, data) -> int | None:
        return len(self.records(data))

    def skipped_examples(self) -> int:
        return sum(sum(r.skipped.values()) for r in self._records.values())

    def _table(self, records, index: np.ndarray) -> dict[str, np.ndarray]:
        people = records.people
        return {"source": np.asarray(records.image_paths)[index], "focal": records.focal[index].astype(np.float32),
                "center": records.center[index].astype(np.float32),
                "box": people["boxes"][index, 0].astype(np.float32),
                "keypoints_img": people["keypoints_img"][index, 0].astype(np.float32),
                "keypoints_cam": people["keypoints_cam"][index, 0].astype(np.float32),
                "keypoints_vis": people["keypoints_vis"][index, 0].astype(np.float32)}

    def example_fn(self, data: H36MCropDataConfig, training: bool):
        """(decoded source example, seed) -> (normalised crop (S, S, 3), packed label (J, 18))."""
        t = self.config.task
        size, stride = data.image_size, data.image_size / t.heatmap_size
        perm = tf.constant(flip_permutation(t.num_joints), tf.int32)
        to_heatmap = np.array([[stride, 0.0, 0.0], [0.0, stride, 0.0], [0.0, 0.0, 1.0]], np.float32)

        def fn(ex, seed):
            box = ex["box"]
            center = (box[:2] + box[2:]) / 2.0
            side = tf.reduce_max(box[2:] - box[:2]) * data.extension
            rotation, scale, flip, gain = tf.constant(0.0), tf.constant(1.0), tf.constant(False), tf.ones([3])
            if training:
                n = tf.random.stateless_normal([2], seed)
                u = tf.random.stateless_uniform([5], seed + 1)
                scale = 1.0 + tf.clip_by_value(n[0] * data.scale_factor, -data.scale_factor, data.scale_factor)
                rot = tf.clip_by_value(n[1] * data.rotation_deg, -2 * data.rotation_deg, 2 * data.rotation_deg)
                rotation = tf.where(u[0] < data.rotation_prob, rot, 0.0)
                flip = tf.logical_and(u[1] < 0.5, data.horizontal_flip)
                gain = 1.0 - data.color_jitter + 2.0 * data.color_jitter * u[2:5]
            side = side * scale
            matrix = keypoint_affine.crop_affine_tf(center, tf.stack([side, side]), rotation, (size, size))
            mirror = tf.constant([[-1.0, 0.0, size - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
            full = tf.concat([matrix, [[0.0, 0.0, 1.0]]], axis=0)
            full = tf.where(flip, mirror @ full, full)
            matrix = full[:2]
            crop = keypoint_affine.warp_affine(ex["image"], matrix, (size, size))
            crop = (tf.clip_by_value(crop * gain, 0.0, 255.0) - MEAN) / STD
            order = tf.where(flip, perm, tf.range(t.num_joints))
            uv = tf.gather(keypoint_affine.apply_affine_tf(ex["keypoints_img"], matrix), order)
            cam = tf.gather(ex["keypoints_cam"], order)
            vis = tf.gather(ex["keypoints_vis"], order)
            xy = uv / stride
            z = mm_to_depth_bins(cam[:, 2] - cam[t.root_joint, 2], t.depth_bins, t.depth_range_mm)
            inside = tf.reduce_all((xy >= 0.0) & (xy < t.heatmap_size), axis=-1) & (z >= 0) & (z < t.depth_bins)
            weight = vis * tf.cast(inside, tf.float32)
            back = tf.linalg.inv(tf.cast(full, tf.float64))[:2] @ tf.cast(to_heatmap, tf.float64)
            per_example = tf.concat([ex["focal"], ex["center"], tf.reshape(tf.cast(back, tf.float32), [6])], 0)
            label = tf.concat([xy, z[:, None], weight[:, None], weight[:, None], cam,
                               tf.tile(per_example[None], [t.num_joints, 1])], axis=-1)
            return crop, label

        return fn

    def _source_dataset(self, data: H36MCropDataConfig, index: np.ndarray) -> tf.data.Dataset:
        ds = tf.data.Dataset.from_tensor_slices(self._table(self.records(data), index))
        ds = ds.map(lambda ex: dict(ex, encoded=tf.io.read_file(ex["source"])), num_parallel_calls=tf.data.AUTOTUNE)
        ds = image_decode.filter_decodable(ds, image_decode.SkipCounter("h36m_unreadable_images"))

        def decode(ex):
            out = {k: v for k, v in ex.items() if k not in ("encoded", "source")}
            return dict(out, image=image_decode.decode_rgb(ex["encoded"]))

        ds = ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE)
        return ds.cache() if data.cache else ds

    def _examples(self, data, training: bool, batch: int, index: np.ndarray, seed_offset: int = 0):
        ds = self._source_dataset(data, index)
        fn = self.example_fn(data, training)
        if training:
            ds = ds.repeat().shuffle(min(data.shuffle_buffer, len(index)), seed=self.config.runtime.seed + seed_offset)
            seeds = tf.data.Dataset.random(seed=self.config.runtime.seed + seed_offset).batch(2)
            ds = tf.data.Dataset.zip((ds, seeds)).map(lambda ex, s: fn(ex, s), num_parallel_calls=tf.data.AUTOTUNE)
            return ds.batch(batch, drop_remainder=True)
        ds = ds.map(lambda ex: fn(ex, tf.zeros([2], tf.int64)), num_parallel_calls=tf.data.AUTOTUNE)
        return ds.batch(batch)

    def build_inputs(self, data, training: bool, global_batch_size: int, input_context: Any = None):
        batch = input_context.get_per_replica_batch_size(global_batch_size) if input_context else global_batch_size
        index = np.arange(len(self.records(data)))
        if input_context and training:
            index = index[input_context.input_pipeline_id::input_context.num_input_pipelines]
        if not (training and self.config.task.search):
            return self._examples(data, training, batch, index).prefetch(tf.data.AUTOTUNE)
        if batch % 2:
            raise ConfigError(f"trainer.global_batch_size: the search needs an even per-replica batch, got {batch}")
        split_a = self._examples(data, True, batch // 2, index[0::2])
        split_b = self._examples(data, True, batch // 2, index[1::2], seed_offset=1)
        both = tf.data.Dataset.zip((split_a, split_b))
        return both.map(lambda a, b: (tf.concat([a[0], b[0]], 0), tf.concat([a[1], b[1]], 0))).prefetch(2)

    # --- objective ---------------------------------------------------------------------------
    def build_losses(self) -> Any:
        return losses.integral_l1

    def build_metrics(self) -> list[Any]:
        t = self.config.task
        return [losses.MPJPE(t.depth_bins, t.depth_range_mm, t.root_joint)]

    def compile_model(self, model: keras.Model, optimizer: Any, jit_compile: bool) -> None:
        t = self.config.task
        volumes = model.volumes_model().output.shape if hasattr(model, "volumes_model") else None
        if volumes is not None and volumes[1] != t.heatmap_size:
            raise ConfigError(f"task.heatmap_size: {t.heatmap_size} but the model's heatmaps are {volumes[1]} px")
        if t.search and not hasattr(model, "arch_variables"):
            raise ConfigError("task.search: the model has no architecture parameters (use a *_search variant)")
        super().compile_model(model, optimizer, jit_compile)

    # --- evaluation --------------------------------------------------------------------------
    def _poses_mm(self, predict, dataset, steps: int | None) -> tuple[np.ndarray, np.ndarray]:
        t = self.config.task
        preds, gts = [], []
        for i, (images, labels) in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            joints = predict(images)
            preds.append(np.asarray(losses.joints_to_camera(labels, joints, t.depth_bins, t.depth_range_mm,
                                                            t.root_joint)))
            gts.append(np.asarray(labels)[..., 5:8])
        return np.concatenate(preds), np.concatenate(gts)

    def _scores(self, predict, dataset, steps) -> dict[str, float]:
        pred, gt = self._poses_mm(predict, dataset, steps)
        r = self.config.task.root_joint
        pred, gt = pose3d.root_align(pred, r), pose3d.root_align(gt, r)
        return {"mpjpe": float(pose3d.mpjpe(pred, gt)), "pa_mpjpe": float(pose3d.pa_mpjpe(pred, gt)),
                "examples": int(len(gt))}

    def evaluate(self, model, dataset, steps=None, tide=False, predictions_out=None) -> dict[str, Any]:
        self.check_tide(tide)
        network = getattr(model, "inference_model", model)
        predict = tf.function(lambda x: network(x, training=False), reduce_retracing=True)
        scores = self._scores(predict, dataset, steps)
        if hasattr(network, "genotype"):  # a search run reports the derived genotype (PartAwarePoseNet config)
            scores["genotype"] = {k: [list(map(list, c)) for c in v] if k == "parts" else list(map(list, v))
                                  for k, v in network.genotype().items()}
        return scores

    def evaluate_predict_fn(self, predict_fn, dataset, steps=None, tide=False, predictions_out=None):
        self.check_tide(tide)
        return self._scores(lambda x: predict_fn(np.asarray(x) * STD + MEAN), dataset, steps)

    def saved_model_predict_fn(self, loaded):
        serve = loaded.signatures["serving_default"]
        return lambda x: serve(images=tf.constant(x, tf.float32))["joints_voxel"].numpy()

    # --- export ------------------------------------------------------------------------------
    def _size(self) -> int:
        return self.config.eval_data.image_size

    def serving_signatures(self, model, image_size: int) -> dict:
        t, size = self.config.task, self._size()
        stride = size / t.heatmap_size

        def serve(images):
            joints = model((images - MEAN) / STD, training=False)
            z_mm = depth_bins_to_mm(joints[..., 2:], t.depth_bins, t.depth_range_mm)
            return {"joints_voxel": joints, "joints_crop": tf.concat([joints[..., :2] * stride, z_mm], -1)}

        return {"serving_default": (serve, [tf.TensorSpec([None, size, size, 3], tf.float32, name="images")])}

    def _pixels(self, n: int) -> np.ndarray:
        return np.random.default_rng(0).uniform(0, 255, (n, self._size(), self._size(), 3)).astype(np.float32)

    def warmup_inputs(self, image_size: int, n: int) -> list[tuple[str, dict]]:
        return [("serving_default", {"images": self._pixels(1)}) for _ in range(n)]

    def serving_verification(self, model, n: int, image_size: int) -> list[tuple[str, dict, dict]]:
        pixels = self._pixels(max(1, min(n, 4)))
        joints = np.asarray(model((pixels - MEAN) / STD, training=False))
        return [("serving_default", {"images": pixels}, {"joints_voxel": joints})]

    def verification_inputs(self, num_examples: int, image_size: int):
        return (self._pixels(max(1, min(num_examples, 4))) - MEAN) / STD

    def representative_dataset(self, num_examples: int, image_size: int):
        for i in range(num_examples):
            yield [self.verification_inputs(1, image_size)[:1] + 0.01 * i]

