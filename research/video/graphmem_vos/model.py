"""The GraphMemVOS network (models/graph_memory.py `graph_memory`): encoders, key/value heads, episodic graph
memory, decoder and soft aggregation, channels-last and keras.ops only.

Objects run separately and share the query frame's features (the repo's `segment` expands them); tensors
with an object axis are (B, O, ...) with O object slots and `object_mask` (B, O) marking real objects.
- `memorize(frame, probs)`: frame (B, H, W, 3) in [0, 1], probs (B, H, W, O + 1) (background first; a
  one-hot first-frame mask or the soft prediction) -> keys (B, O, h, w, Ck), values (B, O, h, w, Cv); object
  o's memory encoder sees its probability and the clamped sum of the other objects' (the repo's `memorize`).
- `step(frame, memory_keys (B, O, T, h, w, Ck), memory_values, memory_mask (B, T), object_mask (B, O))`
  -> soft-aggregated logits (B, H, W, O + 1) (the repo's `segment`). H and W must be multiples of 16
  (the inference loop pads).
- `call({"frames" (B, L, H, W, 3), "first_mask" (B, H, W) ids, "num_objects" (B,)})`: the episodic training
  pass (STM convention, the paper has no code): frame 0 with its mask is written to memory, frames 1 .. L-1
  are segmented in turn, each then written to memory with its soft prediction; returns logits
  (B, L - 1, H, W, O + 1). Ids above `max_objects` count as background.
"""

from __future__ import annotations

import keras
from keras import ops

from research.video.graphmem_vos import encoders
from research.video.graphmem_vos.aggregation import soft_aggregate
from research.video.graphmem_vos.decoder import decoder, key_value_head
from research.video.graphmem_vos.memory import EpisodicGraphMemory

EXPANSION = 4  # bottleneck output channels / width


