"""DSA experiments: the CIFAR-10 ResNet recipe of the spec card and a digits run at half the FLOPs.

`dsa_resnet56_cifar10` / `dsa_resnet20_cifar10`: CIFAR-10 pickles (pad-4 crop + flip), SGD lr 0.1
momentum 0.9, weight decay 4e-5 (the card's ResNet value), batch 128, FLOPs budget 0.5, from scratch.
Unverified (the official repo ships no training driver): the 300-epoch cosine schedule, the 20-epoch
weight-only warm-up before keep-ratio updates, alpha_lr, rho and the beta2 schedule 1 -> 20. After it: tools.prune
--flops_ratio=0.5 and fine-tuning of the pruned network with the normal recipe.

`dsa_resnet20_digits`: `make demo`'s digits recipe (Adam, cosine 6e-3, batch 128) for ResNet-20 (CIFAR
layout) with DSA at budget 0.5, shortened to 330 steps at 16 px (the digits are 8x8 images upscaled, so
16 px loses nothing and costs a quarter of 32 px): 110 weight-only steps, then a keep-ratio step each
step, beta2 from 1 to 20.
"""

from __future__ import annotations

import dataclasses

from official.core.config import ExperimentConfig, OptimizerConfig, ScheduleConfig, TrainerConfig
from official.core.registry import register_experiment
from official.tasks.classification_experiments import classification_experiment, digits_experiment
from official.training.dsa.config import DSAConfig

CIFAR_STEPS_PER_EPOCH = 50_000 // 128


def _cifar10(model: str) -> ExperimentConfig:
    cfg = classification_experiment(
        model,
        "cifar10",
        trainer=TrainerConfig(
            epochs=300,  # unverified
            global_batch_size=128,
            optimizer=OptimizerConfig(name="sgd", momentum=0.9),
            lr_schedule=ScheduleConfig(name="cosine", base_lr=0.1),
            weight_decay=4e-5,
            steps_per_loop=CIFAR_STEPS_PER_EPOCH,
        ),
    )
    cfg.training = DSAConfig(flops_ratio=0.5, warmup_steps=20 * CIFAR_STEPS_PER_EPOCH, alpha_every=1,
                             beta2_end=20.0)  # unverified: the digits run's sharpening schedule
    return cfg


@register_experiment("dsa_resnet56_cifar10")
def dsa_resnet56_cifar10() -> ExperimentConfig:
    """ResNet-56 on CIFAR-10 at 50% FLOPs (paper: ~93.6% vs ~93.1% unpruned, unverified)."""
    return _cifar10("resnet56_cifar")


@register_experiment("dsa_resnet20_cifar10")
def dsa_resnet20_cifar10() -> ExperimentConfig:
    """ResNet-20 on CIFAR-10 at 50% FLOPs (released checkpoint resnet20 0.5)."""
    return _cifar10("resnet20_cifar")


@register_experiment("dsa_resnet20_digits")
def dsa_resnet20_digits() -> ExperimentConfig:
    """ResNet-20 on 16 px digits, budget 0.5 (2 CPU cores, minutes; the card's small run)."""
    cfg = digits_experiment("resnet20_cifar", input_shape=(16, 16, 3))
    cfg.train_data = dataclasses.replace(cfg.train_data, image_size=16)
    cfg.eval_data = dataclasses.replace(cfg.eval_data, image_size=16)
    cfg.trainer = dataclasses.replace(cfg.trainer, epochs=0, train_steps=330, steps_per_loop=110)
    # beta2 1 -> 20 sharpens p toward 0/1, so the deterministic masks of the pruned net match the sampled
    # ones it was trained with: the masked network's val top-1 at step 330 went from 0.626 (beta2 fixed at
    # 1.0) to 0.890 (the card). alpha_lr 0.05, rho 10 (the defaults).
    cfg.training = DSAConfig(flops_ratio=0.5, warmup_steps=110, alpha_every=1, beta2_end=20.0)
    return cfg
