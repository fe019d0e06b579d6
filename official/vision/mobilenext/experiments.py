"""MobileNeXt experiments: the official ImageNet recipe and the digits pipe-check of `make demo`."""

from official.core.config import (
    ExperimentConfig,
    ExportConfig,
    OptimizerConfig,
    ScheduleConfig,
    TrainerConfig,
)
from official.core.registry import register_experiment
from official.tasks.classification_experiments import classification_experiment, digits_experiment


@register_experiment("mobilenext_100_imagenet")
def mobilenext_100_imagenet() -> ExperimentConfig:
    """The released MobileNeXt-1.0 recipe (official run log output/74_02_full_id_tensor/args.yaml).

    timm trainer: SGD Nesterov 0.9, lr 0.1 cosine to 1e-5 after 3 warm-up epochs from 1e-4, 200 epochs
    + 10 at the floor, weight decay 1e-4 on conv/FC kernels only, label smoothing 0.1, colour jitter 0.4,
    bicubic resize, batch 64 per GPU (the global batch grows with the replicas; the log does not scale
    the lr by it).
    """
    return classification_experiment(
        "mobilenext_100",
        "imagenet",
        data={"interpolation": "bicubic"},
        train_data={"color_jitter": 0.4},
        trainer=TrainerConfig(
            epochs=210,
            per_replica_batch_size=64,
            optimizer=OptimizerConfig(name="sgd", momentum=0.9, nesterov=True),
            lr_schedule=ScheduleConfig(
                name="cosine",
                base_lr=0.1,
                warmup_epochs=3,
                warmup_start_lr=1e-4,
                min_lr=1e-5,
                cooldown_epochs=10,
            ),
            weight_decay=1e-4,
            weight_decay_mode="l2",
            label_smoothing=0.1,
            checkpoints_to_keep=5,
            log_every_n_steps=100,
        ),
        export=ExportConfig(formats=("saved_model", "tflite"), quantize="int8", representative_examples=500),
    )


@register_experiment("mobilenext_035_digits")
def mobilenext_035_digits() -> ExperimentConfig:
    """MobileNeXt-0.35 on scikit-learn digits with the shared demo recipe: the `make demo` default."""
    return digits_experiment("mobilenext_035")
