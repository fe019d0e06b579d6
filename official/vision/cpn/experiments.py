"""CPN experiments: COCO with the paper's schedule (DLA-34, Hourglass-104) and the CPU shapes demo."""

from official.core.config import (
    ExperimentConfig,
    ExportConfig,
    OptimizerConfig,
    RuntimeConfig,
    ScheduleConfig,
    TrainerConfig,
    model_config,
)
from official.core.registry import register_experiment
from official.tasks.detection_config import DetectionDataConfig, DetectionTaskConfig


def coco_data(split: str, training: bool) -> DetectionDataConfig:
    """COCO in the CornerNet layout (spec "Data"): trainval2014 / minival2014 (35k/5k split)."""
    return DetectionDataConfig(
        source="coco",
        path=f"coco/images/{split}",
        annotations=f"coco/annotations/instances_{split}.json",
        image_size=511,
        horizontal_flip=training,
    )


def _coco(model: str, steps: int, decay_at: int) -> ExperimentConfig:
    # Spec "Schedule": Adam, lr 2.5e-4, batch 48 (8 GPUs x 6), lr / 10 at 200k; 511 crops, scale 0.6-1.4.
    steps_per_epoch = 1000
    return ExperimentConfig(
        task=DetectionTaskConfig(num_classes=80),
        model=model_config(model, num_classes=80),
        train_data=coco_data("trainval2014", training=True),
        eval_data=coco_data("minival2014", training=False),
        trainer=TrainerConfig(
            train_steps=steps,
            steps_per_epoch=steps_per_epoch,
            steps_per_loop=5000,
            global_batch_size=48,
            optimizer=OptimizerConfig(name="adam"),
            lr_schedule=ScheduleConfig(name="step", base_lr=2.5e-4, decay_epochs=decay_at / steps_per_epoch, decay_rate=0.1),
            validation_every_n_loops=0,
            log_every_n_steps=100,
        ),
        runtime=RuntimeConfig(jit_compile="auto"),
        export=ExportConfig(formats=("saved_model", "tflite"), quantize="none", verify_examples=4, warmup_requests=2, atol=1e-3),
    )


@register_experiment("cpn_hg104_coco")
def cpn_hg104_coco() -> ExperimentConfig:
    """CPN Hourglass-104 on COCO: 220k iterations, lr step at 200k (paper: 47.0 AP test-dev)."""
    return _coco("cpn_hg104", 220_000, 200_000)


@register_experiment("cpn_hg52_coco")
def cpn_hg52_coco() -> ExperimentConfig:
    """CPN Hourglass-52 on COCO: 270k iterations, lr step at 200k (paper: 43.9 AP test-dev)."""
    return _coco("cpn_hg52", 270_000, 200_000)


@register_experiment("cpn_dla34_coco")
def cpn_dla34_coco() -> ExperimentConfig:
    """CPN DLA-34 on COCO: 270k iterations, lr step at 200k (paper: 41.7 AP test-dev with flip)."""
    return _coco("cpn_dla34", 270_000, 200_000)


# The easy shapes split the demo trains on: 64 px images, 1-2 objects of 30-47% of the side, no
# crowds (same generator as the default split, see tools/make_shapes.py).
SHAPES_COMMAND = (
    "python -m tools.make_shapes --out data/shapes --train 1000 --val 100 --size 64 "
    "--max_objects 2 --crowd_fraction 0 --min_object 0.3"
)
SHAPES_ARGS = dict(num_train=1000, num_val=100, size=64, seed=0, max_objects=2, crowd_fraction=0.0, min_object=0.3)


def shapes_data(split: str, training: bool) -> DetectionDataConfig:
    """The easy shapes split (SHAPES_COMMAND): 64 px images, 3 classes, light augmentation."""
    return DetectionDataConfig(
        source="coco",
        path=f"shapes/{split}",
        annotations=f"shapes/annotations/instances_{split}.json",
        image_size=64,
        max_boxes=8,  # the easy split holds at most 2 objects
        cache=True,
        scale_range=(0.8, 1.2),
        scale_step=0.0,
        fit_to_output=True,
        crop_border=16.0,
        horizontal_flip=training,
        color_jitter=0.1,
        lighting_std=0.0,
    )


@register_experiment("cpn_dla34tiny_shapes")
def cpn_dla34tiny_shapes() -> ExperimentConfig:
    """Tiny CPN on the easy shapes split: 1000 CPU steps of batch 8 reach AP50 > 0.5 (test_cpn_shapes)."""
    return ExperimentConfig(
        task=DetectionTaskConfig(num_classes=3),
        # 96 stage-2 rows per image (<= 2 objects + 256 proposals) and 1 RoIAlign sample per bin
        # (CPN-DLA34's setting) keep a CPU step cheap.
        model=model_config(
            "cpn_dla34tiny", num_classes=3, input_size=64, flip_test=False, num_samples=96, roi_sampling_ratio=1
        ),
        train_data=shapes_data("train", training=True),
        eval_data=shapes_data("val", training=False),
        trainer=TrainerConfig(
            train_steps=1000,
            steps_per_epoch=100,
            steps_per_loop=250,
            global_batch_size=8,
            optimizer=OptimizerConfig(name="adam"),
            lr_schedule=ScheduleConfig(name="cosine", base_lr=3e-3, warmup_epochs=0.5, warmup_start_lr=3e-4, min_lr=1e-4),
            validation_every_n_loops=0,
            log_every_n_steps=50,
        ),
        # XLA where a GPU is present; on CPU, TF's own conv kernels are ~3x faster than XLA's here.
        runtime=RuntimeConfig(jit_compile="auto"),
        export=ExportConfig(formats=("saved_model", "tflite"), quantize="none", verify_examples=4, warmup_requests=2, atol=1e-3),
    )
