"""`training.method: uniloss`: config, recipes, the wrapper's step (XLA), the short-schedule bars, run + export.

The short runs train on scikit-learn's 8x8 digits in memory for a few seconds with UniLoss only:
multi-class top-1 (the accuracy surrogate) and one-vs-rest AP of digit 0 (the AP surrogate), 1 epoch.
Measured, seed 0: top-1 0.895 and AP 0.994; with the anchor values negated (a sign-flipped surrogate)
top-1 0.117 and AP 0.111, so the bars (0.8, 0.9) catch it.
"""

from __future__ import annotations

import gzip
import os
import struct

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_digits

from official.core import config as config_lib
from official.core import export, registry, trainer
from official.evaluation.average_precision import interpolated_average_precision
from official.training.uniloss.config import UniLossConfig
from official.training.uniloss.model import UniLossModel


def test_training_method_is_chosen_by_the_config():
    cfg = config_lib.resolve("uniloss_ce_digits", params_override="training.method=uniloss,training.num_single=4")
    assert isinstance(cfg.training, UniLossConfig) and cfg.training.num_single == 4
    assert cfg.training.metric == "accuracy" and cfg.training.score_activation == "sigmoid"
    with pytest.raises(config_lib.ConfigError, match="training.metrik"):
        config_lib.resolve("uniloss_digits", params_override="training.metrik=binary_ap")
    net = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    for kwargs, key in [({"metric": "f1"}, "training.metric"), ({"gradient": "x"}, "training.gradient"),
                        ({"score_activation": "tanh"}, "training.score_activation"), ({"num_single": 0}, "training.num_single")]:
        with pytest.raises(ValueError, match=key):
            UniLossModel(net, **kwargs)


def test_experiments_hold_the_official_recipes():
    for name, classes in (("uniloss_resnet20_cifar10", 10), ("uniloss_resnet20_cifar100", 100)):
        cfg = registry.get_experiment(name)
        t = cfg.trainer
        assert (cfg.model.name, cfg.model.classes, cfg.task.num_classes) == ("resnet20_cifar_dsconv", classes, classes)
        assert (t.epochs, t.global_batch_size, t.weight_decay) == (200, 128, 1e-4)
        assert (t.optimizer.name, t.optimizer.momentum, t.lr_schedule.base_lr) == ("sgd", 0.9, 0.1)
        assert (t.lr_schedule.name, t.lr_schedule.milestones, t.lr_schedule.decay_rate) == ("multistep", (140.0, 160.0), 0.1)
        assert cfg.train_data.pad_crop == 4 and cfg.train_data.horizontal_flip and not cfg.eval_data.horizontal_flip
        np.testing.assert_allclose(cfg.train_data.mean, np.array([0.4914, 0.4822, 0.4465]) * 255)
        np.testing.assert_allclose(cfg.eval_data.std, np.array([0.2023, 0.1994, 0.2010]) * 255)
        assert (cfg.training.method, cfg.training.metric, cfg.training.num_single) == ("uniloss", "accuracy", 16)
    cfg = registry.get_experiment("uniloss_mnist_binary_ap")
    t = cfg.trainer
    assert (cfg.task.name, cfg.task.positive_class, cfg.model.name, cfg.model.classes) == ("binary_classification", 0, "mlp_500_300", 1)
    assert (t.epochs, t.global_batch_size, t.optimizer.name, t.optimizer.momentum, t.lr_schedule.base_lr) == (30, 16, "sgd", 0.5, 0.01)
    assert cfg.train_data.source == "mnist" and cfg.training.metric == "binary_ap"
    assert registry.get_experiment("uniloss_ce_digits_binary_ap").training.method == "standard"


def test_mlp_parameter_counts():
    # train_mnist.py Net: 784*500+500 + 500*300+300 + 300*1+1
    assert registry.create_model("mlp_500_300").count_params() == 543_101
    assert registry.create_model("mlp_500_300", input_shape=(32, 32, 3)).count_params() == 663_101


