"""Adversarial noise training (ANT): a min-max step against a learned noise generator, with replay.

Each step (Rusak et al., Sec. 3; the official `main.py` loop):
1. Generator ascent: delta = G(z), scaled to L2 norm epsilon (`noise.project_to_norm`); G's Adam step
   maximises the classifier's cross-entropy with the classifier in inference mode.
2. Classifier descent on a mixed batch: the first p_clean share clean, the next `adversarial_fraction`
   noised by the live G, the rest by a generator snapshot drawn from the replay buffer (the live G
   while the buffer is empty, i.e. during epoch 0). Keras' own step does this part.
3. Every `snapshot_every` steps G's weights are copied into the next replay slot (a ring of
   `replay_slots` stacked variables, checkpointed with the run).
The step is TensorFlow code (two optimisers in one step), so ANT trains under the TF backend; the
generator, its optimizer and the buffer stay out of every exported graph.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from official.training.game_of_noise import noise
from official.training.game_of_noise.generator import NoiseGenerator, apply_generator
from official.training.game_of_noise.trainers import NoiseTrainer


class AdversarialNoiseTrainer(NoiseTrainer):
    """ANT around `classifier`; `snapshot_every` > 0 steps between replay snapshots."""

    def __init__(self, classifier, generator: str, epsilon: float, generator_lr: float, p_clean: float,
                 adversarial_fraction: float, replay_slots: int, snapshot_every: int, mean, std, seed: int = 0,
                 ce_fn=None, **kwargs):
        super().__init__(classifier, "ant", 0.0, p_clean, mean, std, seed, name="ant_trainer", **kwargs)
        if p_clean + adversarial_fraction > 1.0:
            raise ValueError(f"training.adversarial_fraction: p_clean + adversarial_fraction = {p_clean + adversarial_fraction} > 1")
        if snapshot_every <= 0 or replay_slots <= 0:
            raise ValueError("training.snapshot_every and training.replay_slots must be > 0")
        self.epsilon = float(epsilon)
        self.adversarial_fraction = float(adversarial_fraction)
        self.snapshot_every = int(snapshot_every)
        self.generator = NoiseGenerator(generator, name="noise_generator")
        self.generator.trainable = False  # not the network's: stepped by its own optimizer below
        self.generator_optimizer = keras.optimizers.Adam(generator_lr, name="generator_adam")
        self.generator_optimizer.build(self.generator.weights_list)
        self.replay = [
            self.add_weight(shape=(replay_slots, *w.shape), initializer="zeros", trainable=False, name=f"replay_{i}")
            for i, w in enumerate(self.generator.weights_list)
        ]
        self.replay_filled = self.add_weight(shape=(), initializer="zeros", dtype="int32", trainable=False, name="replay_filled")
        self.replay_slots = int(replay_slots)
        self.ce_fn = ce_fn
        self.generator_ce = keras.metrics.Mean(name="generator_ce")

    def checkpoint_extras(self) -> dict:
        # Each variable by name: the generator keeps its weights in a list, which a TF checkpoint of the
        # layer object would not follow.
        extras = {"generator_optimizer": self.generator_optimizer, "replay_filled": self.replay_filled}
        extras.update({f"generator_{i}": w for i, w in enumerate(self.generator.weights_list)})
        return {**extras, **{f"replay_{i}": r for i, r in enumerate(self.replay)}}

    @property
    def metrics(self):
        return [*super().metrics, self.generator_ce]

    def _noise_input(self, x):
        shape = ops.shape(x)
        return self.generator.noise_input(shape[0], shape[1], shape[2], seed=self.seed_generator)

    def generator_step(self, x, y):
        """One Adam ascent step of G on the classifier's CE (classifier frozen, inference mode)."""
        u = self.to_unit(x)
        z = self._noise_input(x)
        variables = [w.value for w in self.generator.weights_list]
        with tf.GradientTape() as tape:
            tape.watch(variables)
            noisy = noise.project_to_norm(u, self.generator(z), self.epsilon)
            ce = ops.mean(self.ce_fn(y, self.classifier(self.from_unit(noisy), training=False)))
            loss = -ce
        grads = tape.gradient(loss, variables)
        self.generator_optimizer.apply(grads, self.generator.weights_list)
        self.generator_ce.update_state(ce)
        return ce

    def _replay_delta(self, z, live):
        filled = tf.minimum(self.replay_filled.value, self.replay_slots)

        def from_buffer():
            slot = keras.random.randint((), 0, filled, seed=self.seed_generator)
            return apply_generator([tf.gather(r.value, slot) for r in self.replay], z)

        return tf.cond(filled > 0, from_buffer, lambda: live)

    def mixed_batch(self, x):
        """Clean | live-generator noise | replay noise, in that order along the batch."""
        batch = ops.shape(x)[0]
        u = self.to_unit(x)
        z_live, z_replay = self._noise_input(x), self._noise_input(x)
        live = self.generator(z_live)
        replay = self._replay_delta(z_replay, live)
        n_clean = ops.cast(ops.round(self.p_clean * ops.cast(batch, "float32")), "int32")
        n_adv = ops.cast(ops.round(self.adversarial_fraction * ops.cast(batch, "float32")), "int32")
        index = ops.reshape(ops.arange(batch), (-1, 1, 1, 1))
        delta = ops.where(index < n_clean + n_adv, live, replay)
        noisy = self.from_unit(noise.project_to_norm(u, ops.stop_gradient(delta), self.epsilon))
        return ops.where(index < n_clean, x, noisy)

    def snapshot(self, step):
        """Copies G into the next replay slot when `step` is a multiple of `snapshot_every`."""

        def write():
            slot = self.replay_filled.value % self.replay_slots
            for r, w in zip(self.replay, self.generator.weights_list, strict=True):
                r.assign(tf.tensor_scatter_nd_update(r.value, [[slot]], w.value[None]))
            self.replay_filled.assign_add(1)
            return tf.constant(True)

        return tf.cond(tf.equal(step % self.snapshot_every, 0), write, lambda: tf.constant(False))

    def train_step(self, data):
        x, y = data[0], data[1]
        self.generator_step(x, y)
        logs = super().train_step((self.mixed_batch(x), *data[1:]))
        self.snapshot(tf.cast(self.optimizer.iterations, tf.int32))
        return {**logs, "generator_ce": self.generator_ce.result()}
