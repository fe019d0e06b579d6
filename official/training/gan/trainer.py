"""The adversarial training step shared by every GAN method: generators, then discriminators, each with
its own optimizer, inside one `train_step` that Keras' `fit` runs under tf.distribute.

An objective (a subclass) creates its extra networks in `build_networks` and returns named loss terms
from `generator_losses` and `discriminator_losses`, written with keras.ops; this class owns what is
the same for all of them:

- distribution: each replica's total loss is divided by the number of replicas before the gradient,
  because the optimizers sum gradients over replicas (so the update equals a single-device step on the
  global batch);
- mixed precision: both optimizers scale their losses (`optimizer.scale_loss`);
- the discriminators' optimizer (the trainer's schedule, `d_lr_multiplier`, own betas) and the optional
  history of fakes (official/training/gan/image_pool.py) and generator average (ema.py);
- checkpointing: the exported network (the average when there is one) is the trainer's checkpointed
  model; the live generator, the other networks, the discriminators' optimizer and the histories are
  the method's checkpoint extras, so a resumed run continues exactly;
- one Mean metric per loss term, logged by the trainer's ScalarLogger.

TensorFlow is imported where the TF step needs it, not at module level: the objectives subclass this
class, and the JAX step (jax_step.py) imports them on machines without TensorFlow (the GPU benchmarks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import keras
from keras import ops

from official.core import optimization
from official.core.config import OptimizerConfig
from official.training.gan import ema
from official.training.gan.config import GANConfig

if TYPE_CHECKING:
    from official.training.gan.image_pool import ImageHistory


def scale_for_replicas(loss):
    """loss / replicas: the optimizers all-reduce (sum) gradients over replicas."""
    import tensorflow as tf

    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return loss if replicas == 1 else loss * (1.0 / replicas)


class AdversarialTrainer(keras.Model):
    """Base of GAN objectives; `network` is the generator the task built (the one exported).

    Subclasses name their loss terms in GENERATOR_TERMS and DISCRIMINATOR_TERMS (their metrics are created
    before the step is traced)."""

    GENERATOR_TERMS: tuple[str, ...] = ()
    DISCRIMINATOR_TERMS: tuple[str, ...] = ()

    def __init__(self, network: keras.Model, config: GANConfig, trainer_config: Any, schedule_args: dict,
                 image_shape: tuple[int, int, int], seed: int = 0, **kwargs):
        super().__init__(name=kwargs.pop("name", "adversarial_trainer"), **kwargs)
        self.network = network
        self.gan_config = config
        self.image_shape = tuple(int(s) for s in image_shape)
        self.seed = int(seed)
        self.generators: dict[str, keras.Model] = {"network": network}
        self.discriminators: dict[str, keras.Model] = {}
        self.histories: dict[str, ImageHistory] = {}
        self.build_networks()
        for name, net in {**self.generators, **self.discriminators}.items():
            if not net.built:
                raise ValueError(f"objective network {name!r} is not built after build_networks()")
        self.average = ema.make_average(network) if config.ema_decay > 0 else None
        self.d_optimizer = self._discriminator_optimizer(trainer_config, schedule_args)
        self.d_optimizer.build(self.discriminator_variables)
        self._evaluating = False  # set while test_step is traced: validation touches no history
        names = ("loss", *(f"g_{t}" for t in self.GENERATOR_TERMS), *(f"d_{t}" for t in self.DISCRIMINATOR_TERMS))
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}

    # ---- what an objective defines -------------------------------------------------------------
    def build_networks(self) -> None:
        """Create (and build) extra generators and the discriminators; add histories with `add_history`."""
        raise NotImplementedError

    def generator_losses(self, batch: dict, training: bool) -> tuple[dict[str, Any], dict[str, Any]]:
        """(named generator loss terms, fakes the discriminator step needs)."""
        raise NotImplementedError

    def discriminator_losses(self, batch: dict, fakes: dict[str, Any], step) -> dict[str, Any]:
        """Named discriminator loss terms (fakes arrive without gradient; pass them through `from_history`)."""
        raise NotImplementedError

    # ---- shared machinery ----------------------------------------------------------------------
    def add_history(self, name: str) -> None:
        if self.gan_config.pool_size > 0:
            from official.training.gan.image_pool import ImageHistory  # a tf.Module

            self.histories[name] = ImageHistory(self.gan_config.pool_size, self.image_shape,
                                                seed=self.seed + len(self.histories), name=f"history_{name}")

    def from_history(self, name: str, images, step):
        """The fakes the discriminator sees; the history is neither read nor written while evaluating."""
        pool = self.histories.get(name)
        return images if pool is None or self._evaluating else pool.query(images, step)

    def _discriminator_optimizer(self, trainer_config, schedule_args: dict):
        schedule_config = dict(vars(trainer_config.lr_schedule))
        schedule_config["base_lr"] = schedule_config["base_lr"] * self.gan_config.d_lr_multiplier
        schedule = optimization.build_schedule(type(trainer_config.lr_schedule)(**schedule_config), **schedule_args)
        opt = OptimizerConfig(**vars(trainer_config.optimizer))
        if self.gan_config.d_beta_1 >= 0:
            opt.beta_1 = self.gan_config.d_beta_1
        if self.gan_config.d_beta_2 >= 0:
            opt.beta_2 = self.gan_config.d_beta_2
        optimizer = optimization.build_optimizer(opt, schedule, 0.0)
        if keras.mixed_precision.global_policy().name == "mixed_float16":
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        return optimizer

    @property
    def inference_model(self) -> keras.Model:
        return self.average if self.average is not None else self.network

    @property
    def generator_variables(self) -> list:
        """Every generator's trainable variables: what the trainer's optimizer steps."""
        return [v for net in self.generators.values() for v in net.trainable_variables]

    @property
    def discriminator_variables(self) -> list:
        return [v for net in self.discriminators.values() for v in net.trainable_variables]

    def checkpoint_extras(self) -> dict:
        extras: dict[str, Any] = {f"discriminator_{k}": v for k, v in self.discriminators.items()}
        extras.update({f"generator_{k}": v for k, v in self.generators.items() if k != "network"})
        extras["discriminator_optimizer"] = self.d_optimizer
        extras.update(self.histories)
        if self.average is not None:
            extras["live_generator"] = self.network
        return extras

    @property
    def metrics(self):
        return list(self.trackers.values())

    def _track(self, terms: dict) -> None:
        unknown = sorted(set(terms) - set(self.trackers))
        if unknown:
            raise ValueError(f"{type(self).__name__}: loss terms {unknown} are not declared in GENERATOR_TERMS / "
                             "DISCRIMINATOR_TERMS")
        for name, value in terms.items():
            self.trackers[name].update_state(value)

    def call(self, inputs, training=False):
        """The exported network on domain A (builds the wrapper for Keras; training uses train_step)."""
        return self.network(inputs["a"] if isinstance(inputs, dict) else inputs, training=training)

    def train_step(self, data):
        import tensorflow as tf

        batch = data[0] if isinstance(data, tuple) else data
        step = self.optimizer.iterations
        g_vars = self.generator_variables
        with tf.GradientTape() as tape:
            g_terms, fakes = self.generator_losses(batch, training=True)
            g_total = ops.sum(ops.stack([ops.cast(v, "float32") for v in g_terms.values()]))
            g_scaled = self.optimizer.scale_loss(scale_for_replicas(g_total))
        g_grads = tape.gradient(g_scaled, g_vars)
        every = int(self.gan_config.generator_every)
        if every > 1:  # n_critic: the generators step when the discriminators' step count is a multiple of N

            def step_generators():
                self.optimizer.apply_gradients(zip(g_grads, g_vars, strict=True))
                return tf.constant(True)

            tf.cond(tf.equal(self.d_optimizer.iterations % every, 0), step_generators, lambda: tf.constant(False))
        else:
            self.optimizer.apply_gradients(zip(g_grads, g_vars, strict=True))
        fakes = tf.nest.map_structure(tf.stop_gradient, fakes)
        d_vars = self.discriminator_variables
        with tf.GradientTape() as tape:
            d_terms = self.discriminator_losses(batch, fakes, step)
            d_total = ops.sum(ops.stack([ops.cast(v, "float32") for v in d_terms.values()]))
            d_scaled = self.d_optimizer.scale_loss(scale_for_replicas(d_total))
        self.d_optimizer.apply_gradients(zip(tape.gradient(d_scaled, d_vars), d_vars, strict=True))
        if self.average is not None:
            decay = tf.where(self.optimizer.iterations <= self.gan_config.ema_start_step, 0.0, self.gan_config.ema_decay)
            ema.update_average(self.average, self.network, decay)
        return self._report(g_terms, d_terms, g_total)

    def _report(self, g_terms: dict, d_terms: dict, g_total) -> dict:
        self._track({**{f"g_{k}": v for k, v in g_terms.items()}, **{f"d_{k}": v for k, v in d_terms.items()},
                     "loss": g_total})
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def test_step(self, data):
        """Keras' validation pass: every loss term on the batch in inference mode, nothing updated (the
        fakes go to the discriminators directly, not through the history)."""
        batch = data[0] if isinstance(data, tuple) else data
        self._evaluating = True
        try:
            g_terms, fakes = self.generator_losses(batch, training=False)
            d_terms = self.discriminator_losses(batch, fakes, self.optimizer.iterations)
        finally:
            self._evaluating = False
        g_total = ops.sum(ops.stack([ops.cast(v, "float32") for v in g_terms.values()]))
        return self._report(g_terms, d_terms, g_total)