def test_one_xla_step_moves_the_network_and_draws_fresh_anchors():
    keras.utils.set_random_seed(0)
    net = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(4)])
    model = UniLossModel(net, metric="accuracy", num_single=4)
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  jit_compile=True)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 6)).astype("float32")
    y = rng.integers(0, 4, 16)
    before = [w.numpy().copy() for w in net.trainable_weights]
    state = model.seed_generator.state.numpy().copy()
    logs = model.train_on_batch(x, y, return_dict=True)
    assert -1.0 <= logs["loss"] <= 0.0  # -M~ of a metric in [0, 1]
    assert any(np.abs(w.numpy() - b).max() > 0 for w, b in zip(net.trainable_weights, before, strict=True))
    assert not np.array_equal(model.seed_generator.state.numpy(), state)  # the next step draws other anchors
    assert model.inference_model is net
    # validation reports the task's compiled loss, not the surrogate
    assert model.test_on_batch(x, y, return_dict=True)["loss"] > 0.0


EPOCHS = 1


def _digits(binary: bool):
    digits = load_digits()
    x = (digits.images.reshape(-1, 64) / 16.0 - 0.5).astype("float32")
    y = (digits.target == 0).astype("float32")[:, None] if binary else digits.target
    order = np.random.default_rng(0).permutation(len(x))
    return x[order[:1300]], y[order[:1300]], x[order[1300:]], y[order[1300:]]


def _short_run(metric: str) -> float:
    binary = metric == "binary_ap"
    xtr, ytr, xte, yte = _digits(binary)
    keras.utils.set_random_seed(0)
    net = keras.Sequential([keras.Input((64,)), keras.layers.Dense(64, activation="relu"), keras.layers.Dense(1 if binary else 10)])
    model = UniLossModel(net, metric=metric, anchor_seed=0)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=keras.losses.MeanSquaredError())  # validation only
    model.fit(xtr, ytr, batch_size=32 if binary else 64, epochs=EPOCHS, shuffle=True, verbose=0)
    out = net.predict(xte, verbose=0)
    if binary:
        return interpolated_average_precision(out[:, 0], yte[:, 0])
    return float(np.mean(np.argmax(out, -1) == yte))


def test_short_run_multiclass_accuracy_with_uniloss_only():
    assert _short_run("accuracy") >= 0.8


def test_short_run_binary_ap_with_uniloss_only():
    assert _short_run("binary_ap") >= 0.9


def test_run_evaluate_and_export_of_a_uniloss_trained_model(digits_dir, tmp_path):
    override = (f"train_data.path={digits_dir}/train,eval_data.path={digits_dir}/val,trainer.train_steps=3,"
                "trainer.steps_per_loop=3,trainer.validation_every_n_loops=0,train_data.cache=false,"
                "eval_data.cache=false,export.formats=[saved_model],export.verify_examples=4,export.warmup_requests=1")
    cfg = config_lib.resolve("uniloss_digits_binary_ap", params_override=override)
    results, model = trainer.run_experiment(cfg, str(tmp_path / "run"), mode="train_and_eval", return_model=True)
    assert results["step"] == 3 and set(results["eval"]) == {"ap", "ap_sklearn", "accuracy", "examples"}
    assert results["eval"]["examples"] == 364.0 and 0.0 < results["eval"]["ap"] <= 1.0
    net, task, step = trainer.restore_for_inference(cfg, str(tmp_path / "run"))
    assert step == 3 and net.count_params() == 663_101
    done = export.export_all(net, task, str(tmp_path / "export"), "uniloss", cfg.export, 32)
    path, report = done["saved_model"]
    loaded = tf.saved_model.load(path)
    x = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    served = loaded.signatures["serving_default"](images=tf.constant(x))
    mean, std = np.asarray(cfg.eval_data.mean, "float32"), np.asarray(cfg.eval_data.std, "float32")
    np.testing.assert_allclose(served["logits"].numpy(), net((x - mean) / std, training=False), atol=1e-4)
    np.testing.assert_array_equal(served["classes"].numpy(), (served["logits"].numpy() > 0).astype("int32"))
    assert os.path.isdir(path)


