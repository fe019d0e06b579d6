"""RSN experiments: the authors' COCO / MPII recipes and the CPU stick-figure run.

Recipe (exps/RSN18.coco/config.py, lib/utils/solver.py): Adam (betas 0.9/0.999, eps 1e-8), lr 5e-4 per
GPU of 32 crops (`BASE_LR * num_gpu`: 4e-3 for 8 GPUs, so `lr_reference_batch=32` scales it the same
way), weight decay 1e-5, 96k iterations (MPII 28.8k), linear warm-up over 2,400 iterations from 0.1x,
then a linear decay to 0 at the last iteration (LambdaLR `1 - (it - w) / (max - w)`; the spec card's
"step decay" is wrong: GAMMA is defined but unused). 256x192 crops (384x288 for the large 4xRSN-50),
RSN's augmentation (official/data/keypoint_augment.py) and its 5-kernel targets.
"""

from __future__ import annotations

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
from official.tasks.keypoints_config import KeypointDataConfig, KeypointTaskConfig

COCO_TRAIN_PERSONS = 149_813  # persons with >= 1 labelled keypoint in person_keypoints_train2017.json
MPII_TRAIN_PERSONS = 22_246  # HRNet/RSN's MPII train.json


def coco_data(split: str, input_size: tuple[int, int], detections: str = "") -> KeypointDataConfig:
    """COCO 2017 keypoints under the data root; val2017 is the 2014 minival RSN evaluates on."""
    return KeypointDataConfig(
        source="coco",
        path=f"coco/images/{split}",
        annotations=f"coco/annotations/person_keypoints_{split}.json",
        detections=detections,
        input_size=input_size,
        image_size=input_size[0],
    )


# The person detections RSN's det_json plays (HRNet/mmpose's standard file: 56.4 AP person detector).
COCO_VAL_DETECTIONS = "coco/person_detection_results/COCO_val2017_detections_AP_H_56_person.json"


