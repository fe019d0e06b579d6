"""ShapeGF's config sections: PC15k data, the `shapegf` task, and the `shapegf_ae` / `shapegf_gan` methods."""

from __future__ import annotations

import dataclasses

from official.core.config import DataConfig, TaskConfig, TrainingMethodConfig


@dataclasses.dataclass
class PC15kDataConfig(DataConfig):
    source: str = "pc15k"  # ShapeNetCore.v2.PC15k layout: ROOT/<synset>/{train,val,test}/<model>.npy (15000, 3)
    path: str = "ShapeNetCore.v2.PC15k"  # dataset root
    split: str = "train"  # train | val | test
    categories: tuple[str, ...] = ("airplane",)  # data.cates: names (airplane, chair, car, ...), synset ids, or all
    tr_points: int = 2048  # tr_max_sample_points: encoder input points per shape (from the first 10,000)
    te_points: int = 2048  # te_max_sample_points: reference points per shape (from the last 5,000)
    recenter_per_shape: bool = True  # bbox centre and half the largest extent per shape (the ShapeGF configs)


@dataclasses.dataclass
class ShapeGFTaskConfig(TaskConfig):
    name: str = "shapegf"  # registered Task class
    num_classes: int = 0  # unused (no labels)
    mode: str = "auto_encode"  # evaluation: auto_encode (CD x1e4 / EMD x1e2 vs the test pool) | generate (1-NNA, MMD, COV, JSD)
    eval_seed: int = 0  # seeds the sampler's start points and noise in evaluation (reproducible metrics)
    emd: bool = True  # also report EMD (auction assignment of official/losses/emd.py; O(N^2) memory per pair)
    emd_iterations: int = 8000  # auction round budget per EMD (official/losses/emd.py's default: 1,024-2,048 points finish)
    metric_batch: int = 16  # cloud pairs per CD/EMD call in the generation metrics' distance matrices


@dataclasses.dataclass
class ShapeGFAETrainingConfig(TrainingMethodConfig):
    method: str = "shapegf_ae"  # denoising score matching of encoder + score net (trainers/ae_trainer_3D.py)


@dataclasses.dataclass
class ShapeGFGanTrainingConfig(TrainingMethodConfig):
    method: str = "shapegf_gan"  # latent WGAN on frozen encoder codes (trainers/lgan_trainer_3D.py, gan_only)
    ae_checkpoint: str = ""  # trainer.ae_pretrained: the auto-encoder run (MODEL_DIR, checkpoint or .weights.h5)
    dis_dims: tuple[int, ...] = (512, 512)  # models.dis.dims (LeakyReLU 0.2, no BN/LN, no sigmoid)
    dis_lr: float = 1e-4  # opt_dis.lr (Adam, constant)
    dis_beta_1: float = 0.5  # opt_dis.beta1
    dis_beta_2: float = 0.9  # opt_dis.beta2
    gp_weight: float = 1.0  # gp_weight of the zero-centred penalty (mean ||grad_x D(x_real)||)^2
    n_critics: int = 1  # generator step every n_critics iterations (the critic steps every iteration)
    prior_scale: float = 1.0  # models.gen.gaussian_scale of the N(0, I) prior
