"""MemDPC (Han, Xie, Zisserman, ECCV 2020; TengdaHan/MemDPC): memory-augmented dense predictive coding on video.

MemDpc is MemDPC_BD of memdpc/model.py: input clip (batch, num_seq, seq_len, H, W, 3) -> R-2D3D per block ->
temporal mean -> pre-ReLU features z (batch, num_seq, H/32, W/32, c) -> MemDpcHead -> forward / backward
predictions of the last pred_step blocks; compute_loss is the dense contrastive loss of both directions.
MemDpcClassifier is eval/model_lc.py LC: the same encoder -> ReLU -> temporal mean -> bidirectional ConvGRU
context (2 c) -> BatchNorm -> Dropout(0.5) -> Linear; train_what="last" freezes encoder and GRUs (linear probe).
"""

from __future__ import annotations

import keras
from keras import layers

from official.core.base_model import LossTermTrackers, ZooModel
from research.video.memdpc import losses as memdpc_losses
from research.video.memdpc.backbone import r2d3d
from research.video.memdpc.layers import BidirectionalContext, MemDpcHead, TemporalMean

LOSS_TERMS = ("loss_forward", "loss_backward", "top1_forward", "top1_backward", "top5_forward")


def _encoder(clip, depths, widths, seq_len, img_dim, relu):
    backbone = r2d3d(depths, widths, seq_len, img_dim, name="backbone")
    feats = layers.TimeDistributed(backbone, name="blocks")(clip)  # (B, N, ceil(SL / 4), H / 32, W / 32, c)
    if feats.shape[2] != -(-seq_len // 4):
        raise ValueError(f"seq_len {seq_len}: backbone gives {feats.shape[2]} frames, the official pool needs "
                         f"ceil(seq_len / 4) = {-(-seq_len // 4)} (field seq_len)")
    return TemporalMean(relu=relu, name="temporal_pool")(feats)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class MemDpc(LossTermTrackers, ZooModel):
    """MemDPC_BD pretext model (see the module docstring).

    Args:
        num_seq, seq_len: N blocks of SL frames (official 8 x 5).
        img_dim: input side (UCF101 128, K400 224).
        depths, widths: R-2D3D stages (R18 2-2-2-2, R34 3-4-6-3; widths 64-128-256-256).
        mem_size: memory slots (1024). pred_step: predicted blocks (3).
        gru_dropout: ConvGRU dropout per step (0.1). share_gru: agg_b = agg_f (test-only symmetry check).
    """

    def __init__(self, num_seq: int = 8, seq_len: int = 5, img_dim: int = 128, depths=(2, 2, 2, 2),
                 widths=(64, 128, 256, 256), mem_size: int = 1024, pred_step: int = 3, gru_dropout: float = 0.1,
                 share_gru: bool = False, **kwargs):
        clip = keras.Input((num_seq, seq_len, img_dim, img_dim, 3), name="clip")
        feats = _encoder(clip, depths, widths, seq_len, img_dim, relu=False)
        pred_f, pred_b, context = MemDpcHead(widths[-1], mem_size, pred_step, gru_dropout, share_gru,
                                             name="memdpc")(feats)
        outputs = {"features": feats, "pred_forward": pred_f, "pred_backward": pred_b, "context": context}
        super().__init__(inputs={"clip": clip}, outputs=outputs, **kwargs)
        self.track_loss_terms(LOSS_TERMS)

    def pretext_loss(self, y_pred):
        """(total, terms): forward + backward dense contrastive losses and their top-k accuracies."""
        gt_f, gt_b = memdpc_losses.memdpc_targets(y_pred["features"], self.constructor_args["pred_step"])
        lf, t1f, t5f = memdpc_losses.dense_contrastive(y_pred["pred_forward"], gt_f)
        lb, t1b, _ = memdpc_losses.dense_contrastive(y_pred["pred_backward"], gt_b)
        terms = {"loss_forward": lf, "loss_backward": lb, "top1_forward": t1f, "top1_backward": t1b,
                 "top5_forward": t5f}
        return lf + lb, terms

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Self-supervised: labels are ignored."""
        total, terms = self.pretext_loss(y_pred)
        return self.tracked_total(total, terms)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class MemDpcClassifier(ZooModel):
    """eval/model_lc.py LC: clip (batch, num_seq, seq_len, H, W, 3) -> logits (batch, num_classes); the 2 c
    embedding is the output of the "context" layer (`embedding_model`).

    Args: as MemDpc, plus num_classes (UCF101 101, HMDB51 51), dropout (0.5) and train_what:
    "ft" trains everything, "last" only final_bn + final_fc (the linear probe).
    """

    def __init__(self, num_classes: int = 101, num_seq: int = 5, seq_len: int = 5, img_dim: int = 128,
                 depths=(2, 2, 2, 2), widths=(64, 128, 256, 256), dropout: float = 0.5, gru_dropout: float = 0.1,
                 train_what: str = "ft", **kwargs):
        if train_what not in ("ft", "last"):
            raise ValueError(f"train_what must be 'ft' or 'last', got {train_what!r} (field train_what)")
        clip = keras.Input((num_seq, seq_len, img_dim, img_dim, 3), name="clip")
        feats = _encoder(clip, depths, widths, seq_len, img_dim, relu=True)
        context = BidirectionalContext(widths[-1], gru_dropout, name="context")(feats)
        x = layers.BatchNormalization(epsilon=1e-5, momentum=0.9, name="final_bn")(context)
        x = layers.Dropout(dropout, name="final_dropout")(x)
        logits = layers.Dense(num_classes, kernel_initializer=keras.initializers.Orthogonal(1.0), name="final_fc",
                              dtype="float32")(x)
        super().__init__(inputs={"clip": clip}, outputs=logits, **kwargs)
        if train_what == "last":
            self.get_layer("blocks").trainable = False
            self.get_layer("context").trainable = False


def embedding_model(model: keras.Model) -> keras.Model:
    """clip -> embedding: the classifier's bidirectional context (B, 2 c), or the pretext model's spatially
    averaged forward context c_t (B, c)."""
    if isinstance(model, MemDpcClassifier):
        return keras.Model(model.input, model.get_layer("context").output, name="memdpc_embedding")
    pooled = layers.GlobalAveragePooling2D(name="context_pool")(model.output["context"])
    return keras.Model(model.input, pooled, name="memdpc_embedding")


def transfer_pretext_weights(pretext: MemDpc, classifier: MemDpcClassifier) -> int:
    """eval/test.py's neq_load_customized: backbone and agg_f / agg_b of a pretext model into the classifier."""
    classifier.get_layer("blocks").set_weights(pretext.get_layer("blocks").get_weights())
    head, ctx = pretext.get_layer("memdpc"), classifier.get_layer("context")
    ctx.agg_f.set_weights(head.agg_f.get_weights())
    ctx.agg_b.set_weights(head.agg_b.get_weights())
    return len(pretext.get_layer("blocks").weights) + len(head.agg_f.weights) + len(head.agg_b.weights)
