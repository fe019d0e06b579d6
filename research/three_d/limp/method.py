"""`training.method: limp`: LIMP's training step (train_FAUST.py's inner step) as a trainer wrapper for tools.train.

One step: the augmented reconstruction batch (encoder BN in training mode, z sampled) gives
L_rec = metric loss + kl_weight * KL; the step-driven stage weights (losses.stage_weights on the optimizer's
iteration counter, so a resumed run resumes its stage) switch on, per pair of training shapes drawn by the
task's input pipeline (encoder BN in inference mode, z = mu):
- interpolation (all dims, a ~ U(0, 1)): local Euclidean term + heat-geodesic term vs the mixed end metrics;
- intra-subject (style dims only, two poses of one subject): relative Euclidean distortion to shape A;
- inter-subject (pose dims only, two subjects): heat-geodesic distortion to shape A's metric.
total = L_rec + 0.1 L_interp + 10 (L_intra + L_inter). The geodesic terms sit in `tf.cond` so that stages
without them skip the dense solves; under XLA they are always evaluated and weighted (see `compile`). The training shapes' vertices and
geodesic matrices are non-trainable variables of the wrapper (FAUST's 80 x 2,500^2 matrices exceed a graph
constant's 2 GB); they are not checkpointed: the network (`inference_model`) is.
The step is for the TensorFlow backend (tools.train); the network and the losses stay backend-agnostic.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops
from keras.src.losses import loss as loss_module  # Keras' distribution scaling of losses

from official.core.registry import register_training_method
from official.training.method import TrainingMethod
from research.three_d.limp import losses
from research.three_d.limp.config import LimpTrainingConfig

TERMS = ("loss", "rec", "kl", "interp", "intra", "inter")


def weighted_term(weight, term, skip_when_zero: bool = True):
    """weight * term(); with skip_when_zero, term() runs only while weight > 0 (a tf.cond: not for XLA)."""
    if skip_when_zero:
        return tf.cond(weight > 0, lambda: weight * term(), lambda: tf.constant(0.0))
    return weight * term()


class LimpVaeTrainer(keras.Model):
    """The LIMP VAE under its metric-preservation losses; `inference_model` is the network.

    inputs (training): dict(points (B, N, 3) augmented shapes, interp_pair / intra_pair / inter_pair
    (P, 2) int32 indices into the training shapes, alphas (P, 3) mixing weights of the three pair kinds).
    """

    def __init__(self, network, faces, vertices, geodesics, cfg: LimpTrainingConfig, **kwargs):
        super().__init__(**kwargs)
        self.network = network
        self.faces = np.asarray(faces, np.int32)
        self.shape_vertices = keras.Variable(np.asarray(vertices, np.float32), trainable=False, name="shape_vertices")
        self.shape_geodesics = keras.Variable(np.asarray(geodesics, np.float32), trainable=False,
                                              name="shape_geodesics")
        self.kl_weight = float(cfg.kl_weight)
        self.steps_per_iteration = int(cfg.steps_per_iteration)
        self.stage_starts = tuple(int(s) for s in cfg.stage_starts)
        if len(self.stage_starts) != 3:
            from official.core.config import ConfigError

            raise ConfigError(f"training.stage_starts: want 3 outer iterations (stages 2-4), got {cfg.stage_starts}")
        self.heat_t = float(cfg.heat_t) or None
        self.trackers = {name: keras.metrics.Mean(name=name) for name in TERMS}

    @property
    def inference_model(self):
        return self.network

    def call(self, inputs, training=False):
        return self.network(inputs["points"], training=training)

    # --- the losses of one step ------------------------------------------------------------
    def _decode_pairs(self, inputs):
        """Decoded interpolants of the three pair kinds, (P, N, 3) each, by one encoder and one decoder call:
        interp mixes all dims, intra the style dims (pose of A kept), inter the pose dims (style of A kept)."""
        kinds = (("interp_pair", "all"), ("intra_pair", "style"), ("inter_pair", "pose"))
        pairs = [inputs[key] for key, _ in kinds]
        count = pairs[0].shape[0]
        index = ops.concatenate([ops.reshape(ops.transpose(p), (-1,)) for p in pairs], axis=0)  # A's, B's per kind
        z = self.network.encoder(ops.take(self.shape_vertices, index, axis=0), training=False)[0]
        z_t = []
        for k, (_, part) in enumerate(kinds):
            z_a, z_b = z[2 * k * count : (2 * k + 1) * count], z[(2 * k + 1) * count : (2 * k + 2) * count]
            z_t.append(losses.interpolate(z_a, z_b, inputs["alphas"][:, k : k + 1], self.network.pose_size, part))
        x = self.network.decoder(ops.concatenate(z_t, axis=0), training=False)
        return x[:count], x[count : 2 * count], x[2 * count :]

    def _geodesic(self, target, points):
        return losses.geodesic_loss(target, points, self.faces, self.heat_t)

    def compile(self, *args, jit_compile=False, **kwargs):
        super().compile(*args, jit_compile=jit_compile, **kwargs)
        # XLA recompiles a step holding a data-dependent tf.cond around the differentiated solves at every
        # call (measured on CPU: 15-70 s per step vs one compile without it), so a compiled step always
        # evaluates the geodesic terms and weights them by the stage (0 before stage 3).
        self.skip_idle_geodesics = not self.jit_compile

    def _when_weighted(self, weight, term):
        return weighted_term(weight, term, getattr(self, "skip_idle_geodesics", True))

    def step_losses(self, inputs):
        """dict of the weighted terms and the total for one batch (inside the caller's tape)."""
        points = inputs["points"]
        w = losses.stage_weights(self.optimizer.iterations, self.steps_per_iteration, self.stage_starts)
        rec, mu, logvar = self.network(points, training=True)
        kl = losses.kl_loss(mu, logvar)
        rec_loss = losses.reconstruction_metric_loss(points, rec) + self.kl_weight * kl

        x_t, x_intra, x_inter = self._decode_pairs(inputs)
        pair, a = inputs["interp_pair"], inputs["alphas"][:, 0, None, None]
        dg = ops.take(self.shape_geodesics, pair, axis=0)  # (P, 2, N, N)
        de = [losses.euclidean_distances(ops.take(self.shape_vertices, pair[:, k], axis=0)) for k in (0, 1)]
        dg_t = a * dg[:, 0] + (1 - a) * dg[:, 1]
        de_t = a * de[0] + (1 - a) * de[1]
        interp = w["interp_euc"] * losses.local_euclidean_loss(dg_t, de_t, x_t)
        interp += self._when_weighted(w["interp_geo"], lambda: self._geodesic(dg_t, x_t))

        de_a = losses.euclidean_distances(ops.take(self.shape_vertices, inputs["intra_pair"][:, 0], axis=0))
        intra = w["intra_euc"] * losses.relative_euclidean_loss(de_a, x_intra)

        dg_a = ops.take(self.shape_geodesics, inputs["inter_pair"][:, 0], axis=0)
        inter = self._when_weighted(w["inter_geo"], lambda: self._geodesic(dg_a, x_inter))
        total = losses.total_loss(rec_loss, interp, intra, inter)
        return dict(loss=total, rec=rec_loss, kl=kl, interp=interp, intra=intra, inter=inter)

    def train_step(self, data):
        inputs = data[0]
        variables = self.network.trainable_variables
        with tf.GradientTape() as tape:
            terms = self.step_losses(inputs)
            loss = terms["loss"]
            if self.network.losses:  # the trainer's L2 weight decay (none in the authors' recipe)
                loss = loss + ops.sum(ops.stack(self.network.losses))
            scaled = self.optimizer.scale_loss(loss_module.scale_loss_for_distribution(loss))
        self.optimizer.apply(tape.gradient(scaled, variables), variables)
        for name, value in terms.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def test_step(self, data):
        """Validation inside fit: the reconstruction metric loss of z = mu (the task's evaluate adds the rest)."""
        points = data[0]["points"]
        rec = self.network(points, training=False)[0]
        self.trackers["rec"].update_state(losses.reconstruction_metric_loss(points, rec))
        return {"rec": self.trackers["rec"].result()}

    @property
    def metrics(self):
        return list(self.trackers.values())


@register_training_method("limp")
class LimpTraining(TrainingMethod):
    config_cls = LimpTrainingConfig

    def wrap(self, model: keras.Model) -> keras.Model:
        meshes, geodesics = self.task.training_shapes()
        return LimpVaeTrainer(model, meshes.faces, meshes.vertices, geodesics, self.config.training)
