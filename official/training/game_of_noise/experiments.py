"""Game of Noise experiments: the paper's ResNet-50 fine-tuning recipes and the digits comparison.

ImageNet (official `main.py` defaults): torchvision's pretrained ResNet-50 fine-tuned for 120 epochs,
SGD lr 1e-3 momentum 0.9, x0.1 every 60 epochs, batch 70, RandomResizedCrop 224 + flip; evaluation
resize 256 / centre crop 224. Set `trainer.init_checkpoint` to the converted torchvision weights
(`tools.convert_checkpoint --model=resnet50`), as the paper fine-tunes from them.

Digits: MobileNetV2-0.35 with `make demo`'s recipe and GNT (sigma 0.5) or ANT (epsilon 135 scaled to
32x32x3: 135 x 32 / 224 = 19.3), compared with the plain `mobilenetv2_035_digits` on a digits
ImageNet-C tree (`tools.make_corrupted`, `tools.corruption_eval`).
"""

from __future__ import annotations

from official.core.config import ExperimentConfig, OptimizerConfig, ScheduleConfig, TrainerConfig
from official.core.registry import register_experiment
from official.tasks.classification_experiments import classification_experiment, digits_experiment
from official.training.game_of_noise.config import NoiseConfig

ANT_EPSILON_224 = 135.0


def scaled_epsilon(size: int) -> float:
    """The paper's L2 budget at another square size: the same per-value RMS (135 at 224)."""
    return ANT_EPSILON_224 * size / 224.0


def _resnet50_imagenet(training: NoiseConfig) -> ExperimentConfig:
    cfg = classification_experiment(
        "resnet50",
        "imagenet",
        trainer=TrainerConfig(
            epochs=120,
            global_batch_size=70,
            optimizer=OptimizerConfig(name="sgd", momentum=0.9),
            lr_schedule=ScheduleConfig(name="step", base_lr=1e-3, decay_epochs=60, decay_rate=0.1),
        ),
    )
    cfg.training = training
    return cfg


@register_experiment("game_of_noise_gnt_resnet50_imagenet")
def game_of_noise_gnt_resnet50_imagenet() -> ExperimentConfig:
    """GNT sigma 0.5 (paper: ImageNet-C top-1 49.4, mCE 64.5)."""
    return _resnet50_imagenet(NoiseConfig(mode="gauss", sigma=0.5))


@register_experiment("game_of_noise_gnt_mult_resnet50_imagenet")
def game_of_noise_gnt_mult_resnet50_imagenet() -> ExperimentConfig:
    """GNT with ImageNet-C's five sigmas (paper: mCE 65.0)."""
    return _resnet50_imagenet(NoiseConfig(mode="gauss_mult"))


@register_experiment("game_of_noise_ant_resnet50_imagenet")
def game_of_noise_ant_resnet50_imagenet() -> ExperimentConfig:
    """ANT with the 1x1 generator (paper: ImageNet-C top-1 51.1, mCE 62.5)."""
    return _resnet50_imagenet(NoiseConfig(mode="ant", generator="1x1", epsilon=ANT_EPSILON_224))


@register_experiment("game_of_noise_ant3x3_resnet50_imagenet")
def game_of_noise_ant3x3_resnet50_imagenet() -> ExperimentConfig:
    """ANT with the 3x3 generator (paper: mCE 63.4)."""
    return _resnet50_imagenet(NoiseConfig(mode="ant", generator="3x3", epsilon=ANT_EPSILON_224))


@register_experiment("game_of_noise_gnt_mobilenetv2_035_digits")
def game_of_noise_gnt_mobilenetv2_035_digits() -> ExperimentConfig:
    """`make demo`'s MobileNetV2-0.35 recipe with GNT sigma 0.5 on half of every batch."""
    cfg = digits_experiment("mobilenetv2_035")
    cfg.training = NoiseConfig(mode="gauss", sigma=0.5)
    return cfg


@register_experiment("game_of_noise_ant_mobilenetv2_035_digits")
def game_of_noise_ant_mobilenetv2_035_digits() -> ExperimentConfig:
    """`make demo`'s MobileNetV2-0.35 recipe with ANT (1x1 generator, epsilon scaled to 32 px)."""
    cfg = digits_experiment("mobilenetv2_035")
    cfg.training = NoiseConfig(mode="ant", generator="1x1", epsilon=scaled_epsilon(32), replay_slots=5)
    return cfg
