"""NDN experiments: the paper-scale Magazine / RICO runs (reconstructed recipe) and a CPU small run.

No official code: the recipe is the spec card's default (unverified): Adam 1e-4, batch 64, 128-d
embeddings with 5 graph convolutions per module (ndn_base); 200 epochs is our choice. Magazine: 5
labels, up to 32 elements; RICO: 13 labels, 1-9 elements (const_layout's filters); 85/5/10 % split.
"""

from __future__ import annotations

from official.core.config import (
    ExperimentConfig,
    ExportConfig,
    RuntimeConfig,
    TrainerConfig,
    constant_adam_trainer,
    model_config,
)
from official.core.registry import register_experiment
from research.generative.ndn.config import LayoutDataConfig, NdnTaskConfig


def ndn_experiment(model: str, source: str, path: str, classes: int, max_elements: int, trainer: TrainerConfig,
                   runtime: RuntimeConfig | None = None) -> ExperimentConfig:
    data = dict(source=source, path=path, max_elements=max_elements)
    trainer.validation_every_n_loops = 0  # metrics come from tools.evaluate (generation, not a loss)
    return ExperimentConfig(
        task=NdnTaskConfig(num_classes=classes),
        model=model_config(model, num_categories=classes, max_elements=max_elements),
        train_data=LayoutDataConfig(split="train", **data),
        eval_data=LayoutDataConfig(split="test", **data),
        trainer=trainer,
        runtime=runtime or RuntimeConfig(),
        export=ExportConfig(formats=("saved_model",), verify_examples=2),
    )


def paper_trainer(steps: int) -> TrainerConfig:
    return constant_adam_trainer(steps, 64, 1e-4, 1000, log_every_n_steps=100)


@register_experiment("ndn_base_magazine")
def ndn_base_magazine() -> ExperimentConfig:
    """Magazine (~3.9k pages): 200 epochs of batch 64 on the 85 % train split = 12,000 steps."""
    return ndn_experiment("ndn_base", "magazine", "magazine", 5, 32, paper_trainer(12_000))


@register_experiment("ndn_base_rico")
def ndn_base_rico() -> ExperimentConfig:
    """RICO (~36k screens after filtering): 100 epochs of batch 64 = 48,000 steps."""
    return ndn_experiment("ndn_base", "rico", "rico", 13, 9, paper_trainer(48_000))


# CPU small run on `python -m tools.make_layouts --out=data/magazine_synth` (600 synthetic pages, <= 5
# elements): ndn_tiny, Adam 2e-3, batch 32 (our choices for 2 CPU cores).
SMALL_STEPS = 600


@register_experiment("ndn_tiny_magazine_synth")
def ndn_tiny_magazine_synth() -> ExperimentConfig:
    trainer = constant_adam_trainer(SMALL_STEPS, 32, 2e-3, SMALL_STEPS // 3, log_every_n_steps=50)
    return ndn_experiment("ndn_tiny", "magazine", "magazine_synth", 5, 5, trainer,
                          RuntimeConfig(seed=0, intra_op_threads=2, inter_op_threads=2, jit_compile=False))
