"""PointMixupTrainer: a classifier trained on EMD-interpolated point clouds with soft labels, on any backend.

`call(points, training=True)` draws the batch permutation, the mixrates and (manifold) the level, runs the
classifier's stages with the mix hook and returns {"logits", "perm", "mixrate"}; `compute_loss` builds the soft
labels from the integer labels with the same draws and takes the soft-target cross-entropy (+ weight decay).
Nothing is TensorFlow-specific, so Keras' own train step runs it under TF (XLA) and JAX. Manifold mixup needs
one level per batch: instead of a data-dependent branch, the mix is computed at every level and kept only at
the drawn one (`where`), so the forward stays one static graph (the assignments at 512 and 128 points cost less
than the input one). Evaluation, checkpoints and export see the bare classifier (`inference_model`).
"""

from __future__ import annotations

import keras
from keras import ops

from official.training.pointmixup import interpolation


class PointMixupTrainer(keras.Model):
    """PointMixup around a PointNet2Classifier (anything with `run_stages(points, mix, training)`)."""

    def __init__(self, classifier: keras.Model, num_classes: int, alpha: float = 0.4, manifold: bool = False,
                 align: bool = True, emd_iterations: int = 6000, levels: int = 3, seed: int = 0,
                 assignment: str = "auction", **kwargs):
        super().__init__(name=kwargs.pop("name", "pointmixup_trainer"), **kwargs)
        if alpha <= 0:
            raise ValueError(f"training.alpha: the Beta parameter must be > 0, got {alpha}")
        if not hasattr(classifier, "run_stages"):
            raise ValueError(f"training.method=pointmixup: {classifier.name} has no run_stages (a PointNet2Classifier)")
        self.classifier = classifier
        self.num_classes = int(num_classes)
        self.alpha = float(alpha)
        self.manifold = bool(manifold)
        self.align = bool(align)
        self.emd_iterations = int(emd_iterations)
        if assignment not in interpolation.ASSIGNMENTS:
            raise ValueError(f"training.assignment: expected one of {interpolation.ASSIGNMENTS}, got {assignment!r}")
        self.assignment = assignment
        self.levels = int(levels) if manifold else 1
        self.seed_generator = keras.random.SeedGenerator(seed)

    @property
    def inference_model(self) -> keras.Model:
        return self.classifier

    def draws(self, batch):
        """(perm (B,), mixrate (B,), level ()) of one training batch."""
        perm = interpolation.batch_permutation(batch, self.seed_generator)
        rate = interpolation.mixrates(self.alpha, batch, self.seed_generator)
        level = (keras.random.randint((), 0, self.levels, seed=self.seed_generator) if self.levels > 1
                 else ops.zeros((), "int32"))
        return perm, rate, ops.cast(level, "int32")

    def mixed_logits(self, points, perm, rate, level, training: bool = True):
        """Logits of the classifier with PointMixup at `level` (0 input, 1 after SA1, 2 after SA2)."""

        def mix(at, xyz, features):
            if at >= self.levels:
                return xyz, features
            mixed_xyz, mixed_features, _ = interpolation.pointmixup(
                xyz, features, perm, rate, align=self.align and at == 0, iterations=self.emd_iterations,
                method=self.assignment)
            if self.levels == 1:
                return mixed_xyz, mixed_features
            keep = ops.equal(level, at)
            xyz = ops.where(keep, mixed_xyz, xyz)
            features = None if features is None else ops.where(keep, mixed_features, features)
            return xyz, features

        return self.classifier.run_stages(points, mix, training=training)

    def call(self, inputs, training=False):
        if not training:
            return self.classifier(inputs, training=False)
        perm, rate, level = self.draws(ops.shape(inputs)[0])
        return {"logits": self.mixed_logits(inputs, perm, rate, level), "perm": perm, "mixrate": rate}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if not isinstance(y_pred, dict):  # validation: the task's compiled loss on the plain forward
            return super().compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training)
        targets = interpolation.mixed_labels(y, y_pred["perm"], y_pred["mixrate"], self.num_classes)
        loss = ops.mean(interpolation.soft_cross_entropy(targets, y_pred["logits"]))
        if self.losses:  # weight decay (official/core/optimization: L2 regularisers on the network)
            loss = loss + ops.cast(ops.sum(ops.stack(self.losses)), loss.dtype)
        return loss

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Training metrics against the major example's label (the mixed clouds have soft targets)."""
        logits = y_pred["logits"] if isinstance(y_pred, dict) else y_pred
        return super().compute_metrics(x, y, logits, sample_weight)
