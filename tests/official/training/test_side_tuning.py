"""Side-Tuning: blends, freezing, zero forgetting, FCN4, distillation init, a mini stream, export.

The card's checks (../shared/specs/side_tuning.md, "Checks we can run here") are numbered in the
test names' docstrings.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from official.core import config as config_lib
from official.core import export, registry, trainer
from official.core.task import build_task
from official.training.side_tuning.config import SideTuningConfig
from official.training.side_tuning.method import TaskPhases, distill_side
from official.vision.side_tuning.layers import DenseBlend, fcn4
from official.vision.side_tuning.model import SideTuneNet

SMALL = dict(base="resnet20_cifar", num_tasks=2, classes_per_task=3)


def _net(seed=0, **kw) -> SideTuneNet:
    registry._ensure_index()
    keras.utils.set_random_seed(seed)
    return SideTuneNet(**{**SMALL, **kw})


def _x(n=4, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 32, 32, 3)).astype("float32")


def test_alpha_one_is_the_base_and_alpha_zero_the_side():
    """Check 1: alpha fixed at 1 gives head(base) exactly, at 0 head(side)."""
    x, ids = _x(), np.zeros(4, np.int32)
    for alpha, branch in ((1.0, "base"), (0.0, "side0_pool")):
        net = _net(initial_alpha=alpha, trainable_alpha=False)
        feature = keras.Model(net.images_input, net.get_layer(branch).output)(x) if branch != "base" else net.get_layer("base")(x)
        expected = net.get_layer("head0")(feature)
        np.testing.assert_array_equal(net({"images": x, "task_id": ids}), expected)
    # in between: R = alpha B + (1 - alpha) S
    net = _net(initial_alpha=0.3, trainable_alpha=False)
    side = keras.Model(net.images_input, net.get_layer("side0_pool").output)(x)
    blended = 0.3 * np.asarray(net.get_layer("base")(x)) + 0.7 * np.asarray(side)
    np.testing.assert_allclose(net({"images": x, "task_id": ids}), net.get_layer("head0")(blended), atol=1e-5)


def test_fcn4_shapes_and_parameter_count():
    """Check 4: FCN4 maps 32x32 to (5, 5, 64) then 64, the ResNet feature width, with 25,904 parameters."""
    inputs = keras.Input((32, 32, 3))
    side = keras.Model(inputs, fcn4(inputs, "s"))
    assert side.count_params() == 25_904
    assert side.get_layer("s_relu4").output.shape[1:] == (5, 5, 64)
    assert side.output.shape[-1] == registry.create_model("resnet44_cifar", include_top=False).output.shape[-1] == 64
    counts = SideTuneNet(base="resnet44_cifar", num_tasks=10, classes_per_task=10)
    trainable = sum(int(np.prod(v.shape)) for v in counts.trainable_weights)
    assert trainable == 10 * (25_904 + 1 + 650)  # per task: FCN4 + alpha + 64x10 head


def test_dense_blend_is_a_convex_combination():
    """Check 7: three inputs, softmax weights that sum to 1, the merged tensor their combination."""
    blend = DenseBlend()
    xs = [tf.constant(np.random.default_rng(i).normal(size=(2, 4)), tf.float32) for i in range(3)]
    blend(xs)
    blend.logits.assign([0.3, -1.0, 2.0])
    w = np.exp([0.3, -1.0, 2.0]) / np.exp([0.3, -1.0, 2.0]).sum()
    np.testing.assert_allclose(np.asarray(blend.weights_softmax()).sum(), 1.0, atol=1e-6)
    np.testing.assert_allclose(blend(xs), sum(wi * x.numpy() for wi, x in zip(w, xs, strict=True)), atol=1e-6)


def _compile(net):
    net.compile(optimizer=keras.optimizers.Adam(1e-2), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                jit_compile=False)
    net.optimizer.build(net.trainable_variables)


def test_one_step_moves_only_the_current_task_and_never_the_base():
    """Check 2: after a step of task 1 the base and task 0 are bit-identical; task 1's side, alpha and
    head move; alpha stays in (0, 1)."""
    net = _net()
    _compile(net)
    phases = TaskPhases(steps_per_task=1, cfg=SideTuningConfig())
    phases.set_model(net)
    before = {v.path: v.numpy().copy() for v in net.weights}
    x, y = _x(8), np.arange(8) % 3
    net.optimizer.iterations.assign(1)  # step 1 = task 1
    phases.on_train_batch_begin(0)
    net.train_on_batch({"images": x, "task_id": np.ones(8, np.int32)}, y)
    changed = {p for p, v in before.items() if not np.array_equal(v, _value(net, p))}
    assert not any(p.startswith("base") for p in changed)
    assert not any(p.startswith(("side0_", "blend0", "head0")) for p in changed)
    assert any(p.startswith("side1_") for p in changed) and "blend1/alpha_logit" in changed and any(p.startswith("head1") for p in changed)
    alpha = float(net.get_layer("blend1").alpha())
    assert 0.0 < alpha < 1.0 and alpha != 0.5


def _value(net, path):
    return next(v for v in net.weights if v.path == path).numpy()


def test_distilled_side_regresses_the_base_feature():
    """Check 5: distilling S from B on 256 synthetic images lowers MSE(S(x), B(x)) more than 10x."""
    net = _net()
    images = np.random.default_rng(0).uniform(-2, 2, (256, 32, 32, 3)).astype("float32")
    images[:128] *= np.linspace(0, 1, 32)[None, :, None, None]  # two families of images, distinct features
    before, after = distill_side(net, 0, images, steps=150, lr=3e-3)
    assert after < before / 10, (before, after)


def _colour_task(task: int, n_per_class: int, seed: int):
    """10 classes per task, each a distinct mean colour + noise: separable patterns of the card's mini iCIFAR."""
    rng = np.random.default_rng(seed + task)
    colours = np.random.default_rng(100 + task).uniform(-1.5, 1.5, (10, 3))
    y = np.repeat(np.arange(10), n_per_class)
    x = colours[y][:, None, None, :] + rng.normal(0, 0.25, (len(y), 32, 32, 3))
    return x.astype("float32"), y


