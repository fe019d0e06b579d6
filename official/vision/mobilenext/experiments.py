"""MobileNeXt experiments: the official ImageNet recipe and the digits pipe-check of `make demo`."""

from official.core.config import (
    DataConfig,
    ExperimentConfig,
    ExportConfig,
    OptimizerConfig,
    ScheduleConfig,
    TaskConfig,
    TrainerConfig,
    model_config,
)
from official.core.registry import register_experiment
from official.vision.mobilenetv2.experiments import digits_data


def imagenet_data(split: str, training: bool) -> DataConfig:
    """ImageNet-1k folders (one sub-folder per synset); official eval: bicubic resize to 256, centre 224."""
    return DataConfig(
        source="imagefolder",
        path=f"data/imagenet/{split}",
        image_size=224,
        shuffle_buffer=10_000,
        random_resized_crop=training,
        horizontal_flip=True,
        color_jitter=0.4 if training else 0.0,
        crop_pct=0.875,
        interpolation="bicubic",
    )


@register_experiment("mobilenext_100_imagenet")
def mobilenext_100_imagenet() -> ExperimentConfig:
    """The released MobileNeXt-1.0 recipe (official run log output/74_02_full_id_tensor/args.yaml).

    timm trainer: SGD Nesterov 0.9, lr 0.1 cosine to 1e-5 after 3 warm-up epochs from 1e-4, 200 epochs
    + 10 at the floor, weight decay 1e-4 on conv/FC kernels only, label smoothing 0.1, colour jitter 0.4,
    batch 64 per GPU (the global batch grows with the replicas; the log does not scale the lr by it).
    """
    return ExperimentConfig(
        task=TaskConfig(name="image_classification", num_classes=1000),
        model=model_config("mobilenext_100"),
        train_data=imagenet_data("train", training=True),
        eval_data=imagenet_data("val", training=False),
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
    """MobileNeXt-0.35 on scikit-learn digits (32x32): the `make demo` pipe-check, > 90% val top-1.

    Same recipe as mobilenetv2_035_digits (Adam, cosine 2e-3, batch 32, 15 epochs); BN momentum 0.9 is
    already the model default (keras.applications' 0.999 leaves the eval statistics unsettled here).
    """
    return ExperimentConfig(
        task=TaskConfig(name="image_classification", num_classes=10),
        model=model_config("mobilenext_035", classes=10, input_shape=(32, 32, 3), bn_momentum=0.9),
        train_data=digits_data("train", training=True),
        eval_data=digits_data("val", training=False),
        trainer=TrainerConfig(
            epochs=15,
            global_batch_size=32,
            optimizer=OptimizerConfig(name="adam"),
            lr_schedule=ScheduleConfig(name="cosine", base_lr=2e-3, warmup_epochs=1, warmup_start_lr=1e-4),
            checkpoints_to_keep=3,
        ),
        export=ExportConfig(formats=("saved_model", "tflite"), quantize="int8", representative_examples=200),
    )