def _write_idx(path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    with gzip.open(str(path), "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_mnist_experiment_trains_on_idx_files_with_one_vs_rest_targets(tmp_path):
    """The spec's fixture: 64 MNIST-like images in IDX files (magic 2051 / 2049); digit 0 is the positive."""
    rng = np.random.default_rng(0)
    labels = np.arange(64) % 10
    images = rng.integers(0, 60, (64, 28, 28))
    images[labels == 0, 8:20, 8:20] = 250  # positives carry a bright square
    for split in ("train", "t10k"):
        _write_idx(tmp_path / f"{split}-images-idx3-ubyte.gz", images)
        _write_idx(tmp_path / f"{split}-labels-idx1-ubyte.gz", labels)
    override = (f"train_data.path={tmp_path}/train-images-idx3-ubyte.gz,eval_data.path={tmp_path}/t10k-images-idx3-ubyte.gz,"
                "trainer.train_steps=15,trainer.steps_per_loop=15,trainer.validation_every_n_loops=0,"
                "trainer.lr_schedule.base_lr=0.05")
    cfg = config_lib.resolve("uniloss_mnist_binary_ap", params_override=override)
    task = trainer.build_task(cfg)
    images_batch, target = next(iter(task.build_inputs(cfg.eval_data, False, 16)))
    np.testing.assert_array_equal(target.numpy()[:, 0], (labels[:16] == 0).astype("float32"))
    assert images_batch.shape == (16, 28, 28, 3)
    results = trainer.run_experiment(cfg, str(tmp_path / "run"), mode="train_and_eval")
    # the square ranks the positives first (a sign-flipped surrogate ends at AP 0.11)
    assert results["eval"]["examples"] == 64.0 and results["eval"]["ap"] == 1.0


def test_pckh_wrapper_step_on_keypoint_targets():
    """The pose metric through the wrapper: targets (B, kernels, h, w, K) + valid, as the keypoint task feeds."""
    keras.utils.set_random_seed(0)
    net = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(3, 3, padding="same")])
    model = UniLossModel(net, metric="pckh", num_single=4, score_activation="none", pckh_head_size=3.0,
                         pckh_max_positives=12)
    model.compile(optimizer=keras.optimizers.SGD(10.0), loss=None)  # XLA: 12 s to compile on 2 cores (measured)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 8, 8, 3)).astype("float32")
    targets = np.zeros((4, 2, 8, 8, 3), "float32")
    for b, j in np.ndindex(4, 3):
        targets[b, :, rng.integers(1, 7), rng.integers(1, 7), j] = 1.0
    y = {"targets": targets, "valid": np.ones((4, 3), "float32")}
    before = [w.numpy().copy() for w in net.trainable_weights]
    loss = model.train_on_batch(x, y, return_dict=True)["loss"]
    assert -1.0 <= loss <= 0.0
    assert any(np.abs(w.numpy() - b).max() > 0 for w, b in zip(net.trainable_weights, before, strict=True))
    # one image whose heatmaps are +60 inside each joint's radius, -60 elsewhere: the all-correct anchor;
    # the same maps moved 3 cells right: outside the 1.5-pixel radius, every joint wrong
    cy, cx, cj = np.nonzero(targets[0, -1])
    yy, xx = np.mgrid[:8, :8]
    near = np.stack([np.hypot(xx - x0, yy - y0) < 1.5 for y0, x0 in zip(cy[np.argsort(cj)], cx[np.argsort(cj)], strict=True)], -1)
    peaks = np.where(near[None], 60.0, -60.0).astype("float32")
    one = {"targets": targets[:1], "valid": y["valid"][:1]}
    assert float(model.surrogate(one, peaks)) == -1.0
    assert float(model.surrogate(one, np.roll(peaks, 3, axis=2))) > -0.6  # measured -0.42 (true PCKh 0)
    cfg = registry.get_experiment("uniloss_rsn_18_mpii")
    assert (cfg.training.metric, cfg.training.score_activation, cfg.model.name) == ("pckh", "none", "rsn_18")
    t = cfg.trainer
    assert (t.optimizer.name, t.lr_schedule.base_lr, t.lr_schedule.milestones, t.lr_schedule.decay_rate,
            t.global_batch_size, t.epochs) == ("rmsprop", 2.5e-4, (30.0, 40.0), 0.25, 6, 50)
