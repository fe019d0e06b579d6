"""The `memdpc` Task: frame-folder clips -> MemDPC pretext training (dense contrastive top-1) or the LC classifier
(fine-tune / linear probe, top-1 accuracy), and clip -> embedding / logits SavedModels.

Which one is decided by the model class: MemDpc (pretext; its compute_loss, labels ignored) or MemDpcClassifier
(sparse CE on logits, as eval/test.py). Serving: serving_default(clip (B, N, SL, H, W, 3) ImageNet-normalised)
-> {"embedding"} for the pretext model, {"logits", "probabilities"} for a classifier, whose "embed" signature
gives the 2 c context.
"""

from __future__ import annotations

import os
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from official.core import registry
from official.core.config import ConfigError
from official.core.registry import register_task
from official.core.task import Task
from official.data import video_frames
from official.training import pretrained
from research.video.memdpc.config import MemDpcTaskConfig, VideoFramesDataConfig
from research.video.memdpc.model import MemDpc, MemDpcClassifier, embedding_model, transfer_pretext_weights


def _inputs_and_label(example):
    return {"clip": example["clip"]}, example["label"]


@register_task("memdpc")
class MemDpcTask(Task):
    def __init__(self, config):
        super().__init__(config)
        if not isinstance(config.task, MemDpcTaskConfig):
            raise ConfigError("task: memdpc needs a MemDpcTaskConfig section")
        for key in ("train_data", "eval_data"):
            if not isinstance(getattr(config, key), VideoFramesDataConfig):
                raise ConfigError(f"{key}: memdpc needs a VideoFramesDataConfig (path, splits_dir, dataset, split)")
        cls = getattr(registry.get_model_builder(config.model.name), "model_cls", None)
        self.pretext = cls is MemDpc
        self._videos: dict[tuple, video_frames.VideoList] = {}

    # --- model -------------------------------------------------------------------------------
    def build_model(self) -> keras.Model:
        model = super().build_model()
        src = self.config.task.pretext_weights
        if src and isinstance(model, MemDpcClassifier):
            if src.endswith(".keras"):
                pretext = keras.models.load_model(src)
            else:
                m = self.config.model
                pretext = registry.create_model(self.config.task.pretext_model, num_seq=m.num_seq, seq_len=m.seq_len,
                                                img_dim=m.img_dim)
                src = pretrained.restore_weights(pretext, src, "task.pretext_weights")  # MODEL_DIR, ckpt or .weights.h5
            n = transfer_pretext_weights(pretext, model)
            print(f"memdpc: {n} encoder / GRU tensors from {src}")
        return model

    # --- data --------------------------------------------------------------------------------
    def videos(self, data: VideoFramesDataConfig) -> video_frames.VideoList:
        m = self.config.model
        key = (data.path, data.splits_dir, data.dataset, data.split, data.which_split, data.downsample)
        if key not in self._videos:
            splits = data.splits_dir or data.path
            csv = os.path.join(splits, video_frames.split_file(data.dataset, data.split, data.which_split))
            self._videos[key] = video_frames.list_videos(
                data.path, csv, os.path.join(splits, "ClassInd.txt"),
                video_frames.min_frames(m.num_seq, m.seq_len, data.downsample))
        return self._videos[key]

    def skipped_examples(self) -> int:
        return sum(sum(v.skipped.values()) for v in self._videos.values())

    def num_examples(self, data) -> int | None:
        return len(self.videos(data).dirs)

    def build_inputs(self, data, training: bool, global_batch_size: int, input_context: Any = None):
        m = self.config.model
        batch = input_context.get_per_replica_batch_size(global_batch_size) if input_context else global_batch_size
        ds = video_frames.clip_dataset(self.videos(data), m.num_seq, m.seq_len, data.downsample, m.img_dim, training,
                                       data.grey_p, data.jitter, seed=self.config.runtime.seed if training else None)
        if input_context is not None and input_context.num_input_pipelines > 1:
            ds = ds.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
        if data.cache:
            ds = ds.cache()
        if training:
            ds = ds.repeat()
        ds = ds.map(_inputs_and_label)
        return ds.batch(batch, drop_remainder=training).prefetch(tf.data.AUTOTUNE)

    # --- objective ---------------------------------------------------------------------------
    def build_losses(self):
        return None if self.pretext else keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def build_metrics(self):
        return [] if self.pretext else [keras.metrics.SparseCategoricalAccuracy(name="top1")]

    def compile_model(self, model: keras.Model, optimizer: Any, jit_compile: bool) -> None:
        model.compile(optimizer=optimizer, loss=self.build_losses(), metrics=self.build_metrics(),
                      jit_compile=jit_compile)

    def evaluate(self, model, dataset, steps=None, tide=False, predictions_out=None) -> dict[str, Any]:
        """Pretext: mean forward / backward loss and top-1 / top-5 of the dense task; classifier: top-1 (fraction)."""
        self.check_tide(tide)
        if not self.pretext:
            return super().evaluate(model, dataset, steps, tide, predictions_out)
        sums: dict[str, float] = {}
        n = 0
        for i, (inputs, _) in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            total, terms = model.pretext_loss(model(inputs, training=False))
            for k, v in {"loss": total, **terms}.items():
                sums[k] = sums.get(k, 0.0) + float(v)
            n += 1
        return {k: v / max(n, 1) for k, v in sums.items()}

    def evaluate_predict_fn(self, predict_fn, dataset, steps=None, tide=False, predictions_out=None):
        """Classifier top-1 of an exported artifact (predict_fn: clip -> logits)."""
        self.check_tide(tide)
        if self.pretext:
            raise ConfigError("memdpc: an exported pretext model gives embeddings, which have no accuracy to score")
        hits = total = 0
        for i, (inputs, labels) in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            logits = np.asarray(predict_fn(inputs["clip"].numpy()))
            hits += int((logits.argmax(-1) == labels.numpy()).sum())
            total += len(logits)
        return {"top1": hits / max(total, 1)}

    def saved_model_predict_fn(self, loaded):
        serve = loaded.signatures["serving_default"]
        return lambda clip: serve(clip=tf.constant(clip, tf.float32))["logits"].numpy()

    # --- export ------------------------------------------------------------------------------
    def _spec(self):
        m = self.config.model
        return [tf.TensorSpec([None, m.num_seq, m.seq_len, m.img_dim, m.img_dim, 3], tf.float32, name="clip")]

    def serving_signatures(self, model, image_size: int) -> dict:
        embed = embedding_model(model)
        if self.pretext:
            return {"serving_default": (lambda clip: {"embedding": embed(clip, training=False)}, self._spec())}

        def serve(clip):
            logits = model(clip, training=False)
            return {"logits": logits, "probabilities": tf.nn.softmax(logits)}

        return {"serving_default": (serve, self._spec()),
                "embed": (lambda clip: {"embedding": embed(clip, training=False)}, self._spec())}

    def export_body(self, model):
        return embedding_model(model) if self.pretext else model

    def verification_inputs(self, num_examples: int, image_size: int):
        m = self.config.model
        shape = (max(1, min(num_examples, 2)), m.num_seq, m.seq_len, m.img_dim, m.img_dim, 3)
        return np.random.default_rng(0).normal(size=shape).astype(np.float32)

    def _examples(self, n):
        return {"clip": self.verification_inputs(n, 0)}

    def warmup_inputs(self, image_size: int, n: int):
        return [("serving_default", self._examples(1)) for _ in range(n)]

    def serving_verification(self, model, n: int, image_size: int):
        ex = self._examples(n)
        emb = np.asarray(embedding_model(model)(ex["clip"], training=False))
        if self.pretext:
            return [("serving_default", ex, {"embedding": emb})]
        logits = np.asarray(model(ex["clip"], training=False))
        probs = np.exp(logits - logits.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        return [("serving_default", ex, {"logits": logits, "probabilities": probs}), ("embed", ex, {"embedding": emb})]

    def representative_dataset(self, num_examples: int, image_size: int):
        for row in self.verification_inputs(num_examples, image_size):
            yield [row[None]]
