"""`training.method: isp`: ISP's training loop, i.e. the plain trainer plus the offline clustering rounds.

- `ISPTrainer` wraps the network: its loss is ISP's objective (losses.py) on the PK batch's identities and
  pseudo-label maps; the three center-loss center sets are its own variables, stepped by their own SGD
  (SOLVER.CENTER_LR 0.5, the gradient divided by the center-loss weight as the official trainer does),
  and checkpointed beside the network (`checkpoint_extras`). The network is what is saved and served.
- `PseudoLabeler` runs a clustering round: the inference-mode feature maps X of the training images
  (in file order, so identities are contiguous and one identity is clustered as soon as its images are
  embedded, never the whole set in memory), cascaded K-means per identity (clustering.py), one PNG per
  image, written to a temporary name and renamed (the data pipeline re-reads them).
- Rounds: before the first step when a label is missing or the run (re)starts on a clustering epoch,
  then at each loop start entering a new 0-based epoch e with e % period == 0 and e + 1 <= stop
  (official: epoch % 2 == 1, 1-based, epoch <= 101). Loops of one epoch (trainer.steps_per_loop 0)
  place rounds exactly at epoch starts.
The custom step is for the TensorFlow backend (tools.train); the network's forward pass stays backend-agnostic.
"""

from __future__ import annotations

import os
import time

import keras
import numpy as np
import tensorflow as tf
from keras import ops
from keras.src.losses import loss as loss_module  # Keras' distribution scaling of losses
from PIL import Image

from official.core.registry import register_training_method
from official.training.method import TrainingMethod
from research.reid.isp import clustering
from research.reid.isp.config import ISPTrainingConfig
from research.reid.isp.losses import BRANCHES, isp_loss_terms, isp_total


