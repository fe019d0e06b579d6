"""AherNet (Long et al., ECCV 2020): a one-stage 1-D anchor detector on clip features whose untrimmed-video
classifier is predicted from the moment classifier by a weight transfer function, plus the context
generators and background discriminator of its adversarial moment synthesis.

Facts from the official TF 1.12 code (FuchenUSTC/AherNet, aher_anet.py `aher_net_pool_cls`,
`aher_mutibox_*_layer_anet`, aher_adv.py `Context_Train`, `Context_Back_Discriminator`); spec card
../../../../shared/specs/ahernet.md "Method":
- features (batch, T, D) -> conv1d(2048, k3) -> conv1d(1024, k3) -> max-pool(k3, s2), then one
  conv1d(k3, stride 2) per anchor layer with widths 256, 256, 512, 512, 1024, 1024, 2048, 2048
  (T = 512: lengths 128 ... 1); tf.contrib conv1d = ReLU, SAME padding, biases;
- per anchor layer (C channels, A = 3 anchors per position): proposal conv(k3, 2A), localisation
  conv(k3, 2A), IoU conv(k3, A), discriminator "_adv" conv(k3, A), and the moment classifier: average
  pool over the whole layer, 1x1 conv C -> K (here a Dense; its kernel (C, K) is the W_cls read out);
- weight transfer: W_loc = T(W_cls), b_loc = T_b(b_cls); T = two fully connected C -> C layers with
  identity initialisation and ELU applied to each row (class) of W_cls, T_b the same 1 -> 1 on the bias;
  the untrimmed classifier is W_loc as a 1x1 conv at every position (no stop-gradient: W_cls also learns
  from the untrimmed loss);
- context generators (before / after): conv1d(1024, k3) -> conv1d(D, k3, stride 2) on a moment.
`call(features)` returns the detection heads on an untrimmed sequence; `moment_logits`, `discriminate`
and `synthesize` serve the training method (method.py), `detect` the exporter and evaluator.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from official.core.base_model import ZooSubclassModel
from official.ops import temporal_segments as ts

ANCHOR_CHANNELS = (256, 256, 512, 512, 1024, 1024, 2048, 2048)  # aher_net_pool_cls g_conv_a1..a8
ANCHOR_SCALES = (1.0, 1.260, 1.587)  # anchor_sizes x (1, anchor_ratios): 2^0, 2^(1/3), 2^(2/3)


def _conv(channels: int, kernel: int, strides: int = 1, relu: bool = True, name: str | None = None):
    return layers.Conv1D(channels, kernel, strides=strides, padding="same", activation="relu" if relu else None,
                         name=name)


def layer_lengths(temporal_length: int, num_layers: int) -> list[int]:
    """Anchor-layer lengths: T / 2 after the stem's pool, then halved (SAME padding: ceil) per layer."""
    lengths, n = [], -(-temporal_length // 2)
    for _ in range(num_layers):
        n = -(-n // 2)
        lengths.append(n)
    return lengths


@keras.saving.register_keras_serializable(package="eccv20zoo")
class AherNet(ZooSubclassModel):
    """Untrimmed features (batch, T, D) -> per-anchor proposal logits, offsets, IoU logits and per-position
    transferred class logits (see the module docstring)."""

    def __init__(
        self,
        num_classes: int = 600,
        feature_dim: int = 2048,
        temporal_length: int = 512,
        stem_channels: tuple[int, ...] = (2048, 1024),
        anchor_channels: tuple[int, ...] = ANCHOR_CHANNELS,
        anchor_scales: tuple[float, ...] = ANCHOR_SCALES,
        context_channels: int = 1024,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.feature_dim = feature_dim
        self.temporal_length = temporal_length
        self.stem_channels = tuple(stem_channels)
        self.anchor_channels = tuple(anchor_channels)
        self.anchor_scales = tuple(anchor_scales)
        self.context_channels = context_channels
        a = len(self.anchor_scales)
        self.lengths = layer_lengths(temporal_length, len(self.anchor_channels))
        steps = [temporal_length / n for n in self.lengths]
        self.anchor_centers, self.anchor_widths = ts.multiscale_anchors(self.lengths, steps, self.anchor_scales)
        self.stem = [_conv(c, 3, name=f"g_conv{i + 1}") for i, c in enumerate(self.stem_channels)]
        self.pool = layers.MaxPooling1D(3, 2, padding="same", name="pool2")
        self.anchor_convs = [_conv(c, 3, 2, name=f"g_conv_a{i + 1}") for i, c in enumerate(self.anchor_channels)]
        self.classifiers, self.proposal, self.localisation, self.iou, self.adversary = [], [], [], [], []
        self.transfer_w, self.transfer_b = [], []
        for i, c in enumerate(self.anchor_channels):
            self.classifiers.append(layers.Dense(num_classes, name=f"conv_a{i + 1}_action"))
            self.proposal.append(_conv(2 * a, 3, relu=False, name=f"conv_a{i + 1}_prop"))
            self.localisation.append(_conv(2 * a, 3, relu=False, name=f"conv_a{i + 1}_loc"))
            self.iou.append(_conv(a, 3, relu=False, name=f"conv_a{i + 1}_iou"))
            self.adversary.append(_conv(a, 3, relu=False, name=f"conv_a{i + 1}_adv"))
            self.transfer_w.append([layers.Dense(c, activation="elu", kernel_initializer="identity",
                                                 name=f"conv_a{i + 1}_fully{j}") for j in (1, 2)])
            self.transfer_b.append([layers.Dense(1, activation="elu", kernel_initializer="identity",
                                                 name=f"conv_a{i + 1}_fully{j}") for j in (3, 4)])
        self.context = [[_conv(context_channels, 3, name=f"g_conv_{p}1"), _conv(feature_dim, 3, 2, name=f"g_conv_{p}2")]
                        for p in ("s", "e")]
        self.build((None, temporal_length, feature_dim))
        # layers kept in lists: named in checkpoints through ZooSubclassModel's `_tracked` (set last)
        self._tracked = ("stem", "anchor_convs", "classifiers", "proposal", "localisation", "iou", "adversary",
                         "transfer_w", "transfer_b", "context")

    # --- network pieces ---------------------------------------------------------------------------
    def build(self, input_shape):
        x = keras.KerasTensor(tuple(input_shape))
        maps = self.feature_maps(x)
        for i, m in enumerate(maps):
            self.classifiers[i].build((None, m.shape[-1]))
            for head in (self.proposal[i], self.localisation[i], self.iou[i], self.adversary[i]):
                head.build(m.shape)
            self.transfer_w[i][0].build((None, m.shape[-1]))
            self.transfer_w[i][1].build((None, m.shape[-1]))
            self.transfer_b[i][0].build((None, 1))
            self.transfer_b[i][1].build((None, 1))
        moment = (None, None, self.feature_dim)
        for first, second in self.context:
            first.build(moment)
            second.build((None, None, self.context_channels))
        self.built = True

    def feature_maps(self, features, training=None) -> list:
        """(B, T, D) -> the anchor layers' maps [(B, T/4, 256), ..., (B, 1, 2048)]."""
        x = features
        for conv in self.stem:
            x = conv(x)
        x = self.pool(x)
        maps = []
        for conv in self.anchor_convs:
            x = conv(x)
            maps.append(x)
        return maps

    def transferred_classifier(self, i: int):
        """W_loc (C, K), b_loc (K,) = T(W_cls), T_b(b_cls) of anchor layer i (rows of W_cls = classes)."""
        cls = self.classifiers[i]
        w = ops.transpose(cls.kernel)  # (K, C): one row per class
        for dense in self.transfer_w[i]:
            w = dense(w)
        b = ops.expand_dims(cls.bias, -1)  # (K, 1)
        for dense in self.transfer_b[i]:
            b = dense(b)
        return ops.transpose(w), ops.squeeze(b, -1)

    def moment_logits(self, maps) -> object:
        """Moment classifier on every layer: (B, L, K) logits of the average-pooled maps."""
        return ops.stack([cls(ops.mean(m, axis=1)) for cls, m in zip(self.classifiers, maps, strict=True)], axis=1)

    def heads(self, maps) -> dict:
        """Detection heads over all anchor layers, flattened layer-major / position / anchor."""
        a = len(self.anchor_scales)
        prop, loc, iou, cls = [], [], [], []
        for i, m in enumerate(maps):
            n = m.shape[1]
            prop.append(ops.reshape(self.proposal[i](m), (-1, n * a, 2)))
            loc.append(ops.reshape(self.localisation[i](m), (-1, n * a, 2)))
            iou.append(ops.reshape(self.iou[i](m), (-1, n * a)))
            w, b = self.transferred_classifier(i)
            cls.append(ops.matmul(m, w) + b)  # the transferred 1x1 conv at every position
        return {
            "proposal_logits": ops.concatenate(prop, axis=1),
            "offsets": ops.concatenate(loc, axis=1),
            "iou_logits": ops.concatenate(iou, axis=1),
            "class_logits": ops.concatenate(cls, axis=1),  # (B, positions, K)
        }

    def discriminate(self, maps):
        """Background discriminator logits per anchor (B, A) (the "_adv" heads)."""
        a = len(self.anchor_scales)
        return ops.concatenate([ops.reshape(d(m), (-1, m.shape[1] * a)) for d, m in zip(self.adversary, maps, strict=True)], 1)

    def call(self, features, training=None):
        return self.heads(self.feature_maps(features, training))

    # --- contextual moment synthesis --------------------------------------------------------------
    def synthesize(self, moments, ratio, position):
        """A synthetic untrimmed sequence (B, T, D) and its ground truth (B, 2) in steps.

        The moment (B, Tm, D) fills [a, a + r) of the T steps (r = ratio, a = position * (1 - r), both
        (B,) in [0, 1]); the "before" generator's output fills [0, a), the "after" one's [a + r, 1), each
        resampled to its span by nearest-neighbour gathers (static shapes, XLA-friendly).
        """
        before = moments
        for conv in self.context[0]:
            before = conv(before)
        after = moments
        for conv in self.context[1]:
            after = conv(after)
        tm, tc = ops.shape(moments)[1], ops.shape(before)[1]
        t = self.temporal_length
        ratio = ops.cast(ratio, "float32")[:, None]
        start = ops.cast(position, "float32")[:, None] * (1.0 - ratio)
        u = (ops.arange(t, dtype="float32")[None, :] + 0.5) / t  # (1, T) step centers in [0, 1]
        in_moment = (u >= start) & (u < start + ratio)
        is_before = u < start
        frac_m = (u - start) / ops.maximum(ratio, 1e-6)
        frac_b = u / ops.maximum(start, 1e-6)
        frac_a = (u - start - ratio) / ops.maximum(1.0 - start - ratio, 1e-6)

        def index(frac, n):
            return ops.clip(ops.cast(ops.floor(frac * ops.cast(n, "float32")), "int32"), 0, n - 1)

        # one source = [before ; moment ; after] along time
        source = ops.concatenate([before, moments, after], axis=1)
        idx = ops.where(in_moment, tc + index(frac_m, tm), ops.where(is_before, index(frac_b, tc),
                                                                   tc + tm + index(frac_a, tc)))
        out = ops.take_along_axis(source, idx[..., None], axis=1)
        gt = ops.concatenate([start, start + ratio], axis=-1) * t
        return out, gt

    # --- inference --------------------------------------------------------------------------------
    def detect(self, features, duration, max_detections: int = 100, nms_threshold: float = 0.9,
               use_class_scores: bool = True) -> dict:
        """Features (B, T, D) + duration (B,) seconds -> up to `max_detections` segments (s) after 1-D NMS.

        Score = proposal probability x the best class probability at the anchor's position; NMS per class.
        """
        out = self(features, training=False)
        a = len(self.anchor_scales)
        prop = ops.softmax(out["proposal_logits"], axis=-1)[..., 1]
        probs = ops.repeat(ops.softmax(out["class_logits"], axis=-1), a, axis=1)  # (B, A, K)
        classes = ops.cast(ops.argmax(probs, axis=-1), "int32")
        scores = prop * ops.max(probs, axis=-1) if use_class_scores else prop
        segs = ts.decode_segments(out["offsets"], self.anchor_centers, self.anchor_widths)
        duration = ops.cast(ops.reshape(duration, (-1, 1, 1)), "float32")
        segs = ops.clip(segs / float(self.temporal_length) * duration, 0.0, duration)
        picked = ts.segment_nms(segs, scores, max_detections, iou_threshold=nms_threshold, classes=classes)
        return {"segments": picked["segments"], "scores": picked["scores"], "classes": picked["classes"],
                "num_detections": picked["num_detections"]}

    @property
    def num_anchors(self) -> int:
        return int(np.asarray(self.anchor_centers).shape[0])

    def example_inputs(self, batch: int = 1):
        """Random features of the model's input shape (registry sweep)."""
        return np.random.default_rng(0).normal(size=(batch, self.temporal_length, self.feature_dim)).astype("float32")
