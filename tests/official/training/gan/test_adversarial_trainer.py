"""The shared GAN step on a toy objective (a 3x3-conv generator, a strided-conv discriminator, LSGAN + L1):
both players learn with their own optimizers, a two-replica MirroredStrategy step equals a one-device
step on the same global batch (loss scaling), the generator average follows the EMA recursion computed
here by hand, a resumed run equals an uninterrupted one, and the image history follows CycleGAN's rules."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from official.core import optimization
from official.core.config import OptimizerConfig, ScheduleConfig, TrainerConfig
from official.core.strategy import configure_logical_cpus
from official.losses import gan as gan_losses
from official.training.gan.config import GANConfig
from official.training.gan.image_pool import ImageHistory
from official.training.gan.trainer import AdversarialTrainer

SIZE = 8
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


class ToyObjective(AdversarialTrainer):
    GENERATOR_TERMS = ("adversarial", "l1")
    DISCRIMINATOR_TERMS = ("adversarial",)

    def build_networks(self):
        self.discriminators["d"] = keras.Sequential(
            [keras.Input((SIZE, SIZE, 3)), keras.layers.Conv2D(4, 3, strides=2, padding="same"),
             keras.layers.LeakyReLU(0.2), keras.layers.Conv2D(1, 3, padding="same")], name="toy_d")
        self.add_history("b")

    def generator_losses(self, batch, training):
        fake = self.network(batch["a"], training=training)
        adversarial = gan_losses.lsgan_generator_loss(self.discriminators["d"](fake, training=training))
        l1 = 0.1 * keras.ops.mean(keras.ops.abs(fake - batch["b"]))
        return {"adversarial": adversarial, "l1": l1}, {"b": fake}

    def discriminator_losses(self, batch, fakes, step):
        d = self.discriminators["d"]
        fake = self.from_history("b", fakes["b"], step)
        return {"adversarial": gan_losses.lsgan_discriminator_loss(d(batch["b"], training=True), d(fake, training=True))}


def _generator():
    return keras.Sequential([keras.Input((SIZE, SIZE, 3)), keras.layers.Conv2D(3, 3, padding="same", activation="tanh")],
                            name="toy_g")


def _trainer_config(optimizer="adam"):
    return TrainerConfig(optimizer=OptimizerConfig(name=optimizer, beta_1=0.5, beta_2=0.999, momentum=0.0),
                         lr_schedule=ScheduleConfig(name="constant", base_lr=1e-2))


def _make(gan_config, seed=0, init_seed=None, optimizer="adam"):
    keras.utils.set_random_seed(seed if init_seed is None else init_seed)
    tcfg = _trainer_config(optimizer)
    args = dict(steps_per_epoch=10, total_steps=100, lr_scale=1.0)
    model = ToyObjective(_generator(), gan_config, tcfg, args, (SIZE, SIZE, 3), seed=seed)
    optimizer, _ = optimization.configure_optimizer(model.network, tcfg, 10, 100, 1.0)
    model.compile(optimizer=optimizer, jit_compile=False)
    model.optimizer.build(model.generator_variables)
    return model


def _data(batch=4, steps=4, seed=1):
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1, 1, (steps * batch, SIZE, SIZE, 3)).astype(np.float32)
    b = np.clip(a[..., ::-1] * 0.5 + 0.2, -1, 1).astype(np.float32)
    return tf.data.Dataset.from_tensor_slices({"a": a, "b": b}).batch(batch, drop_remainder=True)


def _weights(model):
    return [w.copy() for w in model.get_weights()]


def test_both_players_learn_with_their_own_optimizers():
    model = _make(GANConfig(objective="toy", d_lr_multiplier=0.5, d_beta_1=0.0))
    g0, d0 = model.network.get_weights(), model.discriminators["d"].get_weights()
    history = model.fit(_data(), epochs=1, verbose=0)
    assert set(history.history) == {"loss", "g_adversarial", "g_l1", "d_adversarial"}
    assert all(np.abs(a - b).max() > 0 for a, b in zip(g0, model.network.get_weights(), strict=True))
    assert all(np.abs(a - b).max() > 0 for a, b in zip(d0, model.discriminators["d"].get_weights(), strict=True))
    assert int(model.optimizer.iterations.numpy()) == 4 and int(model.d_optimizer.iterations.numpy()) == 4
    assert float(model.d_optimizer.learning_rate.numpy()) == pytest.approx(5e-3)
    assert float(model.d_optimizer.beta_1) == 0.0
    assert len(model.optimizer.variables) == 1 + 2 * len(model.network.trainable_variables)  # no D slots


def test_generator_average_follows_the_ema_recursion():
    decay = 0.9
    model = _make(GANConfig(objective="toy", ema_decay=decay, ema_start_step=2))
    assert model.inference_model is model.average
    expected = model.network.get_weights()
    for step, batch in enumerate(_data(steps=4)):
        model.train_on_batch(batch)
        live = model.network.get_weights()
        d = 0.0 if step + 1 <= 2 else decay  # the average copies the generator up to ema_start_step
        expected = [d * e + (1 - d) * w for e, w in zip(expected, live, strict=True)]
    for got, want, live in zip(model.average.get_weights(), expected, model.network.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, atol=1e-6)
        assert np.abs(got - live).max() > 1e-4  # really an average, not a copy


def test_resume_equals_an_uninterrupted_run(tmp_path):
    cfg = GANConfig(objective="toy", ema_decay=0.5, pool_size=3)
    data = list(_data(steps=4))
    straight = _make(cfg)
    for batch in data:
        straight.train_on_batch(batch)
    first = _make(cfg)
    for batch in data[:2]:
        first.train_on_batch(batch)
    ckpt = tf.train.Checkpoint(model=first.inference_model, optimizer=first.optimizer, **first.checkpoint_extras())
    path = ckpt.save(str(tmp_path / "ckpt"))
    resumed = _make(cfg, init_seed=7)  # other initial weights: everything must come from the checkpoint
    tf.train.Checkpoint(model=resumed.inference_model, optimizer=resumed.optimizer,
                        **resumed.checkpoint_extras()).restore(path).assert_existing_objects_matched()
    for batch in data[2:]:
        resumed.train_on_batch(batch)
    for a, b in zip(_weights(straight) + [straight.histories["b"].images.numpy()],
                    _weights(resumed) + [resumed.histories["b"].images.numpy()], strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert set(first.checkpoint_extras()) == {"discriminator_d", "discriminator_optimizer", "b", "live_generator"}


def test_validation_reports_every_term_and_changes_nothing():
    model = _make(GANConfig(objective="toy", pool_size=3))
    model.fit(_data(steps=2), epochs=1, verbose=0)
    weights, history = _weights(model), model.histories["b"].images.numpy().copy()
    results = model.evaluate(_data(steps=2, seed=5), return_dict=True, verbose=0)
    assert set(results) == {"loss", "g_adversarial", "g_l1", "d_adversarial"}
    assert all(np.isfinite(v) and v > 0 for v in results.values())
    for a, b in zip(weights, _weights(model), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(history, model.histories["b"].images.numpy())
    assert int(model.optimizer.iterations.numpy()) == 2 and int(model.histories["b"].count.numpy()) == 3


def _mirrored_against_single() -> float:
    """Max weight difference after 2 steps: MirroredStrategy on 2 logical CPUs vs one device, batch 4."""
    configure_logical_cpus(2)
    cfg = GANConfig(objective="toy")
    # Plain SGD: its step is proportional to the gradient, so a missing 1/replicas shows (Adam would hide it).
    single = _make(cfg, optimizer="sgd")
    for batch in _data(batch=4, steps=2):
        single.train_on_batch(batch)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        mirrored = _make(cfg, optimizer="sgd")
    mirrored.fit(strategy.experimental_distribute_dataset(_data(batch=4, steps=2)), epochs=1, verbose=0)
    assert int(mirrored.optimizer.iterations.numpy()) == 2
    return max(float(np.abs(a - b).max()) for a, b in zip(single.get_weights(), mirrored.get_weights(), strict=True))


def test_two_replicas_step_like_one_device_on_the_global_batch():
    # Logical CPUs must be set before TensorFlow initialises: a fresh process.
    env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    out = subprocess.run([sys.executable, __file__], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    diff = float(out.stdout.strip().splitlines()[-1])
    assert diff < 2e-5, diff


def test_image_history_rules():
    pool = ImageHistory(3, (1,), seed=0)
    first = tf.constant([[1.0], [2.0]])
    np.testing.assert_array_equal(pool.query(first, 0).numpy(), first.numpy())  # filling: returned as given
    out = pool.query(tf.constant([[3.0], [4.0]]), 1).numpy().ravel()
    assert out[0] == 3.0 and int(pool.count.numpy()) == 3  # the third slot filled by 3
    assert out[1] in (1.0, 2.0, 3.0, 4.0)
    seen = []
    for step in range(2, 40):
        batch = tf.constant([[10.0 + step]])
        got = float(pool.query(batch, step).numpy()[0, 0])
        stored = sorted(pool.images.numpy().ravel())
        seen.append(got != 10.0 + step)
        if got != 10.0 + step:
            assert 10.0 + step in stored  # swapped in for the returned old image
    assert 0.25 < np.mean(seen) < 0.75  # about half the queries return a stored image
    assert ImageHistory(0, (1,)).query(first, 0) is first


if __name__ == "__main__":
    print(_mirrored_against_single())
