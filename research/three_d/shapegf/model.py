"""ShapeGF (Cai et al., ECCV 2020): a point-cloud auto-encoder whose decoder is a gradient field.

One network holds the encoder E (points -> z), the score net s(x, [z, sigma]) and, for generation, the
latent GAN's generator G (N(0, I) -> z). Its forward pass is the field at the input points under their own
code, {"z": E(points), "field": s(points, [z, sigma])} (+ {"z_fake": G(prior)}), which is what training
and the export checks need; clouds come from `reconstruct` / `sample` (annealed Langevin dynamics,
score_matching.py) with the sampler's settings kept in the config, so an exported sampler is self-contained.
The latent GAN's discriminator is a training-time network: it lives in the `shapegf_gan` method.
"""

from __future__ import annotations

import keras

from official.core.base_model import ZooModel
from research.three_d.shapegf import score_matching as sm
from research.three_d.shapegf.layers import LatentMLP, PointNetEncoder, ScoreNet


@keras.saving.register_keras_serializable(package="eccv20zoo")
class ShapeGF(ZooModel):
    """Encoder + score net (+ latent generator).

    Args:
        zdim: latent size (128).
        hidden, blocks: score net width (256) and residual blocks (24).
        conv_widths, fc_widths: the encoder's per-point and FC widths ((128, 128, 256, 512), (256, 128)).
        sigma_begin, sigma_end, num_sigmas: the geometric noise levels (1, 0.01, 10 for auto-encoding;
            5 in the generation configs).
        num_steps, step_size_ratio, noise_weight: Langevin steps per level (10), alpha = 2 sigma^2 x ratio (1),
            noise scale (1) (the configs' `inference` section).
        num_points: points a reconstruction or sample has by default (2,048).
        generator_dims: hidden widths of the latent generator ((256, 256)); () = auto-encoder only.
        zero_init: zero the blocks' fc_1 kernels at initialisation (the official init).
    """

    def __init__(self, zdim: int = 128, hidden: int = 256, blocks: int = 24,
                 conv_widths: tuple[int, ...] = (128, 128, 256, 512), fc_widths: tuple[int, ...] = (256, 128),
                 sigma_begin: float = 1.0, sigma_end: float = 0.01, num_sigmas: int = 10, num_steps: int = 10,
                 step_size_ratio: float = 1.0, noise_weight: float = 1.0, num_points: int = 2048,
                 generator_dims: tuple[int, ...] = (), zero_init: bool = True, **kwargs):
        points = keras.Input(shape=(None, 3), name="points")
        sigma = keras.Input(shape=(1,), name="sigma")
        encoder = PointNetEncoder(zdim, tuple(conv_widths), tuple(fc_widths), name="encoder")
        score_net = ScoreNet(zdim, hidden, blocks, zero_init, name="score_net")
        z = encoder(points)
        code = keras.layers.Concatenate(name="code")([z, sigma])
        inputs = {"points": points, "sigma": sigma}
        outputs = {"z": z, "field": score_net({"points": points, "code": code})}
        if generator_dims:
            prior = keras.Input(shape=(zdim,), name="prior")
            inputs["prior"] = prior
            outputs["z_fake"] = LatentMLP(zdim, tuple(generator_dims), zdim, name="generator")(prior)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

    # --- parts --------------------------------------------------------------------------------
    @property
    def encoder(self) -> PointNetEncoder:
        return self.get_layer("encoder")

    @property
    def score_net(self) -> ScoreNet:
        return self.get_layer("score_net")

    @property
    def generator(self) -> LatentMLP:
        return self.get_layer("generator")

    @property
    def sigmas(self):
        a = self.constructor_args
        return sm.geometric_sigmas(a["sigma_begin"], a["sigma_end"], a["num_sigmas"])

    @property
    def num_steps(self) -> int:
        return int(self.constructor_args["num_steps"])

    def total_steps(self) -> int:
        """Langevin steps of one sampling run (num_sigmas x num_steps)."""
        return len(self.sigmas) * self.num_steps

    def field(self, points, z, sigma):
        """The inference-mode sigma-scaled field s(points, [z, sigma]); sigma (B,) or a scalar."""
        return sm.conditioned_field(self.score_net, z)(points, sigma)

    # --- sampling -----------------------------------------------------------------------------
    def decode(self, z, x0, noise):
        """Langevin dynamics under code z from x0 (B, N, 3) with noise (total_steps, B, N, 3)."""
        a = self.constructor_args
        return sm.annealed_langevin(sm.conditioned_field(self.score_net, z), x0, noise, self.sigmas,
                                    self.num_steps, a["step_size_ratio"], a["noise_weight"])

    def reconstruct(self, points, x0, noise):
        """Auto-encoding: E(points) in inference mode, then `decode`."""
        return self.decode(self.encoder(points, training=False), x0, noise)

    def sample(self, prior, x0, noise):
        """Generation: z = G(prior), then `decode`."""
        return self.decode(self.generator(prior, training=False), x0, noise)

    def random_start(self, batch: int, num_points: int | None = None, seed: int | None = 0):
        """(x0, noise) for one sampling run, from `seed` (keras.random)."""
        n = num_points or int(self.constructor_args["num_points"])
        gen = keras.random.SeedGenerator(seed)
        return sm.prior_points(batch, n, gen), sm.draw_noise(self.sigmas, self.num_steps, batch, n, gen)
