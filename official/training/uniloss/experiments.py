"""UniLoss experiments: the paper's CIFAR and MNIST recipes, and the digits comparisons of the card.

CIFAR-10/100 (train_cifar10.py / train_cifar100.py): ResNet-20, SGD lr 0.1 momentum 0.9, weight decay
1e-4, batch 128, 200 epochs, lr x0.1 at epochs 140 and 160, pad-4 crop + flip, normalisation mean
(0.4914, 0.4822, 0.4465) std (0.2023, 0.1994, 0.2010); scores = sigmoid(logits) (`sig=True`).
MPII PCKh (pose/example/train_mpii.py): the official stacked hourglass is not in the zoo, so the
zoo's RSN-18 stands in (flagged in the card); RMSprop lr 2.5e-4 (momentum 0, PyTorch alpha 0.99 and
eps 1e-8), batch 6, 50 epochs, lr x0.25 at epochs 30 and 40, raw heatmap scores.
MNIST binary AP (train_mnist.py): the 784-500-300-1 MLP, digit 0 vs rest, SGD lr 0.01 momentum 0.5
(the script's default), batch 16, 30 epochs, MNIST mean/std normalisation.

Digits (`python -m tools.make_digits`, 2 CPU cores): UniLoss and its cross-entropy twin, trained alike,
for multi-class top-1 (ResNet-20 CIFAR, the `make demo` recipe) and for one-vs-rest AP of digit 0 (the
MNIST MLP on 32x32 digits, the MNIST recipe).
"""

from __future__ import annotations

import dataclasses

from official.core.config import (
    ExperimentConfig,
    OptimizerConfig,
    ScheduleConfig,
    TrainerConfig,
)
from official.core.registry import get_experiment, register_experiment
from official.tasks.binary_classification import BinaryTaskConfig
from official.tasks.classification_experiments import classification_experiment, digits_experiment
from official.training.uniloss.config import UniLossConfig

_CIFAR_NORM = {"mean": tuple(255.0 * m for m in (0.4914, 0.4822, 0.4465)),
               "std": tuple(255.0 * s for s in (0.2023, 0.1994, 0.2010))}


def _cifar(dataset: str) -> ExperimentConfig:
    cfg = classification_experiment(
        "resnet20_cifar_dsconv",  # the official resnet.py: 1x1 conv + BN shortcuts where the shape changes
        dataset,
        trainer=TrainerConfig(
            epochs=200,
            global_batch_size=128,
            optimizer=OptimizerConfig(name="sgd", momentum=0.9),
            lr_schedule=ScheduleConfig(name="multistep", base_lr=0.1, decay_rate=0.1, milestones=(140.0, 160.0)),
            weight_decay=1e-4,
        ),
        data=_CIFAR_NORM,
    )
    cfg.training = UniLossConfig(metric="accuracy")
    return cfg


@register_experiment("uniloss_resnet20_cifar10")
def uniloss_resnet20_cifar10() -> ExperimentConfig:
    """ResNet-20 on CIFAR-10 trained with the UniLoss surrogate of batch accuracy (train_cifar10.py)."""
    return _cifar("cifar10")


@register_experiment("uniloss_resnet20_cifar100")
def uniloss_resnet20_cifar100() -> ExperimentConfig:
    """ResNet-20 on CIFAR-100 trained with the UniLoss surrogate of batch accuracy (train_cifar100.py)."""
    return _cifar("cifar100")


def _binary(cfg: ExperimentConfig, positive_class: int = 0) -> ExperimentConfig:
    cfg.task = BinaryTaskConfig(num_classes=cfg.task.num_classes, positive_class=positive_class)
    return cfg


_MNIST_TRAINER = TrainerConfig(
    epochs=30,
    global_batch_size=16,
    optimizer=OptimizerConfig(name="sgd", momentum=0.5),
    lr_schedule=ScheduleConfig(name="constant", base_lr=0.01),
)


