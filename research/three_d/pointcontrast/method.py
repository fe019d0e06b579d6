"""`training.method: pointcontrast`: the backbone run on both views of each pair, under PointInfoNCE or
the hardest-contrastive loss (losses.py); the backbone is what is checkpointed, evaluated and exported.

The batch's voxels are pooled across pairs (as the official collate concatenates them): queries, keys
and negatives may come from any pair of the replica's batch, matches never cross pairs. Both views go
through the network as one batch of 2 x B voxel sets (so B <= 7 with coord_bits 9). The custom step
is for the TensorFlow backend (tools.train); the network and losses stay backend-agnostic.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops
from keras.src.losses import loss as loss_module  # Keras' distribution scaling of losses

from official.core.registry import register_training_method
from official.training.method import TrainingMethod
from research.three_d.pointcontrast import losses
from research.three_d.pointcontrast.config import PointContrastTrainingConfig
from research.three_d.pointcontrast.pairs import network_inputs


def contrastive_terms(cfg: PointContrastTrainingConfig, f0, f1, matches, mask0, mask1, seed) -> dict:
    """The configured loss's terms on batch features f0, f1 (B, V, C) and matches (B, V, K)."""
    batch, channels = f0.shape[0], f0.shape[-1]
    flat0, flat1 = ops.reshape(f0, (-1, channels)), ops.reshape(f1, (-1, channels))
    m = losses.flat_matches(matches)
    valid0, valid1 = ops.reshape(mask0, (-1,)) > 0.5, ops.reshape(mask1, (-1,)) > 0.5
    if cfg.loss == "infonce":
        q, k, ok = losses.sample_infonce_pairs(m, valid0, cfg.npos, seed)
        return {"loss": losses.point_info_nce(flat0, flat1, q, k, ok, cfg.nce_t)}
    if cfg.loss == "hardest_contrastive":
        return losses.hardest_contrastive(flat0, flat1, m, valid0, valid1, cfg.num_pos_per_batch * batch,
                                          cfg.num_hn_samples_per_batch * batch, cfg.pos_thresh, cfg.neg_thresh, seed)
    raise ValueError(f"training.loss: expected infonce or hardest_contrastive, got {cfg.loss!r}")


class PointContrastTrainer(keras.Model):
    """The backbone on two views; `inference_model` is the backbone."""

    def __init__(self, network: keras.Model, cfg: PointContrastTrainingConfig, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.network, self.cfg = network, cfg
        self.seed_generator = keras.random.SeedGenerator(seed)
        names = ("loss", "pos_loss", "neg_loss") if cfg.loss == "hardest_contrastive" else ("loss",)
        self.trackers = {k: keras.metrics.Mean(name=k) for k in names}

    @property
    def inference_model(self) -> keras.Model:
        return self.network

    def call(self, inputs, training=False):
        # both views in one pass (a batch of 2B voxel sets): one traced network instead of two; BatchNorm
        # statistics pool both views (the official runs the views one after the other)
        v0, v1 = network_inputs(inputs, 0), network_inputs(inputs, 1)
        joint = {k: ops.concatenate([v0[k], v1[k]], axis=0) for k in v0}
        f0, f1 = ops.split(self.network(joint, training=training), 2, axis=0)
        return {"f0": f0, "f1": f1}

    def compute_terms(self, x, y, y_pred) -> dict:
        return contrastive_terms(self.cfg, y_pred["f0"], y_pred["f1"], y["matches"], x["mask0"], x["mask1"],
                                 self.seed_generator)

    def train_step(self, data):
        x, y = data[0], data[1]
        variables = self.network.trainable_variables
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            terms = self.compute_terms(x, y, y_pred)
            total = terms["loss"]
            if self.losses:  # the trainer's L2 weight decay (variable regularizers)
                total = total + ops.sum(ops.stack(self.losses))
            scaled = self.optimizer.scale_loss(loss_module.scale_loss_for_distribution(total))
        grads = tape.gradient(scaled, variables)
        self.optimizer.apply(grads, variables)
        for k, tracker in self.trackers.items():
            tracker.update_state(terms[k])
        return {k: t.result() for k, t in self.trackers.items()}

    def test_step(self, data):
        x, y = data[0], data[1]
        terms = self.compute_terms(x, y, self(x, training=False))
        for k, tracker in self.trackers.items():
            tracker.update_state(terms[k])
        return {k: t.result() for k, t in self.trackers.items()}

    @property
    def metrics(self):
        return list(self.trackers.values())


@register_training_method("pointcontrast")
class PointContrastTraining(TrainingMethod):
    config_cls = PointContrastTrainingConfig

    def wrap(self, model: keras.Model) -> keras.Model:
        return PointContrastTrainer(model, self.config.training, self.config.runtime.seed)
