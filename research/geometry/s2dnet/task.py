"""The `s2dnet` Task: HPatches-layout pairs, sparse-to-dense matching scored by MMA, three serving signatures.

Training inputs: x = images (2B, H, W, 3) in [0, 1], pairs interleaved (source_0, target_0, source_1, ...);
y = {keypoints, target_keypoints (B, N, 2) continuous pixels, keypoint_mask (B, N)} (pairs.py). The model's
compute_loss splits x's outputs back into sources and targets.
Evaluation (`tools.evaluate`): Harris keypoints on image 1 (padded to data.num_keypoints), both images through
the network, matching.match_sparse_to_dense, MMA(1..10 px) over the matches that pass the ratio test.
Serving (fixed sizes: eval_data.image_height x image_width images, num_keypoints padded keypoints + mask; all
keypoint coordinates in OpenCV pixels, the centre of pixel (r, c) at (c, r)):
    serving_default(image) -> features_1, features_2, features_3
    match(keypoints, keypoint_mask, source_features_1..3, target_features_1..3) -> matches, valid, score
    match_images(image, target_image, keypoints, keypoint_mask) -> matches, valid, score
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from official.core import registry
from official.core.config import ConfigError
from official.core.task import Task
from official.data import hpatches
from official.evaluation.hpatches_mma import MeanMatchingAccuracy
from research.geometry.s2dnet import matching, pairs
from research.geometry.s2dnet.config import HPatchesDataConfig, S2DNetTaskConfig


@registry.register_task("s2dnet")
class S2DNetTask(Task):
    def __init__(self, config):
        super().__init__(config)
        if not isinstance(config.task, S2DNetTaskConfig):
            raise ConfigError("task: s2dnet needs an S2DNetTaskConfig section")
        for key in ("train_data", "eval_data"):
            if not isinstance(getattr(config, key), HPatchesDataConfig):
                raise ConfigError(f"{key}: s2dnet needs an HPatchesDataConfig (path, image_height, num_keypoints)")
        self._pairs: dict[tuple, list[hpatches.HPatchesPair]] = {}
        self._cache: dict[tuple, dict] = {}
        self.skipped = 0

    # --- data --------------------------------------------------------------------------------
    def pairs(self, data: HPatchesDataConfig) -> list[hpatches.HPatchesPair]:
        key = (data.path, data.kinds)
        if key not in self._pairs:
            self._pairs[key], skipped = hpatches.list_pairs(data.path, data.kinds)
            self.skipped += skipped
        return self._pairs[key]

    def num_examples(self, data) -> int | None:
        return len(self.pairs(data))

    def size(self, data: HPatchesDataConfig) -> tuple[int, int]:
        for name in ("image_height", "image_width"):
            if getattr(data, name) % 16:
                raise ConfigError(f"{name}: {getattr(data, name)} is not a multiple of 16 (S2DNet's coarsest stride)")
        return data.image_height, data.image_width

    def loaded(self, data: HPatchesDataConfig, pair: hpatches.HPatchesPair) -> dict | None:
        """The pair's images (resized), homography and Harris keypoints of image 1; cached when data.cache."""
        key = (pair.source, pair.target, self.size(data), data.num_keypoints)
        if key in self._cache:
            return self._cache[key]
        out = hpatches.load_pair(pair, self.size(data))
        if out is None:
            self.skipped += 1
            return None
        points = pairs.detect_keypoints(out["image"], data.num_keypoints)
        out["keypoints"], out["keypoint_mask"] = pairs.pad_keypoints(points, data.num_keypoints)
        if data.cache:
            self._cache[key] = out
        return out

    def build_inputs(self, data, training: bool, global_batch_size: int, input_context: Any = None):
        batch = input_context.get_per_replica_batch_size(global_batch_size) if input_context else global_batch_size
        all_pairs = self.pairs(data)
        shards = (input_context.num_input_pipelines, input_context.input_pipeline_id) if input_context else (1, 0)
        seed, n = self.config.runtime.seed, data.num_keypoints
        height, width = self.size(data)

        def train_examples():
            rng = np.random.default_rng([seed, shards[1]])
            ids = np.arange(len(all_pairs))[shards[1]::shards[0]]
            while True:
                for i in rng.permutation(ids):
                    loaded = self.loaded(data, all_pairs[i])
                    if loaded is None:
                        continue
                    images, labels = pairs.training_example(loaded["image"], loaded["target_image"],
                                                            loaded["homography"], n, rng)
                    yield images, labels

        def eval_examples():
            for i in range(shards[1], len(all_pairs), shards[0]):
                loaded = self.loaded(data, all_pairs[i])
                if loaded is None:
                    continue
                yield ({"image": loaded["image"], "target_image": loaded["target_image"],
                        "keypoints": loaded["keypoints"], "keypoint_mask": loaded["keypoint_mask"]},
                       {"homography": loaded["homography"], "viewpoint": all_pairs[i].kind == "v"})

        image = tf.TensorSpec((height, width, 3), tf.float32)
        points, mask = tf.TensorSpec((n, 2), tf.float32), tf.TensorSpec((n,), tf.bool)
        if training:
            spec = (tf.TensorSpec((2, height, width, 3), tf.float32),
                    {"keypoints": points, "target_keypoints": points, "keypoint_mask": mask})
            ds = tf.data.Dataset.from_generator(train_examples, output_signature=spec).batch(batch, drop_remainder=True)
            ds = ds.map(lambda x, y: (tf.reshape(x, (-1, height, width, 3)), y))  # (B, 2, ...) -> interleaved (2B, ...)
        else:
            spec = ({"image": image, "target_image": image, "keypoints": points, "keypoint_mask": mask},
                    {"homography": tf.TensorSpec((3, 3), tf.float64), "viewpoint": tf.TensorSpec((), tf.bool)})
            ds = tf.data.Dataset.from_generator(eval_examples, output_signature=spec).batch(batch)
        return ds.prefetch(tf.data.AUTOTUNE)

    def skipped_examples(self) -> int:
        return self.skipped

    # --- objective ---------------------------------------------------------------------------
    def build_losses(self):
        return None  # the model's compute_loss (losses.s2d_loss)

    def compile_model(self, model: keras.Model, optimizer: Any, jit_compile: bool) -> None:
        model.compile(optimizer=optimizer, loss=None, jit_compile=jit_compile)

    # --- matching ----------------------------------------------------------------------------
    def match(self, model, source_maps, target_maps, keypoints, keypoint_mask):
        """OpenCV-pixel keypoints -> (matches in OpenCV pixels, valid, score), keras.ops (graph-safe)."""
        t = self.config.task
        xy, valid, score = matching.match_sparse_to_dense(
            source_maps, target_maps, keypoints + 0.5, keypoint_mask, model.strides, tuple(t.match_levels),
            t.factor, t.ratio)
        return xy - 0.5, valid, score

    def matcher(self, model):
        """A tf.function (images, target images, keypoints, mask) -> (matches, valid, score)."""

        @tf.function(reduce_retracing=True)
        def run(image, target_image, keypoints, keypoint_mask):
            f = model(tf.concat([image, target_image], 0), training=False)
            b = tf.shape(image)[0]
            keys = sorted(f)
            return self.match(model, [f[k][:b] for k in keys], [f[k][b:] for k in keys], keypoints, keypoint_mask)

        return run

    # --- evaluation --------------------------------------------------------------------------
    def score(self, predict_fn, dataset, steps: int | None = None) -> dict[str, float]:
        """MMA of predict_fn(inputs) -> (matches, valid) over `dataset` (valid matches only)."""
        mma = MeanMatchingAccuracy(tuple(self.config.task.thresholds))
        for i, (inputs, targets) in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            matches, valid = (np.asarray(v) for v in predict_fn(inputs)[:2])
            points = np.asarray(inputs["keypoints"])
            for b in range(len(points)):
                keep = valid[b]
                mma.update(points[b][keep], matches[b][keep], np.asarray(targets["homography"][b]),
                           "v" if bool(targets["viewpoint"][b]) else "i")
        return mma.result()

    def evaluate(self, model, dataset, steps=None, tide=False, predictions_out=None) -> dict[str, Any]:
        self.check_tide(tide)
        run = self.matcher(getattr(model, "inference_model", model))
        return self.score(lambda x: run(x["image"], x["target_image"], x["keypoints"], x["keypoint_mask"]), dataset, steps)

    def evaluate_saved_model(self, loaded, global_batch_size, steps=None, tide=False, predictions_out=None):
        self.check_tide(tide)
        serve = loaded.signatures["match_images"]
        dataset = self.build_inputs(self.config.eval_data, False, global_batch_size)

        def predict(x):
            out = serve(image=x["image"], target_image=x["target_image"], keypoints=x["keypoints"],
                        keypoint_mask=x["keypoint_mask"])
            return out["matches"], out["valid"]

        return self.score(predict, dataset, steps)

    # --- export ------------------------------------------------------------------------------
    def serving_size(self, image_size: int) -> tuple[int, int]:
        if image_size and image_size != self.config.eval_data.image_size:
            return image_size, image_size
        return self.size(self.config.eval_data)

    def serving_signatures(self, model, image_size: int) -> dict:
        height, width = self.serving_size(image_size)
        n = self.config.eval_data.num_keypoints
        image = tf.TensorSpec([None, height, width, 3], tf.float32, name="image")
        target = tf.TensorSpec([None, height, width, 3], tf.float32, name="target_image")
        points = tf.TensorSpec([None, n, 2], tf.float32, name="keypoints")
        mask = tf.TensorSpec([None, n], tf.bool, name="keypoint_mask")
        keys = [f"features_{i + 1}" for i in range(len(model.strides))]
        maps = [tf.TensorSpec([None, height // s, width // s, int(model.outputs[i].shape[-1])], tf.float32)
                for i, s in enumerate(model.strides)]
        src_specs = [tf.TensorSpec(m.shape, m.dtype, name=f"source_{k}") for m, k in zip(maps, keys, strict=True)]
        tgt_specs = [tf.TensorSpec(m.shape, m.dtype, name=f"target_{k}") for m, k in zip(maps, keys, strict=True)]

        def serve(image):
            return dict(model(image, training=False))

        def as_dict(matches, valid, score):
            return {"matches": matches, "valid": valid, "score": score}

        def match(keypoints, keypoint_mask, *maps):
            k = len(keys)
            return as_dict(*self.match(model, list(maps[:k]), list(maps[k:]), keypoints, keypoint_mask))

        run = self.matcher(model)

        def match_images(image, target_image, keypoints, keypoint_mask):
            return as_dict(*run(image, target_image, keypoints, keypoint_mask))

        return {"serving_default": (serve, [image]),
                "match": (match, [points, mask, *src_specs, *tgt_specs]),
                "match_images": (match_images, [image, target, points, mask])}

    def _examples(self, image_size: int, n: int = 1) -> dict[str, np.ndarray]:
        """Textured image pairs (target = source shifted by 8 px) with Harris keypoints: real matching inputs."""
        height, width = self.serving_size(image_size)
        rng = np.random.default_rng(0)
        base = rng.uniform(0, 1, (n, height // 4 + 2, width // 4 + 4, 3)).astype(np.float32)
        big = np.asarray(tf.image.resize(base, (height + 8, width + 16), "bilinear"))
        image, target = big[:, :height, 8:8 + width], big[:, :height, :width]
        k = self.config.eval_data.num_keypoints
        kp, mask = zip(*(pairs.pad_keypoints(pairs.detect_keypoints(im, k), k) for im in image), strict=True)
        return {"image": image, "target_image": target, "keypoints": np.stack(kp), "keypoint_mask": np.stack(mask)}

    def warmup_inputs(self, image_size: int, n: int) -> list[tuple[str, dict]]:
        ex = self._examples(image_size)
        return [("serving_default", {"image": ex["image"]}), ("match_images", ex)][:max(n, 1)]

    def serving_verification(self, model, n: int, image_size: int) -> list[tuple[str, dict, dict]]:
        ex = self._examples(image_size, max(1, min(n, 2)))
        src = {k: np.asarray(v) for k, v in model(ex["image"], training=False).items()}
        tgt = {k: np.asarray(v) for k, v in model(ex["target_image"], training=False).items()}
        keys = sorted(src)
        matches, valid, score = (np.asarray(v) for v in self.match(
            model, [src[k] for k in keys], [tgt[k] for k in keys], ex["keypoints"], ex["keypoint_mask"]))
        result = {"matches": matches, "valid": valid, "score": score}
        maps = {**{f"source_{k}": src[k] for k in keys}, **{f"target_{k}": tgt[k] for k in keys}}
        return [("serving_default", {"image": ex["image"]}, src),
                ("match", {"keypoints": ex["keypoints"], "keypoint_mask": ex["keypoint_mask"], **maps}, result),
                ("match_images", ex, result)]

    def export_body(self, model):
        """TFLite body: image (1, H, W, 3) -> the three maps flattened and concatenated (features_1, 2, 3)."""
        height, width = self.serving_size(0)
        image = keras.Input((height, width, 3), name="image")
        out = model(image)
        flat = [keras.layers.Reshape((-1,), name=f"flat_{k}")(out[k]) for k in sorted(out)]
        return keras.Model(image, keras.layers.Concatenate(name="features")(flat), name="s2dnet_tflite")

    def verification_inputs(self, num_examples: int, image_size: int):
        return self._examples(0, max(1, min(num_examples, 2)))["image"]

    def representative_dataset(self, num_examples: int, image_size: int):
        for row in self.verification_inputs(num_examples, image_size):
            yield [row[None]]

    def quantized_agreement(self, reference, quantized) -> float | None:
        return None