@register_experiment("uniloss_mnist_binary_ap")
def uniloss_mnist_binary_ap() -> ExperimentConfig:
    """Digit 0 vs rest on MNIST IDX files, the 784-500-300-1 MLP, UniLoss of the batch AP (train_mnist.py)."""
    cfg = _binary(classification_experiment("mlp_500_300", "mnist", trainer=dataclasses.replace(_MNIST_TRAINER),
                                            classes=1, input_shape=(28, 28, 3)))
    cfg.training = UniLossConfig(metric="binary_ap")
    return cfg


def _digits_binary(uniloss: bool) -> ExperimentConfig:
    # The digits data and runtime of `make demo` (seeded, 2 threads), the MNIST recipe and network.
    demo = digits_experiment("resnet20_cifar")
    cfg = classification_experiment("mlp_500_300", "digits", trainer=dataclasses.replace(_MNIST_TRAINER),
                                    runtime=demo.runtime, classes=1, input_shape=(32, 32, 3))
    cfg = _binary(cfg)
    if uniloss:
        cfg.training = UniLossConfig(metric="binary_ap")
    return cfg


@register_experiment("uniloss_digits_binary_ap")
def uniloss_digits_binary_ap() -> ExperimentConfig:
    """Digit 0 vs rest on 32x32 digits, MLP 500-300-1, UniLoss of the batch AP, the MNIST recipe."""
    return _digits_binary(uniloss=True)


@register_experiment("uniloss_ce_digits_binary_ap")
def uniloss_ce_digits_binary_ap() -> ExperimentConfig:
    """The same with binary cross-entropy: the comparison's baseline."""
    return _digits_binary(uniloss=False)


def _digits_multiclass() -> ExperimentConfig:
    # 20 of the demo's 40 epochs (220 steps): ResNet-20 runs ~1 step/s on 2 loaded cores (5-minute cap).
    cfg = digits_experiment("resnet20_cifar")
    cfg.trainer = dataclasses.replace(cfg.trainer, epochs=20)
    return cfg


@register_experiment("uniloss_digits")
def uniloss_digits() -> ExperimentConfig:
    """ResNet-20 (CIFAR) on 32x32 digits, the `make demo` recipe, UniLoss of the batch top-1."""
    cfg = _digits_multiclass()
    cfg.training = UniLossConfig(metric="accuracy")
    return cfg


@register_experiment("uniloss_ce_digits")
def uniloss_ce_digits() -> ExperimentConfig:
    """The same with cross-entropy: the comparison's baseline."""
    return _digits_multiclass()


def _pckh(base: str, head_size: float) -> ExperimentConfig:
    cfg = get_experiment(base)
    cfg.training = UniLossConfig(metric="pckh", score_activation="none", pckh_head_size=head_size)
    return cfg


@register_experiment("uniloss_rsn_18_mpii")
def uniloss_rsn_18_mpii() -> ExperimentConfig:
    """RSN-18 (in place of the hourglass) on MPII 256x256 trained with the UniLoss PCKh surrogate."""
    cfg = _pckh("rsn_18_mpii", head_size=6.2)
    cfg.trainer = TrainerConfig(
        epochs=50,
        global_batch_size=6,
        optimizer=OptimizerConfig(name="rmsprop", rho=0.99, momentum=0.0, epsilon=1e-8),
        lr_schedule=ScheduleConfig(name="multistep", base_lr=2.5e-4, decay_rate=0.25, milestones=(30.0, 40.0)),
        steps_per_loop=2000,
        validation_every_n_loops=0,
        log_every_n_steps=100,
    )
    return cfg


@register_experiment("uniloss_rsn_tiny_poses")
def uniloss_rsn_tiny_poses() -> ExperimentConfig:
    """rsn_tiny on the CPU stick-figure set with the PCKh surrogate (32x24 heatmaps: head size 3.1 px)."""
    return _pckh("rsn_tiny_poses", head_size=3.1)