class ISPTrainer(keras.Model):
    """The network under ISP's objective; `inference_model` is the network."""

    def __init__(self, network: keras.Model, cfg: ISPTrainingConfig, **kwargs):
        super().__init__(**kwargs)
        self.network = network
        self.cfg = cfg
        num_classes = int(network.output["logits_global"].shape[-1])
        self.centers = {}
        if cfg.center_loss_weight > 0:
            for b in BRANCHES:  # CenterLoss: centers ~ N(0, 1)
                dim = int(network.output[f"y_{b}"].shape[-1])
                self.centers[b] = self.add_weight(shape=(num_classes, dim), initializer="random_normal",
                                                  trainable=True, name=f"centers_{b}")
            self.center_optimizer = keras.optimizers.SGD(learning_rate=cfg.center_lr)
            self.center_optimizer.build(list(self.centers.values()))
        self.trackers = {k: keras.metrics.Mean(name=k) for k in ("loss", "id_accuracy", "ce", "triplet", "parsing", "center")}

    @property
    def inference_model(self) -> keras.Model:
        return self.network

    def checkpoint_extras(self) -> dict:
        extras = {f"centers_{b}": v for b, v in self.centers.items()}
        if self.centers:
            extras["center_optimizer"] = self.center_optimizer
        return extras

    def call(self, inputs, training=False):
        return self.network(inputs, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        cfg = self.cfg
        terms = isp_loss_terms(y_pred, y["pid"], y["parsing"], self.centers or None, cfg.label_smoothing, cfg.triplet_margin)
        self._last_terms = terms
        total = isp_total(terms, cfg.parsing_loss_weight, cfg.center_loss_weight)
        regularisers = self.losses  # the trainer's L2 weight decay (variable regularizers)
        if regularisers:
            total = total + ops.sum(ops.stack(regularisers))
        # per-replica share (x 1 / replicas): the optimizers sum gradients over replicas, as Keras' own loss does
        return loss_module.scale_loss_for_distribution(total)

    def train_step(self, data):
        x, y = data[0], data[1]
        network_vars = self.network.trainable_variables
        center_vars = list(self.centers.values())
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self._compute_loss(x=x, y=y, y_pred=y_pred, training=True)
            scaled = self.optimizer.scale_loss(loss)
        grads = tape.gradient(scaled, [*network_vars, *center_vars])
        self.optimizer.apply(grads[: len(network_vars)], network_vars)
        if center_vars:  # the official step: center grads x 1 / weight, then SGD(lr 0.5)
            self.center_optimizer.apply([tf.convert_to_tensor(g) / self.cfg.center_loss_weight
                                        for g in grads[len(network_vars):]], center_vars)
        return self._update_trackers(loss, y, y_pred)

    def _update_trackers(self, loss, y, y_pred):
        terms = self._last_terms
        self.trackers["loss"].update_state(loss_module.unscale_loss_for_distribution(loss))
        self.trackers["ce"].update_state(sum(terms[f"ce_{b}"] for b in BRANCHES))
        self.trackers["triplet"].update_state(sum(terms[f"triplet_{b}"] for b in BRANCHES))
        self.trackers["parsing"].update_state(terms["parsing"])
        if self.centers:
            self.trackers["center"].update_state(sum(terms[f"center_{b}"] for b in BRANCHES))
        pid = ops.cast(y["pid"], "int32")
        hits = [ops.cast(ops.argmax(y_pred[f"logits_{b}"], -1) == pid, "float32") for b in BRANCHES]
        self.trackers["id_accuracy"].update_state(ops.mean(sum(hits) / 3.0))
        return {k: t.result() for k, t in self.trackers.items()}

    @property
    def metrics(self):
        return list(self.trackers.values())


class PseudoLabeler:
    """One clustering round over the training set: feature maps -> per-identity K-means -> PNG files."""

    def __init__(self, task, cfg: ISPTrainingConfig, part_num: int, seed: int = 0):
        self.task, self.cfg, self.part_num, self.seed = task, cfg, part_num, seed

    def missing(self) -> bool:
        return not all(os.path.isfile(p) for p in self.task.label_paths(self.task.train_split()))

    def run(self, network: keras.Model) -> dict[str, float]:
        start = time.time()
        split, dataset = self.task.clustering_inputs(self.cfg.cluster_batch_size)
        paths = self.task.label_paths(split)
        os.makedirs(os.path.dirname(paths[0]), exist_ok=True)
        pids = split.pids
        buffer: list[np.ndarray] = []
        done = 0
        foreground = []

        def flush(upto: int) -> None:
            nonlocal buffer, done
            maps = np.concatenate(buffer) if len(buffer) > 1 else buffer[0]
            labels = clustering.cluster_dataset(maps[: upto - done], pids[done:upto], self.part_num,
                                                self.cfg.kmeans_iterations, self.seed, self.cfg.enhanced)
            for i, lab in enumerate(labels):
                write_png(paths[done + i], lab)
                foreground.append(float(np.mean(lab > 0)))
            buffer = [maps[upto - done:]]
            done = upto

        seen = 0
        ordered = bool(np.all(np.diff(pids) >= 0))  # relabelled pids follow the sorted file names
        for images, _ in dataset:
            buffer.append(np.asarray(network(images, training=False)["feature_map"], np.float32))
            seen += len(images)
            if seen == len(pids):
                complete = seen
            else:  # identities whose images are all embedded (all of them at the end when unordered)
                complete = int(np.searchsorted(pids, pids[seen], side="left")) if ordered else done
            if complete > done:
                flush(complete)
        return {"seconds": time.time() - start, "images": float(len(pids)), "foreground": float(np.mean(foreground))}


def write_png(path: str, labels: np.ndarray) -> None:
    """uint8 label map as PNG, written to a temporary name and renamed (a reader never sees half a file)."""
    tmp = f"{path}.tmp-{os.getpid()}.png"
    Image.fromarray(labels.astype(np.uint8)).save(tmp)
    os.replace(tmp, path)


class ClusteringCallback(keras.callbacks.Callback):
    """Starts a clustering round when a loop enters a new clustering epoch."""

    def __init__(self, labeler: PseudoLabeler, network: keras.Model, steps_per_epoch: int, steps_per_loop: int,
                 period: int, stop: int, last_epoch: int):
        super().__init__()
        self.labeler, self.network = labeler, network
        self.steps_per_epoch, self.steps_per_loop = steps_per_epoch, steps_per_loop
        self.period, self.stop, self.last_epoch = period, stop, last_epoch

    def on_epoch_begin(self, epoch, logs=None):
        data_epoch = epoch * self.steps_per_loop // self.steps_per_epoch
        if data_epoch != self.last_epoch and is_clustering_epoch(data_epoch, self.period, self.stop):
            report = self.labeler.run(self.network)
            print(f"clustering round at epoch {data_epoch + 1}: {report['images']:.0f} images, "
                  f"foreground {report['foreground']:.2f}, {report['seconds']:.1f} s", flush=True)
            self.last_epoch = data_epoch


def is_clustering_epoch(epoch0: int, period: int, stop: int) -> bool:
    """Official `epoch % PERIOD == 1 and epoch <= STOP` on 1-based epochs, for a 0-based `epoch0`."""
    return (epoch0 + 1) % period == 1 % period and epoch0 + 1 <= stop


@register_training_method("isp")
class ISPTraining(TrainingMethod):
    config_cls = ISPTrainingConfig

    def _steps(self) -> tuple[int, int]:
        t = self.config.trainer
        per_epoch = t.steps_per_epoch or max(self.task.num_examples(self.config.train_data) // t.global_batch_size, 1)
        return per_epoch, (t.steps_per_loop or per_epoch)

    def _labeler(self) -> PseudoLabeler:
        return PseudoLabeler(self.task, self.config.training, self.config.task.part_num, self.config.runtime.seed)

    def wrap(self, model: keras.Model) -> keras.Model:
        return ISPTrainer(model, self.config.training)

    def prepare(self, model: keras.Model, resumed: int) -> None:
        cfg: ISPTrainingConfig = self.config.training
        per_epoch, _ = self._steps()
        epoch0 = resumed // per_epoch
        self._first_epoch = -1
        labeler = self._labeler()
        if labeler.missing() or (resumed % per_epoch == 0 and is_clustering_epoch(epoch0, cfg.clustering_period, cfg.clustering_stop)):
            report = labeler.run(model.inference_model)
            print(f"clustering round at epoch {epoch0 + 1}: {report['images']:.0f} images, "
                  f"foreground {report['foreground']:.2f}, {report['seconds']:.1f} s", flush=True)
            self._first_epoch = epoch0

    def callbacks(self, model: keras.Model) -> list:
        cfg: ISPTrainingConfig = self.config.training
        per_epoch, per_loop = self._steps()
        return [ClusteringCallback(self._labeler(), model.inference_model, per_epoch, per_loop,
                                   cfg.clustering_period, cfg.clustering_stop, getattr(self, "_first_epoch", -1))]