@keras.saving.register_keras_serializable(package="eccv20zoo")
class GraphMemVOS(keras.Model):
    def __init__(self, stem_width: int = 64, stages: tuple = encoders.STAGES, key_dim: int = 128,
                 value_dim: int = 512, decoder_dim: int = 256, dilations: tuple = (2, 4, 8),
                 propagate_layers: int = 5, graph_update: str = "release", max_objects: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.stem_width, self.stages = stem_width, tuple(tuple(s) for s in stages)
        self.key_dim, self.value_dim, self.decoder_dim = key_dim, value_dim, decoder_dim
        self.dilations, self.propagate_layers = tuple(dilations), propagate_layers
        self.graph_update, self.max_objects = graph_update, max_objects
        r2, r3, r4 = (w * EXPANSION for _, w in self.stages)
        self.encoder_m = encoders.memory_encoder("encoder_m", stem_width, self.stages)
        self.encoder_q = encoders.query_encoder("encoder_q", stem_width, self.stages)
        self.kv_m = key_value_head(r4, key_dim, value_dim, "kv_m")
        self.kv_q = key_value_head(r4, key_dim, value_dim, "kv_q")
        self.memory = EpisodicGraphMemory(key_dim, value_dim, propagate_layers, graph_update, name="memory")
        self.memory.build()
        self.decoder = decoder(2 * value_dim, r3, r2, decoder_dim, self.dilations)
        self.built = True

    # --- memory write ------------------------------------------------------------------------------
    def memorize(self, frame, probs, training=False):
        b, h, w = ops.shape(frame)[0], ops.shape(frame)[1], ops.shape(frame)[2]
        objects = probs[..., 1:]  # (B, H, W, O)
        o = ops.shape(objects)[-1]
        others = ops.clip(ops.sum(objects, axis=-1, keepdims=True) - objects, 0.0, 1.0)
        per_object = ops.reshape(ops.transpose(objects, (0, 3, 1, 2)), (b * o, h, w, 1))
        per_others = ops.reshape(ops.transpose(others, (0, 3, 1, 2)), (b * o, h, w, 1))
        frames = ops.repeat(frame, o, axis=0)
        r4 = self.encoder_m([frames, per_object, per_others], training=training)["r4"]
        key, value = self.kv_m(r4, training=training)
        hh, ww = ops.shape(key)[1], ops.shape(key)[2]
        return (ops.reshape(key, (b, o, hh, ww, self.key_dim)), ops.reshape(value, (b, o, hh, ww, self.value_dim)))

    # --- segment one frame -------------------------------------------------------------------------
    def step(self, frame, memory_keys, memory_values, memory_mask, object_mask, training=False):
        b, o, t = ops.shape(memory_keys)[0], ops.shape(memory_keys)[1], ops.shape(memory_keys)[2]
        h, w = ops.shape(memory_keys)[3], ops.shape(memory_keys)[4]
        feats = self.encoder_q(frame, training=training)
        q_key, q_value = self.kv_q(feats["r4"], training=training)
        expand = lambda x: ops.repeat(x, o, axis=0)  # noqa: E731 - (B, ...) -> (B * O, ...), batch-major
        mem = self.memory(ops.reshape(memory_keys, (b * o, t, h, w, self.key_dim)),
                          ops.reshape(memory_values, (b * o, t, h, w, self.value_dim)),
                          expand(q_key), expand(q_value), expand(memory_mask))
        logits = self.decoder([mem, expand(feats["r3"]), expand(feats["r2"])], training=training)
        fg = ops.softmax(logits, axis=-1)[..., 1]  # (B * O, H, W)
        fg = ops.transpose(ops.reshape(fg, (b, o, ops.shape(fg)[1], ops.shape(fg)[2])), (0, 2, 3, 1))
        return soft_aggregate(fg, object_mask)

    # --- episodic training pass --------------------------------------------------------------------
    def object_mask(self, num_objects):
        slots = ops.arange(1, self.max_objects + 1, dtype="int32")
        return ops.cast(slots[None, :] <= ops.cast(num_objects, "int32")[:, None], "float32")

    def call(self, inputs, training=False):
        frames = ops.cast(inputs["frames"], "float32")
        ids = ops.cast(inputs["first_mask"], "int32")
        ids = ops.where(ids > self.max_objects, 0, ids)
        object_mask = self.object_mask(inputs["num_objects"])
        probs = ops.one_hot(ids, self.max_objects + 1)
        probs = ops.concatenate([probs[..., :1], probs[..., 1:] * object_mask[:, None, None, :]], axis=-1)
        keys, values, outputs = [], [], []
        length = frames.shape[1]
        for t in range(1, length):
            k, v = self.memorize(frames[:, t - 1], probs, training=training)
            keys.append(k)
            values.append(v)
            mk, mv = ops.stack(keys, axis=2), ops.stack(values, axis=2)
            memory_mask = ops.ones((ops.shape(frames)[0], t), dtype="bool")
            logits = self.step(frames[:, t], mk, mv, memory_mask, object_mask, training=training)
            outputs.append(logits)
            probs = ops.softmax(logits, axis=-1)
        return ops.stack(outputs, axis=1)

    def example_inputs(self, batch: int = 1, size: tuple[int, int] = (64, 64), length: int = 3) -> dict:
        """Random inputs of `call` (the registry sweep): `length` frames, objects 1 .. max_objects."""
        import numpy as np

        rng = np.random.default_rng(0)
        return {"frames": rng.uniform(0, 1, (batch, length, *size, 3)).astype("float32"),
                "first_mask": rng.integers(0, self.max_objects + 1, (batch, *size)).astype("int32"),
                "num_objects": np.full((batch,), self.max_objects, "int32")}

    def get_config(self):
        return {**super().get_config(), "stem_width": self.stem_width, "stages": self.stages,
                "key_dim": self.key_dim, "value_dim": self.value_dim, "decoder_dim": self.decoder_dim,
                "dilations": self.dilations, "propagate_layers": self.propagate_layers,
                "graph_update": self.graph_update, "max_objects": self.max_objects}
