"""The bilevel search step (alphas on split B, weights on split A), one jit_compile train step of the derived
network, and card check 7 shortened: a micro derived network fitted on 16 fixture crops beats the mean pose
by a margin a broken model misses (the 32-crop < 15 mm figure is in the README)."""

from __future__ import annotations

import keras
import numpy as np

from research.three_d.partaware_pose import losses
from research.three_d.partaware_pose.search import PartAwarePoseSearch
from research.three_d.partaware_pose.task import PartAwarePoseTask
from tests.research.three_d.partaware_pose.pa_fixtures import MICRO, micro_config

CHEAP = ("zero", "skip_connect", "avg_pool_3x3", "sep_conv_3x3")


def test_bilevel_step_updates_alphas_on_split_b_and_weights_on_split_a(h36m_dir):
    task = PartAwarePoseTask(micro_config(h36m_dir, search=True))
    images, labels = next(iter(task.build_inputs(task.config.train_data, True, 8)))
    keras.utils.set_random_seed(0)
    two_parts = ((0, 7, 8, 9, 10, 11, 12, 13), (1, 2, 3, 4, 5, 6, 14, 15, 16))  # 2 heads: half the eager ops
    model = PartAwarePoseSearch(**dict(MICRO, layers=0, reductions=(), part_groups=two_parts), primitives=CHEAP,
                                arch_learning_rate=0.01, arch_weight_decay=0.0)
    assert model.arch_variables[2].shape == (9, 4) and len(model.arch_variables) == 2 + 2
    import tensorflow as tf

    def grads(x, y, variables):
        with tf.GradientTape() as tape:
            loss = losses.integral_l1(y, model(x, training=True))
        return [g.numpy() for g in tape.gradient(loss, variables)]

    alphas = [a.numpy() for a in model.alpha_parts]
    g_b = grads(images[4:], labels[4:], model.alpha_parts)
    model.compile(optimizer=keras.optimizers.SGD(0.1), run_eagerly=True)
    before = [v.numpy() for v in model.weight_variables]
    g_a = grads(images[:4], labels[:4], model.weight_variables)  # after the alpha step, as the step does
    model.train_on_batch(images, labels)
    for a, new, g in zip(alphas, model.alpha_parts, g_b, strict=True):
        moved = new.numpy() - a  # Adam's first step: -lr * g / (|g| + eps) ~ -lr * sign(g)
        big = np.abs(g) > 1e-4
        assert big.sum() > 5 and np.all(np.sign(moved[big]) == -np.sign(g[big]))
    del g_a
    assert any(np.abs(v.numpy() - b).max() > 0 for v, b in zip(model.weight_variables, before, strict=True))
    assert set(model.genotype()) == {"normal", "reduce", "parts"}


def test_xla_step_and_short_overfit(trained_micro):
    """One part head over all 17 joints (a derived network of 14,980 weights): jit_compile=True steps, 80 Adam
    steps on 16 crops -> MPJPE < 0.4x the mean pose (measured without XLA: 57 mm at 80 steps, 21 mm at 150,
    against a 206 mm mean-pose error)."""
    task, images, labels, model, first = trained_micro
    assert np.isfinite(first) and model.jit_compile
    scores = task._scores(lambda x: model(x, training=False), [(images, labels)], None)
    gt_rel = labels[..., 5:8] - labels[:, :1, 5:8]
    mean_pose = float(np.linalg.norm(gt_rel - gt_rel.mean(0, keepdims=True), axis=-1).mean())
    assert scores["mpjpe"] < 0.4 * mean_pose, (scores, mean_pose)
