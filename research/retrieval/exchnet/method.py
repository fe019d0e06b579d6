"""`training.method: exchnet`: ExchNet's alternating optimisation (Sec. 3.4) under `tools.train`.

The trainer's "loop" (trainer.steps_per_loop steps) is one outer iteration:
1. network step (every training step, `ExchNetTrainer.train_step`): the training pipeline yields
   (image, database index); the label is looked up in the database labels. Part features are exchanged
   with their class anchors (Eq. 8), u = tanh(W_g [f_global; f_parts]), and the loss is the asymmetric
   hashing loss against the fixed database codes V plus the diversity losses (losses.py);
2. at the end of every loop (and before the first step, `prepare`), `refresh`: a seeded sample Omega of
   `dcc_sample` database items runs through the network in inference mode; their part features give the
   class anchors C (class means; step 3 of the paper, closed form unverified) and their U = tanh(h)
   gives the new V by one DCC sweep over the bits (dcc.py, numpy; step 2).
V starts as seeded random signs (ADSH starts from zeros; unverified for ExchNet) and the first DCC step
comes after the first loop: the codes of an untrained network are nearly equal for every image, and a DCC
step on them gives nearly one code to the whole database (measured on digits: 3 distinct codes). V and C are
non-trainable variables assigned on the host, saved beside the network (`checkpoint_extras`); the
network alone is checkpointed as the model, evaluated and exported.
"""

from __future__ import annotations

import logging

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from official.core.config import ConfigError
from official.core.registry import register_training_method
from official.data import classification_input, imagefolder
from official.training.method import TrainingMethod
from research.retrieval.exchnet import dcc, losses
from research.retrieval.exchnet.config import ExchNetTrainingConfig

log = logging.getLogger(__name__)


class ExchNetTrainer(keras.Model):
    """The network with V, the anchors and the ExchNet loss in its train step (module docstring)."""

    def __init__(self, network: keras.Model, database_labels, num_classes: int, cfg: ExchNetTrainingConfig,
                 seed: int = 0, **kwargs):
        super().__init__(name=kwargs.pop("name", "exchnet_trainer"), **kwargs)
        for key, allowed in (("spatial_loss", losses.SPATIAL_LOSSES), ("channel_loss", losses.CHANNEL_LOSSES)):
            if getattr(cfg, key) not in allowed:
                raise ValueError(f"training.{key}: expected one of {allowed}, got {getattr(cfg, key)!r}")
        if not 0.0 <= cfg.keep_prob <= 1.0:
            raise ValueError(f"training.keep_prob: expected a probability, got {cfg.keep_prob}")
        labels = np.asarray(database_labels, np.int32)
        if labels.size == 0 or labels.min() < 0 or labels.max() >= num_classes:
            raise ValueError(f"task.num_classes: {num_classes} does not cover the database labels")
        self.network, self.cfg, self.num_classes = network, cfg, int(num_classes)
        self.features = network.feature_model()
        n, q = len(labels), network.code_bits
        agg = "only_first_replica"
        self.database_labels = self.add_weight(shape=(n,), dtype="int32", initializer="zeros", trainable=False,
                                               name="database_labels", aggregation=agg)
        self.database_labels.assign(labels)
        init = np.random.default_rng(seed).choice([-1.0, 1.0], size=(n, q)).astype(np.float32)
        self.database_codes = self.add_weight(shape=(n, q), initializer="zeros", trainable=False,
                                              name="database_codes", aggregation=agg)
        self.database_codes.assign(init)
        self.anchors = self.add_weight(shape=(num_classes, network.num_parts, network.feature_dim), initializer="zeros",
                                       trainable=False, name="anchors", aggregation=agg)
        self.seed_generator = keras.random.SeedGenerator(seed, name="exchange_seed")
        self.trackers = {k: keras.metrics.Mean(name=k) for k in
                         ("loss", "square_loss", "quantization_loss", "spatial_loss", "channel_loss", "kept_fraction")}

    @property
    def inference_model(self) -> keras.Model:
        return self.network

    def checkpoint_extras(self) -> dict:
        return {"exchnet_database_codes": self.database_codes, "exchnet_anchors": self.anchors,
                "exchnet_exchange_seed": self.seed_generator.state}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, inputs, training=False):
        return self.network(inputs, training=training)

    def objective(self, images, labels, own_codes, training: bool, exchange: bool):
        """(total loss, terms) of a batch: exchanged parts, u = tanh(h), asymmetric + diversity losses."""
        feats = self.features(images, training=training)
        parts = feats["parts"]
        if exchange:
            keep = losses.exchange_mask(ops.shape(parts)[:2], self.seed_generator, self.cfg.keep_prob)
            parts = losses.exchange_parts(parts, ops.take(self.anchors, labels, axis=0), keep)
        else:
            keep = ops.ones(ops.shape(parts)[:2])
        u = ops.tanh(ops.cast(self.network.code_from_features(feats["global"], parts), "float32"))
        sim = losses.similarity(labels, self.database_labels)
        hash_loss, square, quant = losses.asymmetric_loss(u, self.database_codes, sim, own_codes, self.cfg.gamma)
        spatial = losses.spatial_diversity(ops.cast(feats["attention"], "float32"), self.cfg.spatial_loss)
        channel = losses.channel_diversity(ops.cast(feats["parts"], "float32"), self.cfg.channel_loss)
        total = hash_loss + self.cfg.spatial_weight * spatial + self.cfg.channel_weight * channel
        terms = {"square_loss": square, "quantization_loss": quant, "spatial_loss": spatial, "channel_loss": channel,
                 "kept_fraction": ops.mean(keep)}
        return total, terms

    def _record(self, total, terms):
        self.trackers["loss"].update_state(total)
        for k, v in terms.items():
            self.trackers[k].update_state(v)
        return {k: t.result() for k, t in self.trackers.items()}

    def train_step(self, data):
        images, index = data[0], ops.cast(data[1], "int32")
        labels = ops.take(self.database_labels, index, axis=0)
        own = ops.take(self.database_codes, index, axis=0)
        variables = self.network.trainable_variables
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        with tf.GradientTape() as tape:
            total, terms = self.objective(images, labels, own, training=True, exchange=True)
            reg = ops.sum(ops.stack(self.network.losses)) if self.network.losses else 0.0
            loss = total + reg
            scaled = self.optimizer.scale_loss(loss / replicas)  # gradients are summed over replicas
        grads = tape.gradient(scaled, variables)
        self.optimizer.apply(grads, variables)
        return self._record(loss, terms)

    def test_step(self, data):
        """Validation batches carry class labels (not database indices): the loss without quantisation."""
        images, labels = data[0], ops.cast(data[1], "int32")
        u = ops.tanh(ops.cast(self.network(images, training=False), "float32"))
        total, terms = self.objective(images, labels, u, training=False, exchange=False)
        return self._record(total, terms)

    # --- the discrete steps (host, numpy) -------------------------------------------------------
    def refresh(self, dataset, omega: np.ndarray, update_codes: bool = True) -> dict[str, float]:
        """Anchors <- class means of the part features, V <- one DCC step (unless not update_codes), from
        `dataset` of (images, database index) over the items `omega` (in that order)."""
        us, parts, index = [], [], []
        for images, idx in dataset:
            feats = self.features(images, training=False)
            us.append(np.tanh(np.asarray(self.network.code_from_features(feats["global"], feats["parts"]), np.float64)))
            parts.append(np.asarray(feats["parts"], np.float64))
            index.append(np.asarray(idx))
        u, part, index = np.concatenate(us), np.concatenate(parts), np.concatenate(index).astype(np.int64)
        if not np.array_equal(np.sort(index), np.sort(omega)):
            raise RuntimeError(f"DCC sample: read {len(index)} items, expected {len(omega)} (unreadable images?)")
        db_labels = np.asarray(self.database_labels)
        labels = db_labels[index]
        anchors = np.asarray(self.anchors, np.float64)
        m = self.cfg.anchor_momentum
        for c in np.unique(labels):
            mean = part[labels == c].mean(axis=0)
            anchors[c] = mean if not anchors[c].any() else m * anchors[c] + (1.0 - m) * mean
        self.anchors.assign(anchors.astype(np.float32))
        old = np.asarray(self.database_codes)
        sim = dcc.similarity_matrix(labels, db_labels)
        before = dcc.objective(old, u, sim, index, self.cfg.gamma)
        new = dcc.dcc_update(old, u, sim, index, self.cfg.gamma, self.cfg.dcc_sweeps) if update_codes else old
        after = dcc.objective(new, u, sim, index, self.cfg.gamma)
        self.database_codes.assign(new)
        return {"dcc_objective_before": before, "dcc_objective_after": after,
                "bits_changed": float(np.mean(new != old)), "sample": float(len(index))}