def test_mini_stream_learns_both_tasks_and_forgets_nothing():
    """Checks 6 and 3: two synthetic tasks of 10 classes each reach > 90%; training task 1 leaves task
    0's predictions bit-identical."""
    net = _net(num_tasks=2, classes_per_task=10)
    _compile(net)
    steps = 60
    phases = TaskPhases(steps_per_task=steps, cfg=SideTuningConfig())
    data = [_colour_task(k, 24, 0) for k in range(2)]
    test = [_colour_task(k, 8, 7) for k in range(2)]

    def batches(k):
        x, y = data[k]
        rng = np.random.default_rng(k)
        for _ in range(steps):
            i = rng.choice(len(y), 32, replace=False)
            yield {"images": x[i], "task_id": np.full(32, k, np.int32)}, y[i]

    def accuracy(k):
        x, y = test[k]
        return float(np.mean(np.argmax(net({"images": x, "task_id": np.full(len(y), k, np.int32)}), -1) == y))

    net.fit(batches(0), steps_per_epoch=steps, epochs=1, callbacks=[phases], verbose=0)
    after_task0 = np.asarray(net.task_model(0)(test[0][0]))
    acc0 = accuracy(0)
    net.fit(batches(1), steps_per_epoch=steps, epochs=1, callbacks=[phases], verbose=0)
    assert acc0 > 0.9 and accuracy(1) > 0.9, (acc0, accuracy(1))
    np.testing.assert_array_equal(np.asarray(net.task_model(0)(test[0][0])), after_task0)


def test_digits_stream_runs_exports_one_signature_per_task(digits_dir, tmp_path):
    """Check 8 and the real pipeline: side_tuning_digits for 4 steps, per-task top-1, SavedModel with
    task_0/task_1 signatures equal to Keras, TFLite of one task."""
    cfg = config_lib.resolve(
        "side_tuning_digits",
        params_override=(
            f"train_data.path={digits_dir}/train,eval_data.path={digits_dir}/val,trainer.train_steps=4,"
            "trainer.steps_per_loop=2,trainer.global_batch_size=16,trainer.validation_every_n_loops=0,"
            "train_data.cache=false,eval_data.cache=false"
        ),
    )
    results, model = trainer.run_experiment(cfg, str(tmp_path / "run"), mode="train_and_eval", return_model=True)
    ev = results["eval"]
    assert set(ev) >= {"top1_task0", "top1_task1", "average_top1"}
    assert ev["average_top1"] == pytest.approx((ev["top1_task0"] + ev["top1_task1"]) / 2)
    task = build_task(cfg)
    # No forgetting on the digits stream: task 0 (digits 0-4) as it stood when its 2 steps ended (the
    # step-2 checkpoint) scores exactly as after task 1's steps, with bit-identical logits.
    at_step2 = task.build_model()
    tf.train.Checkpoint(model=at_step2).restore(str(tmp_path / "run" / "checkpoints" / "ckpt-2")).expect_partial()
    val = task.task_dataset(cfg.eval_data, 0, False, 64)
    before = task.evaluate(at_step2, val)
    after = task.evaluate(model, val)
    assert before["top1_task0"] == after["top1_task0"] == ev["top1_task0"]
    images = next(iter(val))[0]["images"]
    np.testing.assert_array_equal(at_step2.task_model(0)(images), model.task_model(0)(images))
    assert not np.array_equal(at_step2.task_model(1)(images), model.task_model(1)(images))  # task 1 did train
    export_cfg = dataclasses.replace(cfg.export, verify_examples=4, warmup_requests=1, formats=("saved_model", "tflite"))
    done = export.export_all(model, task, str(tmp_path / "export"), "side", export_cfg, 32)
    loaded = tf.saved_model.load(done["saved_model"][0])
    assert {"serving_default", "task_0", "task_1"} <= set(loaded.signatures)
    pixels = np.random.default_rng(0).uniform(0, 255, (3, 32, 32, 3)).astype("float32")
    x = (pixels - np.asarray(cfg.eval_data.mean, np.float32)) / np.asarray(cfg.eval_data.std, np.float32)
    got = loaded.signatures["task_1"](images=tf.constant(pixels))["logits"].numpy()
    np.testing.assert_allclose(got, model.task_model(1)(x), atol=1e-4)
    assert done["tflite"][1]["max_abs_diff"] <= 1e-4 if "max_abs_diff" in done["tflite"][1] else True
