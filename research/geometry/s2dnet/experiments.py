"""S2DNet experiments: the paper's setting on HPatches-layout data, and a CPU small run on generated pairs.

The authors released no training code, schedule or data pipeline (S2DNet-Minimal is weights loading only), so
`s2dnet_vgg16_hpatches` holds our reconstruction (README "Known differences"): ImageNet-normalised RGB, VGG-16
trunk + adaptation layers trained end to end with Adam 1e-4 (constant), batch 8 pairs, 256 x 320 inputs (the
spec card's shape check), 512 keypoints per pair, 20 epochs over the training pairs, matching-as-classification
loss at the three levels. The paper trains on MegaDepth pairs (depth-reprojected correspondences), which the
zoo has no reader for: training here reads any HPatches-layout folder of (image, warped image, homography)
triples. configs/s2dnet/hpatches_8xb1.yaml runs it on 8 GPUs.
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
from research.geometry.s2dnet.config import HPatchesDataConfig, S2DNetTaskConfig


def s2dnet_trainer(epochs: int = 20, batch: int = 8, lr: float = 1e-4) -> TrainerConfig:
    """Adam at a constant rate (not released: our guess)."""
    return TrainerConfig(epochs=epochs, global_batch_size=batch, validation_every_n_loops=0,  # eval: task.evaluate (MMA)
                         optimizer=OptimizerConfig(name="adam", beta_1=0.9, beta_2=0.999, epsilon=1e-8),
                         lr_schedule=ScheduleConfig(name="constant", base_lr=lr), checkpoints_to_keep=3,
                         log_every_n_steps=50)


def s2dnet_experiment(model, train: HPatchesDataConfig, evaluation: HPatchesDataConfig, trainer: TrainerConfig,
                      runtime: RuntimeConfig | None = None) -> ExperimentConfig:
    return ExperimentConfig(task=S2DNetTaskConfig(), model=model, train_data=train, eval_data=evaluation,
                            trainer=trainer, runtime=runtime or RuntimeConfig(),
                            export=ExportConfig(formats=("saved_model", "tflite"), verify_examples=2, atol=1e-4))


@register_experiment("s2dnet_vgg16_hpatches")
def s2dnet_vgg16_hpatches() -> ExperimentConfig:
    """VGG-16 S2DNet; trains on `hpatches_train` (HPatches layout), evaluates MMA on hpatches-sequences-release."""
    train = HPatchesDataConfig(path="hpatches_train", image_height=256, image_width=320, cache=False)
    evaluation = HPatchesDataConfig(path="hpatches-sequences-release", image_height=480, image_width=640,
                                    num_keypoints=512, cache=False)
    return s2dnet_experiment(model_config("s2dnet_vgg16"), train, evaluation, s2dnet_trainer())


# --- CPU small run: `python -m tools.make_hpatches_synth --out=data/hpatches_synth` -----------------------------
# skimage.data images warped by random homographies (v_*) or re-lit (i_*), 96 x 128, written in the HPatches
# layout; the tiny network (VGG widths / 8) at Adam 1e-3 (our choice for a short run), batch 2 pairs.
SMALL_STEPS = 200


@register_experiment("s2dnet_tiny_hpatches_synth")
def s2dnet_tiny_hpatches_synth() -> ExperimentConfig:
    train = HPatchesDataConfig(path="hpatches_synth/train", image_height=96, image_width=128, num_keypoints=128)
    evaluation = HPatchesDataConfig(path="hpatches_synth/test", image_height=96, image_width=128, num_keypoints=128)
    trainer = s2dnet_trainer(epochs=1, batch=2, lr=1e-3)
    trainer.train_steps = SMALL_STEPS
    trainer.steps_per_loop = SMALL_STEPS // 2
    trainer.log_every_n_steps = 50
    runtime = RuntimeConfig(seed=0, intra_op_threads=2, inter_op_threads=2, jit_compile=False)
    return s2dnet_experiment(model_config("s2dnet_tiny"), train, evaluation, trainer, runtime)
