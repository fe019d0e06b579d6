"""ProxyBNN experiments: the reconstructed ImageNet recipe, CIFAR-10, and the digits binary-vs-real pair.

The paper's training recipe could not be read (no code, paper tables unavailable); the ImageNet and
CIFAR-10 recipes below are the spec card's "typical BNN recipe" and are unverified.
"""

from __future__ import annotations

import dataclasses

from official.core.config import (
    ExperimentConfig,
    ExportConfig,
    OptimizerConfig,
    ScheduleConfig,
    TrainerConfig,
)
from official.core.registry import register_experiment
from official.tasks.classification_experiments import classification_experiment, digits_experiment

# TFLite "dynamic": kernels stored as int8 with a per-channel scale; a +-alpha_o kernel becomes exactly
# +-127 x (alpha_o / 127), so the binary weights lose nothing (int8 full quantisation would also
# quantise the activations feeding sign(), which can flip signs near 0).
_EXPORT = ExportConfig(formats=("saved_model", "tflite"), quantize="dynamic")
DIGITS_WIDTHS = (16, 32, 64, 128)  # ResNet-18 at 1/4 width: the digits run fits 5 minutes on 2 cores


def _bnn_trainer(epochs: int, per_replica_batch: int, lr: float) -> TrainerConfig:
    """Adam, cosine to 0, no weight decay (binary weights are not decayed; reconstructed recipe)."""
    return TrainerConfig(
        epochs=epochs,
        per_replica_batch_size=per_replica_batch,
        optimizer=OptimizerConfig(name="adam"),
        lr_schedule=ScheduleConfig(name="cosine", base_lr=lr, min_lr=0.0),
        weight_decay=0.0,
        checkpoints_to_keep=5,
        log_every_n_steps=100,
    )


@register_experiment("proxybnn_resnet18_imagenet")
def proxybnn_resnet18_imagenet() -> ExperimentConfig:
    """Spec card's recipe (unverified): Adam lr 1e-3 cosine to 0, weight decay 0, batch 256 (32 x 8
    GPUs), 256 epochs, RandomResizedCrop + flip (the shared ImageNet pipeline)."""
    return classification_experiment("proxybnn_resnet18", "imagenet", trainer=_bnn_trainer(256, 32, 1e-3),
                                     export=_EXPORT)


@register_experiment("proxybnn_resnet18_cifar10")
def proxybnn_resnet18_cifar10() -> ExperimentConfig:
    """CIFAR-10 pickles, pad-4 crop + flip; Adam lr 1e-3 cosine to 0, batch 256, 400 epochs, no weight
    decay (typical BNN CIFAR recipe; unverified for the paper)."""
    return classification_experiment("proxybnn_resnet18_cifar", "cifar10", trainer=_bnn_trainer(400, 32, 1e-3),
                                     export=_EXPORT)


def _digits(model: str, **model_values) -> ExperimentConfig:
    cfg = digits_experiment(model, widths=DIGITS_WIDTHS, **model_values)
    # 25 epochs (275 steps) instead of the shared 40: ~1 step/s on the loaded 2-core machine, 5 minutes.
    return dataclasses.replace(cfg, trainer=dataclasses.replace(cfg.trainer, epochs=25),
                               export=dataclasses.replace(_EXPORT, representative_examples=200))


@register_experiment("proxybnn_resnet18_cifar_digits")
def proxybnn_resnet18_cifar_digits() -> ExperimentConfig:
    """Binary (1/1 bits) ProxyBNN ResNet-18 at 1/4 width on digits with the shared demo recipe."""
    return _digits("proxybnn_resnet18_cifar")


@register_experiment("proxybnn_resnet18_cifar_digits_real")
def proxybnn_resnet18_cifar_digits_real() -> ExperimentConfig:
    """The same network in full precision (real convs, ReLU in place of sign): the digits reference."""
    return _digits("proxybnn_resnet18_cifar", mode="real")
