"""AutoAugment-KD experiments: the EfficientNet ImageNet recipe and the digits outlier run.

`autoaug_kd_efficientnet_b0_imagenet` holds the recipe the spec card reconstructs (EfficientNet's
own: RMSProp 0.9/0.9/1e-3, lr 0.016 x batch/256 with a 5-epoch warm-up and x0.97 every 2.4 epochs, wd
1e-5, label smoothing 0.1, 350 epochs, AutoAugment ImageNet policy; KD with T = 1 and lambda = 0.5).
The paper's values of T, lambda and its search space are not public (card: unverified).

The digits pair is the card's outlier test: AutoAugment plus 30% of training images replaced by noise,
student MobileNetV2-0.35 with or without the MobileNeXt-0.35 teacher of `make demo`
(`runs/mobilenext_035_digits`, a clean-trained teacher).
"""

from __future__ import annotations

import dataclasses

from official.core.config import (
    ExperimentConfig,
    OptimizerConfig,
    ScheduleConfig,
    TrainerConfig,
    model_config,
)
from official.core.registry import get_experiment, register_experiment
from official.tasks.classification_experiments import classification_experiment, digits_experiment
from official.training.autoaug_kd.config import KDConfig

_OUTLIER_AUGMENT = {"auto_augment": "autoaugment", "noise_replace_prob": 0.3}


@register_experiment("autoaug_kd_efficientnet_b0_imagenet")
def autoaug_kd_efficientnet_b0_imagenet() -> ExperimentConfig:
    """EfficientNet-B0 student, EfficientNet-B0 teacher (set training.teacher_checkpoint), ImageNet 224 px."""
    cfg = classification_experiment(
        "efficientnet_b0",
        "imagenet",
        trainer=TrainerConfig(
            epochs=350,
            global_batch_size=4096,
            lr_reference_batch=256,
            optimizer=OptimizerConfig(name="rmsprop", rho=0.9, momentum=0.9, epsilon=1e-3),
            lr_schedule=ScheduleConfig(name="step", base_lr=0.016, warmup_epochs=5, decay_epochs=2.4, decay_rate=0.97),
            weight_decay=1e-5,
            label_smoothing=0.1,
        ),
        # keras.applications' EfficientNet rescales inside the graph: feed 0-255 pixels.
        data={"mean": (0.0, 0.0, 0.0), "std": (1.0, 1.0, 1.0), "interpolation": "bicubic"},
        train_data={"auto_augment": "autoaugment"},
    )
    cfg.training = KDConfig(teacher=model_config("efficientnet_b0", classes=1000), temperature=1.0, kd_weight=0.5)
    return cfg


def _digits_outlier(kd: bool) -> ExperimentConfig:
    cfg = digits_experiment("mobilenetv2_035")
    cfg.train_data = dataclasses.replace(cfg.train_data, **_OUTLIER_AUGMENT)
    if kd:
        cfg.training = KDConfig(
            teacher=get_experiment("mobilenext_035_digits").model,
            teacher_checkpoint="runs/mobilenext_035_digits",
            temperature=1.0,
            kd_weight=0.5,
        )
    return cfg


@register_experiment("autoaug_kd_mobilenetv2_035_digits")
def autoaug_kd_mobilenetv2_035_digits() -> ExperimentConfig:
    """The outlier test with KD: teacher = `make demo`'s MobileNeXt-0.35 run (training.teacher_checkpoint)."""
    return _digits_outlier(kd=True)


@register_experiment("autoaug_ce_mobilenetv2_035_digits")
def autoaug_ce_mobilenetv2_035_digits() -> ExperimentConfig:
    """The same augmentation and student trained with cross-entropy only (the comparison's baseline)."""
    return _digits_outlier(kd=False)