class RefreshCallback(keras.callbacks.Callback):
    """Runs the DCC and anchor step at the end of every loop (trainer "epoch")."""

    def __init__(self, method: ExchNetMethod):
        super().__init__()
        self.method = method

    def on_epoch_end(self, epoch, logs=None):
        self.method.refresh(self.model, epoch + 1)


@register_training_method("exchnet")
class ExchNetMethod(TrainingMethod):
    config_cls = ExchNetTrainingConfig

    def database(self) -> tuple[list[str], list[int]]:
        paths, labels, _ = self.task.listing(self.config.train_data)
        return paths, labels

    def wrap(self, model: keras.Model) -> keras.Model:
        if not hasattr(model, "feature_model"):
            raise ConfigError(f"training.method: exchnet trains ExchNet networks, got {model.name}")
        _, labels = self.database()
        try:
            return ExchNetTrainer(model, labels, self.config.task.num_classes, self.config.training,
                                  seed=self.config.runtime.seed)
        except ValueError as err:
            raise ConfigError(str(err)) from err

    def sample(self, n: int, round_: int) -> np.ndarray:
        m = self.config.training.dcc_sample
        if m <= 0 or m >= n:
            return np.arange(n)
        rng = np.random.default_rng([self.config.runtime.seed, round_])
        return np.sort(rng.choice(n, size=m, replace=False))

    def refresh(self, model: ExchNetTrainer, round_: int, update_codes: bool = True) -> dict[str, float]:
        paths, _ = self.database()
        omega = self.sample(len(paths), round_)
        source = classification_input.ClassificationSource(
            imagefolder.file_examples([paths[i] for i in omega], [int(i) for i in omega]), len(omega))
        data = classification_input.build_dataset(self.config.train_data, False, self.config.training.eval_batch_size,
                                                  source=source)
        report = model.refresh(data, omega, update_codes)
        print("exchnet refresh {}: DCC objective {:.4g} -> {:.4g}, {:.1%} of V's bits changed, {} items".format(
            round_, report["dcc_objective_before"], report["dcc_objective_after"], report["bits_changed"],
            int(report["sample"])), flush=True)
        return report

    def prepare(self, model: keras.Model, resumed: int) -> None:
        """Anchors before the first step; a fresh start keeps V's random signs for the first loop (a DCC
        step on the codes of an untrained network gives nearly one code to every item)."""
        self.refresh(model, resumed, update_codes=bool(resumed))

    def callbacks(self, model: keras.Model) -> list:
        return [RefreshCallback(self)]
