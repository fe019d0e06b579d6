"""`training.method: aher`: AherNet's objectives on one batch of untrimmed videos + moments.

Terms (losses.py), as the repo's iteration runs them (aher_k600_train.py):
- untrimmed localisation through the transferred classifier (ActivityNet videos): detection losses;
- moment classification (Kinetics moments): CE of the pooled per-layer classifiers;
- synthetic contextual moments: the generators put context around a moment (model.synthesize) and the
  detector localises it (detection losses, the moment's label);
- adversarial: the "_adv" heads tell real background anchor cells (untrimmed) from generated ones.
The repo steps five Adam optimisers and the D/G pair in turn; here one optimizer step applies, per
variable group (the repo's name-based partition), the gradient of that group's objective:
- "_adv" heads: d_loss (on stop-gradient features);
- context generators: synthetic localisation + g_loss;
- everything else (1-D backbone, heads, classifiers, transfer layers): untrimmed + moment + synthetic
  losses + g_loss (the repo's "g_" variables include the backbone).
The custom step is for the TensorFlow backend (tools.train); `aher_terms` is backend-agnostic.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops
from keras.src.losses import loss as loss_module  # Keras' distribution scaling of losses

from official.core.registry import register_training_method
from official.ops import temporal_segments as ts
from official.training.method import TrainingMethod
from research.video.ahernet import losses, task  # noqa: F401  (task: registers temporal_detection)
from research.video.ahernet.config import AherTrainingConfig

TERMS = ("loss", "proposal", "localisation", "classification", "iou", "moment", "synthetic", "d_loss", "g_loss")


def variable_groups(network) -> tuple[list, list, list]:
    """(discriminator, generator, detector) trainable variables of an AherNet."""
    d_ids = {id(v) for layer in network.adversary for v in layer.trainable_variables}
    g_ids = {id(v) for pair in network.context for layer in pair for v in layer.trainable_variables}
    d, g, rest = [], [], []
    for v in network.trainable_variables:
        (d if id(v) in d_ids else g if id(v) in g_ids else rest).append(v)
    return d, g, rest


class AherTrainer(keras.Model):
    """Wraps an AherNet; `inference_model` is the network (what is checkpointed, evaluated, exported)."""

    def __init__(self, network: keras.Model, task_cfg, train_cfg: AherTrainingConfig, **kwargs):
        super().__init__(**kwargs)
        self.network, self.task_cfg, self.train_cfg = network, task_cfg, train_cfg
        self.trackers = {k: keras.metrics.Mean(name=k) for k in TERMS}

    @property
    def inference_model(self) -> keras.Model:
        return self.network

    def call(self, inputs, training=False):
        return self.network(inputs["features"], training=training)

    def _detection(self, outputs, segments, valid, labels) -> dict:
        net, t = self.network, self.task_cfg
        match = ts.match_anchors(segments, valid, net.anchor_centers, net.anchor_widths, net.temporal_length)
        terms = losses.detection_losses(outputs, match, labels, t.match_threshold, t.neg_threshold, t.negative_ratio,
                                        t.cls_weight, t.iou_weight)
        return {**terms, "match_iou": match["iou"]}

    def aher_terms(self, x, y, training: bool = True) -> dict:
        """Every loss term of one batch (backend-agnostic); "main" is what the detector group minimises."""
        net, c = self.network, self.train_cfg
        maps = net.feature_maps(x["features"], training)
        untrimmed = self._detection(net.heads(maps), y["segments"], y["labels"] >= 0, y["video_label"])
        moment = losses.moment_classification_loss(net.moment_logits(net.feature_maps(x["moments"], training)),
                                                   x["moment_labels"])
        synth, synth_gt = net.synthesize(x["moments"], x["ratio"], x["position"])
        synth_maps = net.feature_maps(synth, training)
        batch = ops.shape(synth_gt)[0]
        synthetic = self._detection(net.heads(synth_maps), synth_gt[:, None, :], ops.ones((batch, 1), "bool"),
                                    x["moment_labels"])
        real_logits = net.discriminate([ops.stop_gradient(m) for m in maps])
        fake_d_logits = net.discriminate([ops.stop_gradient(m) for m in synth_maps])
        fake_g_logits = net.discriminate(synth_maps)
        d = losses.adversarial_losses(real_logits, fake_d_logits, untrimmed["match_iou"], synthetic["match_iou"],
                                      c.dis_weight, c.gen_weight)
        g = losses.adversarial_losses(real_logits, fake_g_logits, untrimmed["match_iou"], synthetic["match_iou"],
                                      c.dis_weight, c.gen_weight)
        main = untrimmed["total"] + c.moment_weight * moment + c.synthetic_weight * synthetic["total"] + g["g_loss"]
        return {"loss": main, "proposal": untrimmed["proposal"], "localisation": untrimmed["localisation"],
                "classification": untrimmed["classification"], "iou": untrimmed["iou"], "moment": moment,
                "synthetic": synthetic["total"], "d_loss": d["d_loss"], "g_loss": g["g_loss"]}

    def train_step(self, data):
        x, y = data[0], data[1]
        d_vars, g_vars, rest = variable_groups(self.network)
        with tf.GradientTape(persistent=True) as tape:
            terms = self.aher_terms(x, y, training=True)
            main = terms["loss"]
            if self.network.losses:
                main = main + ops.sum(ops.stack(self.network.losses))
            main = self.optimizer.scale_loss(loss_module.scale_loss_for_distribution(main))
            d_loss = self.optimizer.scale_loss(loss_module.scale_loss_for_distribution(terms["d_loss"]))
        main_grads = tape.gradient(main, g_vars + rest)
        d_grads = tape.gradient(d_loss, d_vars)
        del tape
        self.optimizer.apply(list(main_grads) + list(d_grads), g_vars + rest + d_vars)
        for k, tracker in self.trackers.items():
            tracker.update_state(terms[k])
        return {k: t.result() for k, t in self.trackers.items()}

    def test_step(self, data):
        terms = self.aher_terms(data[0], data[1], training=False)
        for k, tracker in self.trackers.items():
            tracker.update_state(terms[k])
        return {k: t.result() for k, t in self.trackers.items()}

    @property
    def metrics(self):
        return list(self.trackers.values())


@register_training_method("aher")
class AherTraining(TrainingMethod):
    config_cls = AherTrainingConfig

    def wrap(self, model: keras.Model) -> keras.Model:
        return AherTrainer(model, self.config.task, self.config.training)
