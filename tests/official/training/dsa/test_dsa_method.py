"""`training.method: dsa`: the wrapper's masks agree with physical pruning, one XLA train step moves
weights and keep ratios, the gates' state survives a checkpoint, the ADMM projection meets the budget,
and the experiments resolve through the registry."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from official.core import config as config_lib
from official.core import registry, zoo_index
from official.core.config import ConfigError
from official.training import method as method_lib
from official.training.dsa import method as dsa_method
from official.training.dsa.config import DSAConfig
from official.training.dsa.prune import keep_from_ratios, prune_model

zoo_index.import_all()


def tiny_resnet():
    return registry.create_model("resnet20_cifar", input_shape=(16, 16, 3), classes=5, widths=(4, 8, 16))


def tiny_cnn():
    """stem conv, a residual pair tied to it, GAP, logits: 2 groups (the stream, the inner conv)."""
    keras.utils.set_random_seed(0)
    x = inputs = keras.Input((8, 8, 3), name="images")

    def conv_bn(x, name):
        x = keras.layers.Conv2D(6, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
        return keras.layers.BatchNormalization(name=f"{name}_bn")(x)

    x = keras.layers.ReLU()(conv_bn(x, "stem"))
    y = conv_bn(keras.layers.ReLU()(conv_bn(x, "a")), "b")
    x = keras.layers.ReLU()(keras.layers.Add()([x, y]))
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(5, name="logits")(x))


def trainer(cfg=None, steps=10, network=None):
    keras.utils.set_random_seed(0)
    return dsa_method.DSATrainer(network or tiny_resnet(), cfg or DSAConfig(), steps)


def set_alphas(model, alphas):
    for gate, a in zip(model.gates, alphas, strict=True):
        gate.theta.assign(float(np.log(a / (1 - a))))


def test_inference_masks_are_the_pruned_network():
    model = trainer()
    rng = np.random.default_rng(0)
    for w in model.network.weights:  # move BN statistics and weights off their init
        w.assign(np.asarray(w) + rng.normal(0, 0.1, w.shape).astype("float32"))
    alphas = rng.uniform(0.2, 0.9, len(model.gates))
    set_alphas(model, alphas)
    assert len(model.gates) == 10  # ResNet-20: 9 blocks' first convs + one tied residual stream
    keep = keep_from_ratios(model.network, model.groups, model.keep_ratios())
    for gate, group in zip(model.gates, model.groups, strict=True):
        np.testing.assert_array_equal(np.flatnonzero(gate.inference_mask().numpy()), keep[group.index])
    x = rng.normal(size=(4, 16, 16, 3)).astype("float32")
    pruned = prune_model(model.network, model.groups, keep)
    np.testing.assert_allclose(model(x, training=False).numpy(), pruned(x, training=False).numpy(), atol=1e-4)


def test_one_xla_train_step_moves_weights_and_keep_ratios():
    model = trainer(DSAConfig(alpha_lr=0.05, rho=10.0, beta2_start=1.0, beta2_end=3.0), steps=2, network=tiny_cnn())
    model.compile(optimizer=keras.optimizers.SGD(0.1), jit_compile=True,
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = np.random.default_rng(1).normal(size=(8, 8, 8, 3)).astype("float32")
    y = np.arange(8) % 5
    kernel = np.asarray(model.network.weights[0]).copy()
    theta = np.array([float(g.theta) for g in model.gates])
    logs = model.fit(x, y, batch_size=8, epochs=1, verbose=0).history
    assert not np.allclose(kernel, np.asarray(model.network.weights[0]))
    alpha = 1 / (1 + np.exp(-np.array([float(g.theta) for g in model.gates])))
    before = 1 / (1 + np.exp(-theta))
    assert np.all(np.abs(alpha - before) > 1e-4)
    z, u = np.asarray(model.z), np.asarray(model.u)
    np.testing.assert_allclose(u, alpha - z, atol=1e-5)  # u was 0: u = alpha - z
    assert model.flops(z) <= 0.5 * model.full_flops  # alpha ~0.99 does not fit: z is projected
    assert abs(logs["expectation_diff"][0]) < 1e-3 and 0.9 < logs["flops_ratio"][0] <= 1.0
    assert all(float(g.log_beta1) != 0.0 for g in model.gates)  # the warm start was stored
    assert float(model.alpha_steps) == 1.0
    np.testing.assert_allclose(float(model.gates[0].beta2), 1.0, atol=1e-5)  # step 0 of the 1 -> 3 schedule
    model.set_beta2(1)
    np.testing.assert_allclose(float(model.gates[0].beta2), 2.0, atol=1e-5)


def test_warmup_and_alpha_every_gate_the_keep_ratio_step():
    model = trainer(DSAConfig(warmup_steps=2, alpha_every=3))
    grads = [tf.constant(1e-3)] * len(model.gates)
    theta = [float(g.theta) for g in model.gates]
    for step, moves in [(0, False), (1, False), (2, True), (3, False), (4, False), (5, True)]:
        model.alpha_step(grads, tf.constant(step))
        now = [float(g.theta) for g in model.gates]
        assert (now != theta) == moves, step
        theta = now


def test_checkpoint_extras_restore_gate_state(tmp_path):
    model = trainer()
    rng = np.random.default_rng(2)
    for gate in model.gates:
        gate.theta.assign(rng.normal())
        gate.log_beta1.assign(rng.normal())
        gate.beta2_raw.assign(rng.normal())
    model.u.assign(rng.normal(size=len(model.gates)).astype("float32"))
    path = tf.train.Checkpoint(model=model.network, **method_lib.checkpoint_extras(model)).save(str(tmp_path / "ckpt"))
    fresh = trainer()
    tf.train.Checkpoint(model=fresh.network, **method_lib.checkpoint_extras(fresh)).restore(path).assert_consumed()
    for a, b in zip(model.gates, fresh.gates, strict=True):
        for name in ("theta", "log_beta1", "beta2_raw"):
            assert float(getattr(a, name)) == float(getattr(b, name)), name
    np.testing.assert_array_equal(np.asarray(model.u), np.asarray(fresh.u))
    np.testing.assert_allclose(dsa_method.keep_ratios_from_checkpoint(str(tmp_path)), model.keep_ratios(), rtol=1e-6)
    assert method_lib.inference_model(model) is model.network


def test_projection_meets_the_budget():
    model = trainer()
    budget = 0.5 * model.full_flops
    v = np.full(len(model.gates), 0.95, "float32")
    z = np.asarray(dsa_method.project_to_budget(v, model.flops, budget, 30))
    assert model.flops(z) <= budget and model.flops(z) >= 0.999 * budget
    np.testing.assert_allclose(z / z[0], 1.0, rtol=1e-6)  # a scaling of v
    small = np.full(len(model.gates), 0.3, "float32")
    np.testing.assert_array_equal(np.asarray(dsa_method.project_to_budget(small, model.flops, budget, 30)), small)


def test_experiments_and_config_errors():
    for name in ("dsa_resnet56_cifar10", "dsa_resnet20_cifar10", "dsa_resnet20_digits"):
        cfg = registry.get_experiment(name)
        assert cfg.training.method == "dsa" and cfg.training.flops_ratio == 0.5
    cfg = registry.get_experiment("dsa_resnet56_cifar10")
    assert cfg.trainer.optimizer.momentum == 0.9 and cfg.trainer.weight_decay == 4e-5
    assert cfg.trainer.global_batch_size == 128 and cfg.train_data.pad_crop == 4 and cfg.train_data.horizontal_flip
    assert isinstance(method_lib.build_method(cfg, None), dsa_method.DSA)
    cfg = config_lib.resolve("dsa_resnet20_digits", [], "training.flops_ratio=1.5")
    from official.core.task import build_task

    with pytest.raises(ConfigError, match="flops_ratio"):
        method_lib.build_method(cfg, build_task(cfg)).wrap(tiny_resnet())
