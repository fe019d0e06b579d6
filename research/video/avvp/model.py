"""HAN, the MMIL_Net of YapengTian/AVVP-ECCV20 (Tian et al., ECCV 2020): LLP features -> audio / visual events.

Inputs (LLP features, spec card avvp.md "Task"):
    audio (B, T, 128) VGGish, video_2d (B, T * 8, 2048) ResNet-152 at 8 fps, video_3d (B, T, 512) R(2+1)D-18.
Graph (nets/net_audiovisual.py MMIL_Net.forward):
    x_a = fc_a(audio); x_v = fc_fusion([avgpool_8(fc_v(video_2d)), fc_st(video_3d)]);
    x_a, x_v = HAN(x_a, x_v), HAN(x_v, x_a) with ONE shared HybridAttention layer;
    x = stack([x_a, x_v], axis=2) (B, T, 2, d); frame_prob = sigmoid(fc_prob(x)) (B, T, 2, C);
    attentive MMIL pooling with fc_frame_att / fc_av_att -> global_prob, a_prob, v_prob (B, C).
Only the modules used in forward are built: the official state dict's audio_encoder, visual_encoder,
cmt_encoder and hat_encoder.norm1/norm2 are never called (convert.py skips them by name).
Training: `compute_loss` is losses.han_loss on video-level labels (B, C).
"""

from __future__ import annotations

import keras
from keras import layers

from official.core.base_model import LossTermTrackers, ZooModel
from research.video.avvp import losses as han_losses
from research.video.avvp.layers import HybridAttention, MmilPooling


@keras.saving.register_keras_serializable(package="eccv20zoo")
class HanNet(LossTermTrackers, ZooModel):
    """The hybrid attention network with attentive MMIL pooling (see the module docstring).

    Args:
        num_classes: C event classes (LLP: 25).
        num_segments: T one-second segments (LLP: 10).
        frames_per_segment: 2D frames per segment averaged after fc_v (LLP: 8 fps).
        audio_dim, video_2d_dim, video_3d_dim: feature widths (VGGish 128, ResNet-152 2048, R(2+1)D 512).
        d_model, num_heads, ffn_dim, dropout: the HAN layer (official: 512, 1, 512, 0.1).
        audio_smoothing, visual_smoothing: label-smoothing eps of the audio / visual MIL terms (1.0, 0.9).
    """

    def __init__(
        self,
        num_classes: int = 25,
        num_segments: int = 10,
        frames_per_segment: int = 8,
        audio_dim: int = 128,
        video_2d_dim: int = 2048,
        video_3d_dim: int = 512,
        d_model: int = 512,
        num_heads: int = 1,
        ffn_dim: int = 512,
        dropout: float = 0.1,
        audio_smoothing: float = 1.0,
        visual_smoothing: float = 0.9,
        **kwargs,
    ):
        t, d = num_segments, d_model
        audio = keras.Input((t, audio_dim), name="audio")
        video_2d = keras.Input((t * frames_per_segment, video_2d_dim), name="video_2d")
        video_3d = keras.Input((t, video_3d_dim), name="video_3d")
        x_a = layers.Dense(d, name="fc_a")(audio)
        vid_s = layers.Dense(d, name="fc_v")(video_2d)
        vid_s = layers.AveragePooling1D(frames_per_segment, frames_per_segment, name="frame_pool")(vid_s)
        vid_st = layers.Dense(d, name="fc_st")(video_3d)
        x_v = layers.Dense(d, name="fc_fusion")(layers.Concatenate(name="visual_concat")([vid_s, vid_st]))
        han = HybridAttention(d, num_heads, ffn_dim, dropout, name="han")
        a_out, v_out = han(x_a, x_v), han(x_v, x_a)  # one layer, shared by both modalities
        x = layers.Concatenate(axis=2, name="modalities")(
            [layers.Reshape((t, 1, d), name="audio_axis")(a_out), layers.Reshape((t, 1, d), name="visual_axis")(v_out)])
        frame_prob = layers.Dense(num_classes, activation="sigmoid", name="fc_prob", dtype="float32")(x)
        frame_att = layers.Dense(num_classes, name="fc_frame_att", dtype="float32")(x)
        av_att = layers.Dense(num_classes, name="fc_av_att", dtype="float32")(x)
        global_prob, a_prob, v_prob = MmilPooling(name="mmil", dtype="float32")(frame_prob, frame_att, av_att)
        outputs = {"global_prob": global_prob, "a_prob": a_prob, "v_prob": v_prob, "frame_prob": frame_prob}
        super().__init__(inputs={"audio": audio, "video_2d": video_2d, "video_3d": video_3d}, outputs=outputs, **kwargs)
        self.track_loss_terms(han_losses.LOSS_TERMS)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """losses.han_loss against video-level labels y (B, C) or the eval dict's "label" (+ any layer losses)."""
        if isinstance(y, dict):
            y = y["label"]
        a = self.constructor_args
        total, terms = han_losses.han_loss(y, y_pred, a["audio_smoothing"], a["visual_smoothing"])
        return self.tracked_total(total, terms)
