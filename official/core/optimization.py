"""Optimizers and learning-rate schedules from the trainer config (Keras 3 core only).

Weight decay comes in two forms: `l2` adds wd * w to the gradient of every weight with ndim > 1, as
PyTorch's SGD(weight_decay=) does (the official recipes of the ECCV 2020 papers are PyTorch), implemented
as a Keras variable regularizer so tf.distribute scales it correctly; `decoupled` uses Keras' built-in
decoupled decay (AdamW-style). BatchNorm parameters and biases (ndim <= 1) are never decayed. Adam and
AdamW are Keras' own updates with each step's scalars shared across variables (`lean_adam`: bit-identical
steps and checkpoints, a cheaper graph to trace).
"""

from __future__ import annotations

import math

import keras
from keras import ops

from official.core.config import ConfigError, OptimizerConfig, ScheduleConfig, TrainerConfig
from official.core.lean_adam import LeanAdam, LeanAdamW


@keras.saving.register_keras_serializable(package="eccv20zoo")
class WarmupCosineStep(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up, then cosine (or step, or linear) decay, then a constant cool-down at the floor."""

    def __init__(
        self,
        name: str,
        base_lr: float,
        total_steps: int,
        warmup_steps: int = 0,
        warmup_start_lr: float = 0.0,
        min_lr: float = 0.0,
        cooldown_steps: int = 0,
        decay_steps: int = 1,
        decay_rate: float = 0.1,
        milestones: tuple[int, ...] = (),
    ):
        self.name = name
        self.base_lr = float(base_lr)
        self.total_steps = int(total_steps)
        self.warmup_steps = int(warmup_steps)
        self.warmup_start_lr = float(warmup_start_lr)
        self.min_lr = float(min_lr)
        self.cooldown_steps = int(cooldown_steps)
        self.decay_steps = max(int(decay_steps), 1)
        self.decay_rate = float(decay_rate)
        self.milestones = tuple(int(m) for m in milestones)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warm = float(max(self.warmup_steps, 1))
        warmup_lr = self.warmup_start_lr + (self.base_lr - self.warmup_start_lr) * step / warm
        after = ops.maximum(step - self.warmup_steps, 0.0)
        if self.name == "constant":
            decayed = ops.convert_to_tensor(self.base_lr, "float32") + 0.0 * step
        elif self.name == "cosine":
            span = float(max(self.total_steps - self.warmup_steps - self.cooldown_steps, 1))
            progress = ops.minimum(after / span, 1.0)
            decayed = self.min_lr + 0.5 * (self.base_lr - self.min_lr) * (1.0 + ops.cos(math.pi * progress))
        elif self.name == "step":
            decayed = self.base_lr * ops.power(self.decay_rate, ops.floor(after / self.decay_steps))
        elif self.name == "multistep":  # x decay_rate at each milestone step (PyTorch MultiStepLR, KM3D lr_step)
            passed = sum(ops.cast(step >= m, "float32") for m in self.milestones) if self.milestones else 0.0 * step
            decayed = self.base_lr * ops.power(self.decay_rate, passed)
        elif self.name == "linear":  # RSN's LambdaLR: straight down to min_lr at the last step
            span = float(max(self.total_steps - self.warmup_steps - self.cooldown_steps, 1))
            progress = ops.minimum(after / span, 1.0)
            decayed = self.base_lr + (self.min_lr - self.base_lr) * progress
        else:
            raise ConfigError(
                f"trainer.lr_schedule.name: expected constant, cosine, step, multistep or linear, got {self.name!r}"
            )
        if self.warmup_steps > 0:
            return ops.where(step < self.warmup_steps, warmup_lr, decayed)
        return decayed

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "base_lr": self.base_lr,
            "total_steps": self.total_steps,
            "warmup_steps": self.warmup_steps,
            "warmup_start_lr": self.warmup_start_lr,
            "min_lr": self.min_lr,
            "cooldown_steps": self.cooldown_steps,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "milestones": self.milestones,
        }


def build_schedule(cfg: ScheduleConfig, steps_per_epoch: int, total_steps: int, lr_scale: float = 1.0) -> WarmupCosineStep:
    """The schedule of `cfg` in steps; `lr_scale` applies the linear batch-size scaling rule."""
    return WarmupCosineStep(
        name=cfg.name,
        base_lr=cfg.base_lr * lr_scale,
        total_steps=total_steps,
        warmup_steps=int(round(cfg.warmup_epochs * steps_per_epoch)),
        warmup_start_lr=cfg.warmup_start_lr * lr_scale,
        min_lr=cfg.min_lr,
        cooldown_steps=int(round(cfg.cooldown_epochs * steps_per_epoch)),
        decay_steps=int(round(cfg.decay_epochs * steps_per_epoch)),
        decay_rate=cfg.decay_rate,
        milestones=tuple(int(round(m * steps_per_epoch)) for m in cfg.milestones),
    )


def build_optimizer(cfg: OptimizerConfig, learning_rate, decoupled_weight_decay: float = 0.0) -> keras.optimizers.Optimizer:
    kwargs = {"learning_rate": learning_rate}
    if cfg.clipnorm > 0:
        kwargs["clipnorm"] = cfg.clipnorm
    if cfg.global_clipnorm > 0:
        if cfg.clipnorm > 0:
            raise ConfigError("trainer.optimizer: set clipnorm or global_clipnorm, not both")
        kwargs["global_clipnorm"] = cfg.global_clipnorm
    if decoupled_weight_decay > 0:
        kwargs["weight_decay"] = decoupled_weight_decay
    if cfg.name == "sgd":
        opt = keras.optimizers.SGD(momentum=cfg.momentum, nesterov=cfg.nesterov, **kwargs)
    elif cfg.name == "adam":
        opt = LeanAdam(beta_1=cfg.beta_1, beta_2=cfg.beta_2, epsilon=cfg.epsilon, amsgrad=cfg.amsgrad, **kwargs)
    elif cfg.name == "adamw":
        kwargs.setdefault("weight_decay", 0.0)
        opt = LeanAdamW(beta_1=cfg.beta_1, beta_2=cfg.beta_2, epsilon=cfg.epsilon, amsgrad=cfg.amsgrad, **kwargs)
    elif cfg.name == "rmsprop":
        opt = keras.optimizers.RMSprop(rho=cfg.rho, momentum=cfg.momentum, epsilon=cfg.epsilon, **kwargs)
    else:
        raise ConfigError(f"trainer.optimizer.name: expected sgd, adam, adamw or rmsprop, got {cfg.name!r}")
    return opt


def decayed_variables(model: keras.Model) -> list:
    """Trainable weights that take weight decay: ndim > 1 (never BatchNorm parameters or biases)."""
    return [v for v in model.trainable_variables if len(v.shape) > 1]


def apply_l2_weight_decay(model: keras.Model, weight_decay: float) -> int:
    """Adds 0.5 * wd * ||w||^2 per decayed weight (gradient wd * w, PyTorch's coupled decay)."""
    if weight_decay <= 0:
        return 0
    reg = keras.regularizers.L2(0.5 * weight_decay)
    variables = decayed_variables(model)
    for v in variables:
        v.regularizer = reg
    return len(variables)


def configure_optimizer(model: keras.Model, trainer: TrainerConfig, steps_per_epoch: int, total_steps: int, lr_scale: float):
    """Schedule + optimizer + weight decay for `model` (call inside the strategy scope)."""
    schedule = build_schedule(trainer.lr_schedule, steps_per_epoch, total_steps, lr_scale)
    if trainer.weight_decay_mode not in ("l2", "decoupled"):
        raise ConfigError(f"trainer.weight_decay_mode: expected l2 or decoupled, got {trainer.weight_decay_mode!r}")
    decoupled = trainer.weight_decay if trainer.weight_decay_mode == "decoupled" else 0.0
    optimizer = build_optimizer(trainer.optimizer, schedule, decoupled)
    if decoupled > 0:
        optimizer.exclude_from_weight_decay(var_list=[v for v in model.trainable_variables if len(v.shape) <= 1])
    else:
        apply_l2_weight_decay(model, trainer.weight_decay)
    return optimizer, schedule
