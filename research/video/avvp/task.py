"""The `avvp` Task: LLP features -> weakly supervised HAN training, segment/event F1, parsing SavedModels.

Data: official/data/llp.py; training targets are the weak labels (B, C), evaluation targets add the dense
audio / visual ground truth of AVVP_eval_{audio,visual}.csv. The model owns its loss (losses.han_loss).
Evaluation = main_avvp.eval: video-level labels at global_prob >= threshold filter the per-segment
decisions (frame_prob >= threshold); F1 from official/evaluation/avvp_f1.py, in percent.
Serving (SavedModel): serving_default(audio (B, T, 128), video_2d (B, 8T, 2048), video_3d (B, T, 512))
-> {global_prob (B, C), audio_prob (B, T, C), visual_prob (B, T, C)}; `parse` -> the same + audio_events,
visual_events, av_events (B, T, C) in {0, 1} (the filtered decisions the metric scores).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from official.core.config import ConfigError
from official.core.registry import register_task
from official.core.task import Task
from official.data import llp
from official.evaluation import avvp_f1
from research.video.avvp.config import AvvpTaskConfig, LlpDataConfig
from research.video.avvp.layers import UnpackFeatures

MODALITIES = ("audio", "video_2d", "video_3d")


@register_task("avvp")
class AvvpTask(Task):
    def __init__(self, config):
        super().__init__(config)
        if not isinstance(config.task, AvvpTaskConfig):
            raise ConfigError("task: avvp needs an AvvpTaskConfig section")
        for key in ("train_data", "eval_data"):
            if not isinstance(getattr(config, key), LlpDataConfig):
                raise ConfigError(f"{key}: avvp needs an LlpDataConfig (path, split, feature folders)")
        self._videos: dict[tuple, list] = {}
        self._skipped: dict[tuple, int] = {}

    # --- data --------------------------------------------------------------------------------
    def shapes(self) -> dict[str, tuple[int, int]]:
        m = self.config.model
        return llp.feature_shapes(m.num_segments, m.frames_per_segment, m.audio_dim, m.video_2d_dim, m.video_3d_dim)

    def videos(self, data: LlpDataConfig) -> list[llp.LlpVideo]:
        key = (data.path, data.split, data.csv_name, data.audio_dir, data.video_2d_dir, data.video_3d_dir)
        if key not in self._videos:
            dirs = {"audio": data.audio_dir, "video_2d": data.video_2d_dir, "video_3d": data.video_3d_dir}
            videos, skipped = llp.list_videos(data.path, data.split, self.shapes(), dirs, data.csv_name)
            self._videos[key], self._skipped[key] = videos, sum(skipped.values())
        return self._videos[key]

    def skipped_examples(self) -> int:
        return sum(self._skipped.values())

    def num_examples(self, data) -> int | None:
        return len(self.videos(data))

    def build_inputs(self, data, training: bool, global_batch_size: int, input_context: Any = None):
        batch = input_context.get_per_replica_batch_size(global_batch_size) if input_context else global_batch_size
        videos = self.videos(data)
        dense = None
        if not training:
            gt_a, gt_v, _ = llp.dense_ground_truth(data.path, videos, self.config.model.num_segments)
            dense = (gt_a, gt_v)
        ds = llp.llp_dataset(videos, self.shapes(), training, self.config.runtime.seed, dense, data.shuffle_buffer)
        if input_context is not None and input_context.num_input_pipelines > 1:
            ds = ds.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
        return ds.batch(batch, drop_remainder=training).prefetch(tf.data.AUTOTUNE)

    # --- objective ---------------------------------------------------------------------------
    def build_losses(self):
        return None  # the model's compute_loss (losses.han_loss)

    def compile_model(self, model: keras.Model, optimizer: Any, jit_compile: bool) -> None:
        model.compile(optimizer=optimizer, loss=None, jit_compile=jit_compile)

    # --- evaluation --------------------------------------------------------------------------
    def score(self, predict_fn, dataset, steps: int | None = None) -> dict[str, float]:
        """F1 (percent) of predict_fn(features) -> (global_prob (B, C), frame_prob (B, T, 2, C)) over `dataset`."""
        scores = avvp_f1.ParsingF1()
        threshold = self.config.task.threshold
        for i, (inputs, targets) in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            global_prob, frame_prob = (np.asarray(x) for x in predict_fn(inputs))
            gt_a, gt_v = np.asarray(targets["gt_audio"]), np.asarray(targets["gt_visual"])
            for b in range(len(global_prob)):
                so_a, so_v, _ = avvp_f1.parse_predictions(frame_prob[b], global_prob[b], threshold)
                scores.update(so_a, so_v, gt_a[b], gt_v[b])
        return scores.result()

    def evaluate(self, model, dataset, steps=None, tide=False, predictions_out=None) -> dict[str, Any]:
        self.check_tide(tide)
        network = getattr(model, "inference_model", model)

        @tf.function(reduce_retracing=True)
        def predict(inputs):
            out = network(inputs, training=False)
            return out["global_prob"], out["frame_prob"]

        return self.score(lambda x: predict({k: x[k] for k in MODALITIES}), dataset, steps)

    def pack(self, inputs) -> np.ndarray:
        """Feature dict -> the (B, N) packed vector of the TFLite body (export_body)."""
        return np.concatenate([np.asarray(inputs[m], np.float32).reshape(len(inputs[m]), -1) for m in self.shapes()], 1)

    def unpack(self, packed: np.ndarray) -> dict[str, np.ndarray]:
        out, start = {}, 0
        for m, (a, b) in self.shapes().items():
            out[m] = packed[:, start:start + a * b].reshape(-1, a, b)
            start += a * b
        return out

    def split_outputs(self, parsing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(B, C + T*2*C) body output -> global_prob (B, C), frame_prob (B, T, 2, C)."""
        c, t = self.config.model.num_classes, self.config.model.num_segments
        parsing = np.asarray(parsing)
        return parsing[:, :c], parsing[:, c:].reshape(-1, t, 2, c)

    def evaluate_predict_fn(self, predict_fn, dataset, steps=None, tide=False, predictions_out=None):
        """predict_fn: packed features (B, N) -> (B, C + T*2*C), as the TFLite body and saved_model_predict_fn."""
        self.check_tide(tide)
        return self.score(lambda x: self.split_outputs(predict_fn(self.pack(x))), dataset, steps)

    def saved_model_predict_fn(self, loaded):
        serve = loaded.signatures["serving_default"]

        def predict(packed):
            out = serve(**{k: tf.constant(v, tf.float32) for k, v in self.unpack(np.asarray(packed)).items()})
            frame = np.stack([out["audio_prob"].numpy(), out["visual_prob"].numpy()], axis=2)
            return np.concatenate([out["global_prob"].numpy(), frame.reshape(len(frame), -1)], 1)

        return predict

    # --- export ------------------------------------------------------------------------------
    def serving_signatures(self, model, image_size: int) -> dict:
        specs = [tf.TensorSpec([None, *shape], tf.float32, name=m) for m, shape in self.shapes().items()]
        threshold = self.config.task.threshold

        def serve(audio, video_2d, video_3d):
            out = model({"audio": audio, "video_2d": video_2d, "video_3d": video_3d}, training=False)
            return {"global_prob": out["global_prob"], "audio_prob": out["frame_prob"][:, :, 0],
                    "visual_prob": out["frame_prob"][:, :, 1]}

        def parse(audio, video_2d, video_3d):
            out = serve(audio, video_2d, video_3d)
            video = tf.cast(out["global_prob"] >= threshold, tf.float32)[:, None]
            a = tf.cast(out["audio_prob"] >= threshold, tf.float32) * video
            v = tf.cast(out["visual_prob"] >= threshold, tf.float32) * video
            return {**out, "audio_events": a, "visual_events": v, "av_events": a * v}

        return {"serving_default": (serve, specs), "parse": (parse, specs)}

    def _examples(self, n: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(0)
        return {m: rng.uniform(0, 1, (n, *shape)).astype(np.float32) for m, shape in self.shapes().items()}

    def warmup_inputs(self, image_size: int, n: int) -> list[tuple[str, dict]]:
        return [("serving_default", self._examples(1)) for _ in range(n)]

    def serving_verification(self, model, n: int, image_size: int) -> list[tuple[str, dict, dict]]:
        ex = self._examples(max(1, min(n, 4)))
        out = {k: np.asarray(v) for k, v in model(ex, training=False).items()}
        probs = {"global_prob": out["global_prob"], "audio_prob": out["frame_prob"][:, :, 0],
                 "visual_prob": out["frame_prob"][:, :, 1]}
        threshold = self.config.task.threshold
        events = []
        for b in range(len(out["global_prob"])):
            so_a, so_v, so_av = avvp_f1.parse_predictions(out["frame_prob"][b], out["global_prob"][b], threshold)
            events.append((so_a.T, so_v.T, so_av.T))
        parsed = {"audio_events": np.stack([e[0] for e in events]).astype(np.float32),
                  "visual_events": np.stack([e[1] for e in events]).astype(np.float32),
                  "av_events": np.stack([e[2] for e in events]).astype(np.float32)}
        return [("serving_default", ex, probs), ("parse", ex, {**probs, **parsed})]

    def export_body(self, model):
        """TFLite body: features packed into one (B, 10*128 + 80*2048 + 10*512) vector (audio, video_2d, video_3d
        flattened in that order) -> (B, C + T*2*C) = [global_prob, frame_prob flattened (T, 2, C)]."""
        shapes = self.shapes()
        packed = keras.Input((sum(a * b for a, b in shapes.values()),), name="features")
        out = model(UnpackFeatures(shapes, name="unpack")(packed))
        flat = keras.layers.Reshape((-1,), name="frame_flat")(out["frame_prob"])
        return keras.Model(packed, keras.layers.Concatenate(name="parsing")([out["global_prob"], flat]), name="avvp_tflite")

    def quantized_agreement(self, reference, quantized) -> float:
        """Share of the parsing decisions (probability >= threshold) that a quantised body keeps."""
        t = self.config.task.threshold
        return float(np.mean((np.asarray(reference) >= t) == (np.asarray(quantized) >= t)))

    def verification_inputs(self, num_examples: int, image_size: int):
        return self.pack(self._examples(max(1, min(num_examples, 4))))

    def representative_dataset(self, num_examples: int, image_size: int):
        for row in self.verification_inputs(num_examples, image_size):
            yield [row[None]]