def _trainer(steps: int, persons: int, batch: int = 256) -> TrainerConfig:
    steps_per_epoch = max(persons // batch, 1)
    return TrainerConfig(
        train_steps=steps,
        steps_per_epoch=steps_per_epoch,
        steps_per_loop=2400,  # the authors' CHECKPOINT_PERIOD
        global_batch_size=batch,
        lr_reference_batch=32,  # lr = 5e-4 x (global batch / 32) = BASE_LR x GPUs of 32
        optimizer=OptimizerConfig(name="adam", beta_1=0.9, beta_2=0.999, epsilon=1e-8),
        lr_schedule=ScheduleConfig(
            name="linear", base_lr=5e-4, warmup_epochs=2400 / steps_per_epoch, warmup_start_lr=5e-5, min_lr=0.0
        ),
        weight_decay=1e-5,
        validation_every_n_loops=0,
        log_every_n_steps=100,
    )


def _coco(model: str, input_size: tuple[int, int] = (256, 192)) -> ExperimentConfig:
    return ExperimentConfig(
        task=KeypointTaskConfig(num_classes=17),
        model=model_config(model, input_shape=(*input_size, 3)),
        train_data=coco_data("train2017", input_size),
        eval_data=coco_data("val2017", input_size, COCO_VAL_DETECTIONS),
        trainer=_trainer(96_000, COCO_TRAIN_PERSONS),
        runtime=RuntimeConfig(jit_compile="auto"),
        export=ExportConfig(formats=("saved_model", "tflite"), quantize="none", verify_examples=8, atol=1e-3),
    )


@register_experiment("rsn_18_coco")
def rsn_18_coco() -> ExperimentConfig:
    """RSN-18 on COCO 256x192, 8 GPUs x 32 (paper: 73.6 AP val in-house, 70.4 with the released code)."""
    return _coco("rsn_18")


@register_experiment("rsn_50_coco")
def rsn_50_coco() -> ExperimentConfig:
    """RSN-50 on COCO 256x192 (paper: 74.7 AP val; layer counts follow mmpose, see variants.py)."""
    return _coco("rsn_50")


@register_experiment("rsn_50x4_coco")
def rsn_50x4_coco() -> ExperimentConfig:
    """4xRSN-50 on COCO 256x192 (paper: 79.0 AP val, 78.0 test-dev)."""
    return _coco("rsn_50x4")


@register_experiment("rsn_50x4_coco_384")
def rsn_50x4_coco_384() -> ExperimentConfig:
    """4xRSN-50 on COCO 384x288 (paper: 79.6 AP val, 78.6 test-dev)."""
    return _coco("rsn_50x4", (384, 288))


@register_experiment("rsn_18_mpii")
def rsn_18_mpii() -> ExperimentConfig:
    """RSN-18 on MPII 256x256 (exps/RSN18.mpii: 28.8k iterations; PCKh@0.5 through gt_valid.mat)."""
    size = (256, 256)

    def mpii(split: str) -> KeypointDataConfig:
        return KeypointDataConfig(source="mpii", path="mpii/images", annotations=f"mpii/annot/{split}.json",
                                  ground_truth="mpii/annot/gt_valid.mat" if split == "valid" else "",
                                  input_size=size, image_size=size[0])

    return ExperimentConfig(
        task=KeypointTaskConfig(num_classes=16, blur_kernel=9),
        model=model_config("rsn_18", num_keypoints=16, input_shape=(*size, 3)),
        train_data=mpii("train"),
        eval_data=mpii("valid"),
        trainer=_trainer(28_800, MPII_TRAIN_PERSONS),
        runtime=RuntimeConfig(jit_compile="auto"),
        export=ExportConfig(formats=("saved_model", "tflite"), quantize="none", verify_examples=8, atol=1e-3),
    )


# The CPU run: rsn_tiny on rendered stick figures (tools.make_poses, COCO person_keypoints format).
POSES_COMMAND = "python -m tools.make_poses --out DATA/poses --train 600 --val 60 --size 128 --max_persons 1 --seed 0"


@register_experiment("rsn_tiny_poses")
def rsn_tiny_poses() -> ExperimentConfig:
    """rsn_tiny (2 stages, widths 16-48) on the stick-figure set (POSES_COMMAND), 128x96 crops, CPU.

    Targets use RSN's five kernels scaled to the half-size heatmaps (32x24: 7, 5, 5, 3, 3 for 15, 11, 9, 7,
    5 at 64x48); Adam 2e-3 with a linear warm-up and decay, batch 32, 300 steps (16 epochs of the 600
    figures; 4.4 minutes of `tools.train` on 2 shared cores). Flip test on: the figures' left and right follow the way they face, as
    in photos, so a mirrored figure is a figure of the set.
    """
    size = (128, 96)

    def poses(split: str) -> KeypointDataConfig:
        return KeypointDataConfig(source="coco", path=f"poses/{split}",
                                  annotations=f"poses/annotations/person_keypoints_{split}.json",
                                  input_size=size, image_size=size[0], kernels=(7, 5, 5, 3, 3), cache=True)

    return ExperimentConfig(
        task=KeypointTaskConfig(num_classes=17, flip_test=True, blur_kernel=3),
        model=model_config("rsn_tiny", input_shape=(*size, 3)),
        train_data=poses("train"),
        eval_data=poses("val"),
        trainer=TrainerConfig(
            train_steps=300,
            steps_per_epoch=18,  # 600 figures / 32
            steps_per_loop=100,
            global_batch_size=32,
            optimizer=OptimizerConfig(name="adam"),
            lr_schedule=ScheduleConfig(name="linear", base_lr=2e-3, warmup_epochs=1.0, warmup_start_lr=2e-4),
            validation_every_n_loops=0,
            log_every_n_steps=50,
        ),
        runtime=RuntimeConfig(jit_compile="auto", deterministic=True, intra_op_threads=2, inter_op_threads=2),
        export=ExportConfig(formats=("saved_model", "tflite"), quantize="none", verify_examples=8, atol=1e-3,
                            representative_examples=32),
    )
