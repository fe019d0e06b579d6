"""RPL: open-set classifier with reciprocal points (Chen et al., ECCV 2020; official code iCGY96/ARPL).

The network of the authors' `osr.py --loss RPLoss`: the classifier32 trunk (official/vision/backbones/
classifier32.py) -> global average pool -> 128-d feature f -> distances d_k(f) to the reciprocal points
P (K * num_centers, 128) of `ReciprocalPoints`, which also holds the learnable radius R. The repo keeps P
and R in the loss module (`RPLoss`, `Dist`); here they are model weights, saved and exported with the
net, because inference needs P. The net's own 128 -> K linear layer (`fc`) and its `bn10` never reach the
RPL logits and are left out (the converter reports them skipped).

Outputs (dict, float32):
- "logits": (B, K) distances d (the farther from P_k, the more likely class k); softmax(d) = probabilities;
- "score": (B,) max softmax(d), the open-set score (higher = more likely known), as `core/test.py` uses;
- "features": (B, 128) f, for the open-space term.
`compute_loss` is the repo's RPLoss: CE(d / temp, y) + weight_pl * MSE(mean_j (f_j - P_{y, j})^2, R).
Imports Keras only (no TensorFlow), so it runs under KERAS_BACKEND=jax.
"""

from __future__ import annotations

import keras
from keras import initializers, layers, ops

from official.core.base_model import ZooLayer, ZooModel
from official.losses.reciprocal_points import reciprocal_distances, rpl_loss
from official.vision.backbones.classifier32 import CLASSIFIER32_WIDTHS, classifier32_trunk

FEATURE_DIM = 128  # classifier32's last conv width, ARPL osr.py `feat_dim = 128`


@keras.saving.register_keras_serializable(package="eccv20zoo")
class ReciprocalPoints(ZooLayer):
    """Reciprocal points P (num_classes * num_centers, dim), init 0.1 * N(0, 1), and radius R (1,), init 0;
    (B, dim) features -> (B, num_classes) mean squared distances (ARPL `Dist`, metric "l2")."""

    def __init__(self, num_classes: int, num_centers: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.num_centers = num_centers

    def build(self, input_shape):
        self.points = self.add_weight(
            name="points", shape=(self.num_classes * self.num_centers, int(input_shape[-1])),
            initializer=initializers.RandomNormal(0.0, 0.1),
        )
        self.radius = self.add_weight(name="radius", shape=(1,), initializer="zeros")

    def call(self, features):
        return reciprocal_distances(features, self.points, self.num_classes, self.num_centers)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_classes)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class MaxProbability(ZooLayer):
    """(B, K) logits -> (B,) max softmax probability (the open-set score of ARPL's core/test.py)."""

    def call(self, logits):
        return ops.max(ops.softmax(logits, axis=-1), axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class RPLNet(ZooModel):
    """classifier32 + reciprocal points (functional graph built in __init__).

    Args:
        classes: known classes K (6 for MNIST/SVHN/CIFAR10, 4 for CIFAR+N, 20 for Tiny ImageNet).
        num_centers: reciprocal points per class (osr.py `--num-centers`, default 1).
        input_shape: (height, width, 3); 32x32 (64x64 for Tiny ImageNet), any multiple of 8.
        dropout_rate: the trunk's SpatialDropout2D rate (Dropout2d(0.2) before conv1, conv4, conv7).
        temp: CE temperature on the distances (osr.py `--temp`, 1.0).
        weight_pl: weight of the open-space term L_o (osr.py `--weight-pl`, 0.1).
        widths: the trunk's nine conv widths (the paper's: CLASSIFIER32_WIDTHS; narrow ones for tests).
    """

    def __init__(
        self,
        classes: int = 6,
        num_centers: int = 1,
        input_shape: tuple[int, int, int] = (32, 32, 3),
        dropout_rate: float = 0.2,
        temp: float = 1.0,
        weight_pl: float = 0.1,
        widths: tuple[int, ...] = CLASSIFIER32_WIDTHS,
        **kwargs,
    ):
        if classes < 2 or num_centers < 1:
            raise ValueError(f"RPLNet: classes must be >= 2 and num_centers >= 1, got {classes}, {num_centers}")
        if temp <= 0:
            raise ValueError(f"RPLNet: temp must be > 0, got {temp}")
        images = keras.Input(shape=tuple(input_shape), name="images")
        x = classifier32_trunk(images, dropout_rate=dropout_rate, widths=tuple(widths))
        features = layers.GlobalAveragePooling2D(dtype="float32", name="features")(x)
        distances = ReciprocalPoints(classes, num_centers, dtype="float32", name="reciprocal_points")(features)
        score = MaxProbability(dtype="float32", name="score")(distances)
        super().__init__(inputs=images, outputs={"logits": distances, "score": score, "features": features}, **kwargs)
        self.classes = classes
        self.temp = temp
        self.weight_pl = weight_pl

    @property
    def reciprocal_points(self) -> ReciprocalPoints:
        return self.get_layer("reciprocal_points")

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """RPLoss with labels: CE(d / temp, y) + weight_pl * L_o for int labels y (B,); the open-set task
        compiles with loss=None. Regularisation (weight decay) losses are added as Keras does."""
        del x, sample_weight, training
        rp = self.reciprocal_points
        loss = rpl_loss(y_pred["logits"], y_pred["features"], rp.points, rp.radius, y, self.temp, self.weight_pl)
        if self.losses:
            loss = loss + ops.cast(ops.sum(ops.stack(self.losses)), loss.dtype)
        return loss
