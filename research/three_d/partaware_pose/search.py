"""PartAwarePose's search (Chen et al., ECCV 2020): the DARTS supernet, first-order bilevel train step.

DARTS is Liu et al. 2019. `PartAwarePoseSearch` holds the supernet (network.PartAwareBody of MixedOps, BN
without affine) and the architecture parameters: alpha_normal and alpha_reduce (backbone cells, shared by all cells of a kind, as
DARTS) and one alpha per part group (the part-specific heads), each (NUM_EDGES, len(primitives)),
initialised 1e-3 * N(0, 1). Op weights are softmax(alpha) over the candidate-op axis.

Train step (TensorFlow backend; the forward pass is keras.ops and runs under JAX): each batch is
[split A | split B] (the task builds it from the two halves of the training set, DARTS' train/valid
split of the training data). First the alphas take one Adam step on the loss of split B, then the
network weights one step of the model's optimizer (SGD in the recipe) on split A. First-order: the
second-order unrolled gradient of DARTS is not implemented (README "Known differences").
`genotype()` derives the discrete network (genotypes.derive_genotype) to train from scratch.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from official.core.base_model import BuiltByFirstCall, ZooSubclassModel
from official.ops.integral_decode import soft_argmax_3d
from research.three_d.partaware_pose import genotypes as gt
from research.three_d.partaware_pose.losses import integral_l1
from research.three_d.partaware_pose.network import PartAwareBody
from research.three_d.partaware_pose.parts import H36M_PART_GROUPS


def op_weights(alpha):
    """softmax over the candidate ops of each edge: (NUM_EDGES, ops) -> rows summing to 1."""
    return ops.softmax(alpha, axis=-1)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class PartAwarePoseSearch(BuiltByFirstCall, ZooSubclassModel):
    """The search supernet: images (B, H, W, 3) -> joints (B, J, 3); arguments as PartAwarePoseNet, plus
    the architecture optimizer's (DARTS: Adam 3e-4, betas (0.5, 0.999), weight decay 1e-3)."""

    def __init__(self, num_joints: int = 17, depth_bins: int = 64, input_shape: tuple[int, int, int] = (256, 256, 3),
                 part_groups: Sequence[Sequence[int]] = H36M_PART_GROUPS, stem_channels: int = 16,
                 stem_strides: Sequence[int] = (2, 2, 2), channels: int = 16, layers: int = 5,
                 reductions: Sequence[int] = (1, 3), head_channels: int = 16, head_stages: int = 3,
                 primitives: Sequence[str] = gt.PRIMITIVES, arch_learning_rate: float = 3e-4, arch_beta_1: float = 0.5, arch_weight_decay: float = 1e-3,
                 **kwargs):
        super().__init__(**kwargs)
        self.num_joints, self.depth_bins, self.image_shape = num_joints, depth_bins, tuple(input_shape)
        self.body = PartAwareBody(num_joints, depth_bins, part_groups, None, stem_channels, stem_strides,
                                  channels, layers, reductions, head_channels, head_stages, primitives, name="body")
        self.primitives = gt.check_primitives(primitives)
        shape = (gt.NUM_EDGES, len(self.primitives))
        init = keras.initializers.RandomNormal(stddev=1e-3)
        self.alpha_normal = self.add_weight(shape=shape, initializer=init, name="alpha_normal")
        self.alpha_reduce = self.add_weight(shape=shape, initializer=init, name="alpha_reduce")
        self.alpha_parts = [self.add_weight(shape=shape, initializer=init, name=f"alpha_part{p}")
                            for p in range(len(self.body.groups))]
        self.arch_hparams = dict(learning_rate=arch_learning_rate, beta_1=arch_beta_1, beta_2=0.999,
                                 weight_decay=arch_weight_decay)
        self.arch_optimizer = None  # made by compile(): an optimizer's variables cannot be created in the
        # stateless scope in which tools.list counts parameters
        self(ops.zeros((1, *self.image_shape)))  # builds every variable (checkpoints, parameter counts)

    def compile(self, *args, **kwargs):
        super().compile(*args, **kwargs)
        self.arch_optimizer = keras.optimizers.Adam(**self.arch_hparams)

    @property
    def arch_variables(self) -> list:
        return [self.alpha_normal, self.alpha_reduce, *self.alpha_parts]

    @property
    def weight_variables(self) -> list:
        arch = {id(v) for v in self.arch_variables}
        return [v for v in self.trainable_variables if id(v) not in arch]

    def example_inputs(self, batch: int = 2) -> np.ndarray:
        return np.random.default_rng(0).normal(size=(batch, *self.image_shape)).astype("float32")

    def volumes(self, images, training=None):
        return self.body(images, normal=op_weights(self.alpha_normal), reduce=op_weights(self.alpha_reduce),
                         parts=[op_weights(a) for a in self.alpha_parts], training=training)

    def call(self, images, training=None):
        return soft_argmax_3d(self.volumes(images, training), self.num_joints, self.depth_bins)

    def genotype(self) -> dict:
        """The derived discrete network of the current alphas (config data for PartAwarePoseNet)."""
        w = [np.asarray(op_weights(a)) for a in self.arch_variables]
        return gt.derive_genotype(w[0], w[1], w[2:], self.primitives)

    def train_step(self, data):
        import tensorflow as tf

        images, labels = data[0], data[1]
        half = tf.shape(images)[0] // 2
        with tf.GradientTape() as tape:  # alphas on split B
            loss_b = integral_l1(labels[half:], self(images[half:], training=True))
        self.arch_optimizer.apply(tape.gradient(loss_b, self.arch_variables), self.arch_variables)
        weights = self.weight_variables
        with tf.GradientTape() as tape:  # network weights on split A
            loss_a = integral_l1(labels[:half], self(images[:half], training=True))
        self.optimizer.apply(tape.gradient(loss_a, weights), weights)
        return {"loss": loss_a, "arch_loss": loss_b}
