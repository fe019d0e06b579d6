"""NDN's config sections: layout data (Magazine XML / RICO JSON) and the `ndn` task (TF-free)."""

from __future__ import annotations

import dataclasses

from official.core.config import DataConfig, TaskConfig


@dataclasses.dataclass
class LayoutDataConfig(DataConfig):
    source: str = "magazine"  # magazine (ROOT/layoutdata/annotations/*.xml) | rico (ROOT/semantic_annotations/*.json)
    path: str = "magazine"  # dataset root
    split: str = "train"  # train | val | test: const_layout's random 85 / 5 / 10 % split with split_seed
    split_seed: int = 0  # seed of the split (const_layout: 0)
    max_elements: int = 32  # padded element slots N; longer layouts are skipped (RICO: 9; Magazine: 32)
    unknown_min: float = 0.5  # training: fraction of relations hidden from G_p, drawn per layout in [min, max]
    unknown_max: float = 0.8  # (spec fixture: 50-80 % unknown; NDN's masking ratio is unverified)
    box_noise: float = 0.05  # std of the Gaussian perturbation G_r learns to undo (spec check 7)


@dataclasses.dataclass
class NdnTaskConfig(TaskConfig):
    name: str = "ndn"  # registered Task (research/generative/ndn/task.py)
    num_classes: int = 5  # element labels (Magazine 5, RICO 13); must equal model.num_categories
    kl_weight: float = 0.01  # weight of both KL terms (reconstructed; the paper does not give it)
    eval_samples: int = 1  # generated layouts per evaluation input (each with its own latents)
