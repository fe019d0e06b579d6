"""OpenHybrid experiments: the 3rd-party recipe per open-set dataset, and the digits small run.

The paper's schedule is unverified (no official code); the spec card's 3rd-party recipe is: Adam 1e-4
for encoder and flow, SGD 0.1 (momentum 0.9) for the classifier, batch 64, up to 600 epochs, flow
gradient-norm clip 1.0, EMA of the flow weights. The zoo trainer drives one optimizer, so here all
weights take Adam 1e-4 (constant; the classifier's SGD 0.1 is dropped), with a per-variable gradient-norm
clip of 1.0 on every weight (`optimizer.clipnorm`, not one global clip on the flow) and no EMA; 600 epochs,
no weight decay. Data, splits and transforms are the shared `osr_experiment`'s (ARPL osr.py: 32 px on the
0-1 scale, pad-4 crop + flip except MNIST; Tiny ImageNet 64 px, K = 20; CIFAR+N K = 4).
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
from official.tasks.open_set_experiments import digits_osr_experiment, osr_experiment

MODEL = "openhybrid_classifier32"
DIGITS_EPOCHS = 15  # 195 steps: the 5-minute budget on 2 CPU cores (README "Small run")
DIGITS_FLOW = {"flow_steps": 4, "flow_hidden": 64}  # a lighter flow for the CPU run


def _export(cfg: ExperimentConfig) -> ExperimentConfig:
    """Float SavedModel + TFLite (no int8: the log-density sums D = 2,048-8,192 terms), checked to 5e-3:
    log p(z) is O(1e3-1e4) and float32 rounds it to ~1e-4-1e-3 (logits agree to 1e-5, see the export test)."""
    return dataclasses.replace(cfg, export=ExportConfig(formats=("saved_model", "tflite"), quantize="none", atol=5e-3))


def _trainer() -> TrainerConfig:
    """Adam 1e-4 constant, clip 1.0, batch 64, 600 epochs (3rd-party; one optimizer, see module doc)."""
    return TrainerConfig(
        epochs=600,
        global_batch_size=64,
        weight_decay=0.0,
        optimizer=OptimizerConfig(name="adam", clipnorm=1.0),
        lr_schedule=ScheduleConfig(name="constant", base_lr=1e-4),
        checkpoints_to_keep=5,
    )


def _experiment(dataset: str, **model_values) -> ExperimentConfig:
    return _export(osr_experiment(MODEL, dataset, trainer=_trainer(), **model_values))


@register_experiment("openhybrid_classifier32_mnist")
def openhybrid_classifier32_mnist() -> ExperimentConfig:
    """MNIST idx files at 32 px, 6 known / 4 unknown digits (ARPL split item 0)."""
    return _experiment("mnist")


@register_experiment("openhybrid_classifier32_svhn")
def openhybrid_classifier32_svhn() -> ExperimentConfig:
    """SVHN `*_32x32.mat`, 6 known / 4 unknown digits."""
    return _experiment("svhn")


@register_experiment("openhybrid_classifier32_cifar10")
def openhybrid_classifier32_cifar10() -> ExperimentConfig:
    """CIFAR-10 pickles, 6 known / 4 unknown classes."""
    return _experiment("cifar10")


@register_experiment("openhybrid_classifier32_cifar_plus10")
def openhybrid_classifier32_cifar_plus10() -> ExperimentConfig:
    """4 known CIFAR-10 classes; unknown = 10 CIFAR-100 classes."""
    return _experiment("cifar_plus10")


@register_experiment("openhybrid_classifier32_cifar_plus50")
def openhybrid_classifier32_cifar_plus50() -> ExperimentConfig:
    """4 known CIFAR-10 classes; unknown = 50 CIFAR-100 classes."""
    return _experiment("cifar_plus50")


@register_experiment("openhybrid_classifier32_tinyimagenet")
def openhybrid_classifier32_tinyimagenet() -> ExperimentConfig:
    """Tiny ImageNet folders at 64 px (an 8x8x128 map, D = 8192), 20 known / 180 unknown classes."""
    return _experiment("tinyimagenet", input_shape=(64, 64, 3))


@register_experiment("openhybrid_classifier32_digits")
def openhybrid_classifier32_digits() -> ExperimentConfig:
    """The small run: scikit-learn digits at 32 px, MNIST's split item 0 (known 6 3 4 9 8 2, unknown
    0 1 5 7); a 4-step flow of width 64; Adam, cosine from 1e-3 after a one-epoch warm-up, clip 1.0,
    batch 64, 15 epochs (~5 min on 2 cores)."""
    trainer = TrainerConfig(
        epochs=DIGITS_EPOCHS,
        global_batch_size=64,
        optimizer=OptimizerConfig(name="adam", clipnorm=1.0),
        lr_schedule=ScheduleConfig(name="cosine", base_lr=1e-3, warmup_epochs=1, warmup_start_lr=1e-4),
        steps_per_loop=65,  # 5 epochs of 13 steps
        checkpoints_to_keep=3,
    )
    return _export(digits_osr_experiment(MODEL, trainer=trainer, **DIGITS_FLOW))
