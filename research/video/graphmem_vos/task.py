"""The `video_object_segmentation` task: DAVIS / YouTube-VOS sequences in, per-frame id maps out, scored by J&F.

Training elements are ({"frames" (L, H, W, 3) in [0, 1], "first_mask" (H, W) ids, "num_objects"}, ids of
frames 1 .. L-1) from random clips (official/data/vos.py), randomly cropped and mirrored; the loss is the
cross-entropy of the soft-aggregated logits (the model's episodic `call`). Evaluation runs the test
protocol (inference.py) on every whole sequence with `memorize` / `step` traced once by tf.function and
scores the argmax maps with J&F (official/evaluation/davis_jf.py); `copy_first_*` is the same score of the
first mask copied to every frame, the trivial baseline.

Export (spec check 8): the SavedModel holds the two per-frame functions, and the frame loop (which frames
are in memory, padding to a multiple of 16) stays with the caller, as the test protocol runs them:
- `serving_default` = `step`: frame (B, H, W, 3) in [0, 1], memory_keys (B, O, C, H/16, W/16, Ck),
  memory_values (.., Cv), memory_mask (B, C) bool, object_mask (B, O) -> logits (B, H, W, O + 1);
- `memorize`: frame, probs (B, H, W, O + 1) -> keys (B, O, H/16, W/16, Ck), values.
O is the model's max_objects and C the memory capacity num_segments + 2 (6): fixed sizes, padded slots
masked; H and W are free multiples of 16. `evaluate_saved_model` runs the test protocol through them.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from official.core import registry
from official.core.config import ConfigError
from official.core.task import Task
from official.data import vos
from official.evaluation.davis_jf import DavisJF
from research.video.graphmem_vos.config import VosDataConfig, VosTaskConfig
from research.video.graphmem_vos.inference import one_hot, run_video

SOURCES = ("davis", "youtube_vos")


@registry.register_task("video_object_segmentation")
class VideoObjectSegmentationTask(Task):
    def __init__(self, config):
        super().__init__(config)
        if not isinstance(config.task, VosTaskConfig):
            raise ConfigError("task: video_object_segmentation needs a VosTaskConfig section")
        for key in ("train_data", "eval_data"):
            data = getattr(config, key)
            if not isinstance(data, VosDataConfig):
                raise ConfigError(f"{key}: video_object_segmentation needs a VosDataConfig (source, path, split)")
            if data.source not in SOURCES:
                raise ConfigError(f"{key}.source: expected one of {SOURCES}, got {data.source!r}")
        self.skipped: dict[str, int] = {}

    # --- data ------------------------------------------------------------------------------------
    def sequences(self, data: VosDataConfig) -> list[vos.VosSequence]:
        if data.source == "davis":
            seqs, skipped = vos.list_davis_sequences(data.path, data.split, data.year, data.resolution)
        else:
            seqs, skipped = vos.list_youtube_vos_sequences(data.path, data.split)
        for reason, n in skipped.items():
            self.skipped[f"{data.split}/{reason}"] = n
        return seqs

    def num_examples(self, data) -> int | None:
        return len(self.sequences(data))

    def _max_objects(self) -> int:
        return self.config.task.num_classes - 1

    def _train_example(self, item, data: VosDataConfig, example_seed):
        """Crop and flip with stateless ops on the example's own seed: the parallel map then gives every clip the
        same augmentation in every run (stateful ops hand their draws to whichever call runs first)."""
        frames, masks = item["frames"], item["masks"]
        seeds = tf.random.experimental.stateless_split(tf.stack([example_seed, tf.constant(0, tf.int64)]), 2)
        if data.crop_size[0] > 0:
            h, w = data.crop_size
            stacked = tf.concat([tf.cast(frames, tf.int32), masks[..., None]], axis=-1)
            stacked = tf.image.stateless_random_crop(stacked, [data.clip_length, h, w, 4], seed=seeds[0])
            frames, masks = stacked[..., :3], stacked[..., 3]
        if data.horizontal_flip:
            flip = tf.random.stateless_uniform([], seed=seeds[1]) < 0.5
            frames = tf.cond(flip, lambda: tf.reverse(frames, [2]), lambda: frames)
            masks = tf.cond(flip, lambda: tf.reverse(masks, [2]), lambda: masks)
        masks = tf.where(masks > self._max_objects(), 0, masks)  # extra objects and void (255) -> background
        x = {"frames": tf.cast(frames, tf.float32) / 255.0, "first_mask": masks[0],
             "num_objects": tf.minimum(item["num_objects"], self._max_objects())}
        return x, masks[1:]

    def build_inputs(self, data, training: bool, global_batch_size: int, input_context: Any = None):
        seqs = self.sequences(data)
        ds = vos.vos_dataset(seqs, data.clip_length if training else 0, training, self.config.runtime.seed)
        if not training:
            return ds.batch(1)  # whole sequences of their own sizes, one at a time
        if input_context is not None:
            ds = ds.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
        batch = input_context.get_per_replica_batch_size(global_batch_size) if input_context else global_batch_size
        ds = tf.data.Dataset.zip((ds, tf.data.Dataset.random(seed=self.config.runtime.seed + 1)))
        ds = ds.map(lambda item, s: self._train_example(item, data, s), num_parallel_calls=tf.data.AUTOTUNE)
        return ds.batch(batch, drop_remainder=True).prefetch(2)

    # --- objective -------------------------------------------------------------------------------
    def build_losses(self) -> Any:
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def build_metrics(self) -> list[Any]:
        return [keras.metrics.SparseCategoricalAccuracy(name="pixel_accuracy")]

    # --- evaluation ------------------------------------------------------------------------------
    def predict_fns(self, model):
        """(memorize, step) traced once per shape: the inference loop calls them frame by frame."""
        memorize = tf.function(lambda f, p: model.memorize(f, p), reduce_retracing=True)
        step = tf.function(lambda f, k, v, m, o: model.step(f, k, v, m, o), reduce_retracing=True)
        return memorize, step

    def score(self, memorize, step, dataset, steps: int | None = None) -> dict[str, Any]:
        t = self.config.task
        jf, copied = DavisJF(), DavisJF()
        for i, item in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            frames = item["frames"][0].numpy().astype(np.float32) / 255.0
            gt = item["masks"][0].numpy()
            n = int(item["num_objects"][0])
            probs = run_video(memorize, step, frames, gt[0], n, flip=t.flip_tta, num_segments=t.num_segments)
            name = item["sequence"][0].numpy().decode()
            jf.update(name, gt, np.argmax(probs, -1))
            if t.copy_baseline:
                first = np.where(gt[0] > n, 0, gt[0])
                copied.update(name, gt, np.repeat(first[None], len(gt), 0))
        out = jf.result()
        if t.copy_baseline:
            out.update({f"copy_first_{k}": v for k, v in copied.result().items()})
        return out

    def evaluate(self, model, dataset, steps=None, tide=False, predictions_out=None) -> dict[str, Any]:
        self.check_tide(tide)
        from official.training.method import inference_model

        return self.score(*self.predict_fns(inference_model(model)), dataset, steps)

    def evaluate_saved_model(self, loaded, global_batch_size, steps=None, tide=False, predictions_out=None):
        """J&F of an exported model: the test protocol calls its `memorize` and `serving_default` signatures. The
        signatures hold max_objects slots; a sequence with fewer objects pads them (probability 0, object_mask 0),
        which leaves the real objects' keys, values and logits unchanged (aggregation.py), and drops them again."""
        self.check_tide(tide)
        sig_memorize, sig_step = loaded.signatures["memorize"], loaded.signatures["serving_default"]
        slots = self._max_objects()

        def memorize(frame, probs):
            n = probs.shape[-1] - 1
            if n > slots:
                raise ConfigError(f"eval_data: a sequence has {n} objects; the SavedModel's signatures hold "
                                  f"{slots} (export a model with model.max_objects >= {n})")
            padded = np.pad(probs, ((0, 0), (0, 0), (0, 0), (0, slots - n)))
            out = sig_memorize(frame=tf.constant(frame), probs=tf.constant(padded))
            return out["keys"].numpy()[:, :n], out["values"].numpy()[:, :n]

        def step(frame, keys, values, memory_mask, object_mask):
            n = keys.shape[1]
            pad = lambda x: np.pad(x, [(0, 0), (0, slots - n)] + [(0, 0)] * (x.ndim - 2))  # noqa: E731
            logits = sig_step(frame=tf.constant(frame), memory_keys=tf.constant(pad(keys)),
                              memory_values=tf.constant(pad(values)), memory_mask=tf.constant(memory_mask),
                              object_mask=tf.constant(pad(object_mask)))["logits"]
            return logits.numpy()[..., :n + 1]

        return self.score(memorize, step, self.build_inputs(self.config.eval_data, False, 1), steps)

    # --- export ----------------------------------------------------------------------------------
    def capacity(self) -> int:
        return self.config.task.num_segments + 2

    def serving_signatures(self, model, image_size: int) -> dict:
        o, c, k = model.max_objects, self.capacity(), model.max_objects + 1
        self._dims = (o, model.key_dim, model.value_dim)  # the warmup records' memory shapes
        frame = tf.TensorSpec([None, None, None, 3], tf.float32, name="frame")
        step_spec = [frame,
                     tf.TensorSpec([None, o, c, None, None, model.key_dim], tf.float32, name="memory_keys"),
                     tf.TensorSpec([None, o, c, None, None, model.value_dim], tf.float32, name="memory_values"),
                     tf.TensorSpec([None, c], tf.bool, name="memory_mask"),
                     tf.TensorSpec([None, o], tf.float32, name="object_mask")]

        def step(frame, memory_keys, memory_values, memory_mask, object_mask):
            return {"logits": model.step(frame, memory_keys, memory_values, memory_mask, object_mask)}

        def memorize(frame, probs):
            keys, values = model.memorize(frame, probs)
            return {"keys": keys, "values": values}

        return {"serving_default": (step, step_spec),
                "memorize": (memorize, [frame, tf.TensorSpec([None, None, None, k], tf.float32, name="probs")])}

    def _examples(self, dims: tuple[int, int, int], image_size: int) -> tuple[dict, dict]:
        """(memorize inputs, step inputs) of one frame at image_size (a multiple of 16): a random frame and
        mask, and a random memory with 2 valid nodes in the padded capacity. dims = (objects, key, value)."""
        o, ck, cv = dims
        rng = np.random.default_rng(0)
        size = max(16, image_size - image_size % 16)
        frame = rng.uniform(0, 1, (1, size, size, 3)).astype(np.float32)
        probs = one_hot(rng.integers(0, o + 1, (size, size)), o)[None]
        c, h = self.capacity(), size // 16
        step = {"frame": frame, "memory_keys": rng.normal(size=(1, o, c, h, h, ck)).astype(np.float32),
                "memory_values": rng.normal(size=(1, o, c, h, h, cv)).astype(np.float32),
                "memory_mask": (np.arange(c) < 2)[None], "object_mask": np.ones((1, o), np.float32)}
        return {"frame": frame, "probs": probs}, step

    def warmup_inputs(self, image_size: int, n: int) -> list[tuple[str, dict]]:
        memorize, step = self._examples(self._dims, image_size)
        return [("serving_default", step), ("memorize", memorize)][:max(n, 1)]

    def serving_verification(self, model, n: int, image_size: int) -> list[tuple[str, dict, dict]]:
        memorize, step = self._examples((model.max_objects, model.key_dim, model.value_dim), image_size)
        keys, values = (np.asarray(x) for x in model.memorize(memorize["frame"], memorize["probs"]))
        # the step is checked on a real memory (the frame written twice, as frame 0 is from t = 5 on): random
        # keys give attention logits far outside what the model sees, where float32 rounding alone exceeds atol
        step["memory_keys"][:, :, :2], step["memory_values"][:, :, :2] = keys[:, :, None], values[:, :, None]
        logits = model.step(*(step[k] for k in ("frame", "memory_keys", "memory_values", "memory_mask", "object_mask")))
        return [("serving_default", step, {"logits": np.asarray(logits)}),
                ("memorize", memorize, {"keys": np.asarray(keys), "values": np.asarray(values)})]
