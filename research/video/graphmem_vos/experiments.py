"""GraphMemVOS experiments: the DAVIS 2017 recipe and the CPU small run on generated moving shapes.

The repo releases test code only and the paper gives few training numbers, so the recipe is STM's
(Oh et al., ICCV 2019; its memory/decoder design GraphMemVOS builds on), each value a GUESS flagged in the
card: clips of 3 frames (frame 0 + mask in memory, frames 1 and 2 segmented in turn), 384 x 384 random
crops, horizontal flips, up to 3 objects per clip, batch 4, Adam lr 1e-5 constant, cross-entropy on the
soft-aggregated logits. The paper's static-image pretraining (COCO / ECSSD / MSRA10K pseudo-videos) and the
YouTube-VOS half of the main training are not here (one reader per experiment: DAVIS 2017 train).
Evaluation follows eval_DAVIS_graph_memory.py: DAVIS 2017 val at 480p, memory of 6 nodes, flip TTA.
"""

from __future__ import annotations

from official.core.config import (
    ExperimentConfig,
    ExportConfig,
    RuntimeConfig,
    constant_adam_trainer,
    model_config,
)
from official.core.registry import register_experiment
from research.video.graphmem_vos.config import VosDataConfig, VosTaskConfig


def vos_experiment(model: str, max_objects: int, data: dict, trainer, runtime: RuntimeConfig | None = None,
                   task: dict | None = None, eval_data: dict | None = None) -> ExperimentConfig:
    return ExperimentConfig(
        task=VosTaskConfig(num_classes=max_objects + 1, **(task or {})),
        model=model_config(model, max_objects=max_objects),
        train_data=VosDataConfig(split="train", **data),
        eval_data=VosDataConfig(**{**data, "split": "val", **(eval_data or {})}),
        trainer=trainer,
        runtime=runtime or RuntimeConfig(),
        # SavedModel vs Keras on the logits: 2.2e-4 measured for the 40-step tiny run (graph-mode kernels and
        # fusions against eager ops through 5 propagation layers and 2 softmaxes), so 1e-3
        export=ExportConfig(formats=("saved_model",), verify_examples=2, atol=1e-3),
    )


@register_experiment("graphmem_vos_resnet50_davis17")
def graphmem_vos_resnet50_davis17() -> ExperimentConfig:
    """DAVIS 2017 train -> val; STM-style episodic training (GUESSES, module docstring); 100k steps of 4 (GUESS)."""
    data = dict(source="davis", path="DAVIS", year=2017, clip_length=3, crop_size=(384, 384), image_size=480)
    return vos_experiment("graphmem_vos_resnet50", 3, data, constant_adam_trainer(100_000, 4, 1e-5, 1000))


# The CPU small run on `python -m tools.make_vos_sequences --out data/vos_shapes` (24 train + 8 val sequences
# of 12 frames, 64 x 96, 1-3 objects): whole frames, clips of 3, batch 4, Adam 1e-3 (ours), no flip TTA.
SMALL_DATA = dict(source="davis", path="vos_shapes", year=2017, clip_length=3, crop_size=(0, 0), image_size=64)
SMALL_STEPS = 300


@register_experiment("graphmem_vos_tiny_moving_shapes")
def graphmem_vos_tiny_moving_shapes() -> ExperimentConfig:
    trainer = constant_adam_trainer(SMALL_STEPS, 4, 1e-3, 50, log_every_n_steps=25, validation_every_n_loops=0)
    return vos_experiment("graphmem_vos_tiny", 3, SMALL_DATA, trainer,
                          runtime=RuntimeConfig(seed=0, intra_op_threads=2, inter_op_threads=2, jit_compile=False),
                          task=dict(flip_tta=False))
