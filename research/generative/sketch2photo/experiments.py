"""Sketch2Photo experiments: the official recipe for both stages and a CPU small run of each.

Recipe (README command and train options of rt219/Unsupervised-Sketch-to-Photo-Synthesis): Adam 2e-4,
betas (0.5, 0.999), batch 1, load 140 -> random crop 128 with flips, 100 epochs at the constant rate then
600 of linear decay to 0 (`--niter 100 --niter_decay 600`; the released stage-1 checkpoint is epoch 480),
LSGAN, a history of 50 fakes. Stage 1 data: `<root>/trainA` sketches, `trainB` photos (gray), `train_noise`;
stage 2: `<root>/trainA` gray images, `trainB` RGB photos (the official `shoes_step2`).
"""

from __future__ import annotations

from official.core.config import ExportConfig, RuntimeConfig
from official.core.registry import register_experiment
from official.training.gan.config import GANConfig
from official.vision.gan.experiments import cyclegan_trainer, translation_experiment
from research.generative.sketch2photo.task_config import Sketch2PhotoTaskConfig


def _experiment(model: str, path: str, stage: int, trainer, load: int, crop: int, training: GANConfig,
                runtime: RuntimeConfig | None = None):
    trainer.validation_every_n_loops = 0  # a GAN has no validation loss: FID/KID come from tools.evaluate / the end of the run
    cfg = translation_experiment(model, path, trainer, load, crop, training, runtime)
    cfg.task = Sketch2PhotoTaskConfig(stage=stage)
    # G_A runs on phones (the card): SavedModel + TFLite float16, each re-run against Keras
    cfg.export = ExportConfig(formats=("saved_model", "tflite"), quantize="float16", verify_examples=2,
                              atol=1e-3)  # float16: 10 x atol x output scale
    return cfg


def stage1(model: str, path: str):
    return _experiment(model, path, 1, cyclegan_trainer(100, 600), 140, 128,
                       GANConfig(objective="sketch2photo", gan_loss="lsgan", pool_size=50))


@register_experiment("sketch2photo_resnet9_shoev2")
def sketch2photo_resnet9_shoev2():
    """Stage 1 on QMUL-Shoe-V2 (the authors' prepared `shoes` folder)."""
    return stage1("sketch2photo_resnet9", "shoes")


@register_experiment("sketch2photo_resnet9_chairv2")
def sketch2photo_resnet9_chairv2():
    """Stage 1 on QMUL-Chair-V2 (same recipe)."""
    return stage1("sketch2photo_resnet9", "chairs")


@register_experiment("sketch2photo_colorizer_shoev2")
def sketch2photo_colorizer_shoev2():
    """Stage 2 on the official `shoes_step2` (gray trainA, RGB trainB); vgg_weights: the converted AdaIN VGG."""
    return _experiment("sketch2photo_colorizer", "shoes_step2", 2, cyclegan_trainer(100, 600), 140, 128,
                       GANConfig(objective="sketch2photo_colorize", gan_loss="lsgan", pool_size=50))


def small_run(model: str, path: str, stage: int, objective: str, steps: int):
    """A CPU small run: batch 4 at 32 px (load 36), a 16-filter 2-layer PatchGAN, LSGAN with a history of 50,
    Adam 2e-4 held for 2/3 of `steps` then decayed to 0, samples 3 times, graph mode on 2 threads."""
    trainer = cyclegan_trainer(2, 1, steps_per_epoch=steps // 3, batch=4)
    trainer.steps_per_loop = steps // 3
    trainer.log_every_n_steps = 50
    training = GANConfig(objective=objective, gan_loss="lsgan", pool_size=50, sample_every_n_steps=steps // 3,
                         objective_args={"d_filters": 16, "d_layers": 2})
    return _experiment(model, path, stage, trainer, 36, 32, training,
                       RuntimeConfig(seed=0, intra_op_threads=2, inter_op_threads=2, jit_compile=False))


# CPU small run of stage 1 on `python -m tools.make_domains --out=data/domains` (outline drawings -> filled
# shapes, converted to gray): the tiny G_A (8 filters, 2 blocks); the noise window is the official 50/128 scaled
# to 12 px.
SMALL_STEPS = 600


@register_experiment("sketch2photo_tiny_domains")
def sketch2photo_tiny_domains():
    return small_run("sketch2photo_tiny", "domains", 1, "sketch2photo", SMALL_STEPS)


# CPU small run of stage 2 on `python -m tools.make_domains --kind=gray_colour --out=data/gray_colour` (gray
# scenes -> scenes whose colours follow from the shapes): the tiny colouriser (frozen normalised VGG to relu3_4,
# 1 residual block; a random He-normal VGG unless model.vgg_weights names converted weights), the stage-2 losses
# at the official weights. 1800 steps: at 600 the colours were still noise (chroma error above the gray input's,
# measured).
SMALL_STEPS_STAGE2 = 1800


@register_experiment("sketch2photo_colorizer_tiny_domains")
def sketch2photo_colorizer_tiny_domains():
    return small_run("sketch2photo_colorizer_tiny", "gray_colour", 2, "sketch2photo_colorize", SMALL_STEPS_STAGE2)
