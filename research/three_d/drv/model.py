"""DRV (Bi et al., ECCV 2020) as a Keras model: a raw reflectance volume + the point-light ray marcher.

The volume (R, R, R, 8) holds alpha logit, normal (3), albedo logits (3), roughness logit (render.CHANNELS).
- decoder=False: the volume is one trainable variable (the card's "direct-variable" ablation; our tests).
- decoder=True: the paper's deep prior (spec card "Representation", sizes unverified): a learned 512-d code ->
  Dense to base^3 x C0 -> Conv3DTranspose(k=4, stride 2) + LeakyReLU(0.2) per stage (doubling: 4^3 -> R^3)
  -> a 3x3x3 Conv3D to the 8 channels. warp=True adds the Neural Volumes warp field (warp.py): the same
  code decodes K affine warps and a low-resolution weight volume; the template is read at W(x).
Priors (priors.py, off unless their weight > 0; any variant): the beta prior on each training ray's
accumulated opacity and the normal / opacity-gradient consistency, added to the loss with `add_loss`.
The light intensity I is one learned scalar (log-parameterised), as the card allows for unknown flash power.
Inputs of `call`: {"origins", "directions", "light"} (B, N, 3) rays -> rgb (B, N, 3), linear radiance.
`render_image(camera (B, 16), light (B, 3))` renders whole images; camera = [R_w2c row-major (9), t (3),
fx, fy, cx, cy] in COLMAP's convention (render.py).
"""

from __future__ import annotations

import math

import keras
from keras import layers, ops

from official.core.base_model import ZooSubclassModel
from research.three_d.drv import priors, render
from research.three_d.drv.warp import WarpDecoder, mixture_warp

# Initial raw values per channel (unverified, ours): nearly empty space (alpha logit -4: softplus = 0.018
# optical depth per voxel), albedo and roughness 0.5; normals random unit vectors.
INIT_MEAN = (-4.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
INIT_STD = (0.1, 1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.1)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class DRV(ZooSubclassModel):
    """Deep Reflectance Volume of one scene; renders rays or images under a point light."""

    def __init__(
        self,
        resolution: int = 128,  # volume side R (spec card: 128^3, unverified)
        decoder: bool = False,  # True: volume = ConvTranspose3D decoder(code) (the paper's deep prior)
        code_dim: int = 512,  # the learned encoding vector (spec card)
        base_resolution: int = 4,  # the decoder's first grid side
        decoder_channels: tuple[int, ...] = (256, 128, 64, 32, 16),  # per doubling stage (unverified widths)
        num_samples: int = 128,  # samples per camera ray (fixed count: static shapes)
        num_light_samples: int = 32,  # samples per shadow ray for non-collocated lights
        image_size: int = 64,  # render_image's output side (export signature)
        box_min: float = -1.0,  # the scene cube [box_min, box_max]^3
        box_max: float = 1.0,
        light_intensity: float = 12.0,  # initial point-light intensity I
        specular: bool = True,  # GGX lobe on (False: Lambertian only)
        seed: int = 0,  # initial volume noise
        warp: bool = False,  # decoder only: Neural Volumes' mixture-of-affines warp field (warp.py)
        warp_affines: int = 16,  # K affine warps (Neural Volumes' count; unverified for DRV)
        warp_channels: tuple[int, ...] = (64, 32, 16),  # weight-volume decoder widths: base_resolution * 2^len side
        opacity_prior_weight: float = 0.0,  # beta prior on training rays' accumulated opacity (0: off)
        normal_prior_weight: float = 0.0,  # normal vs -grad(opacity) consistency on the template volume (0: off)
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.resolution = resolution
        self.use_decoder = decoder
        self.num_samples = num_samples
        self.num_light_samples = num_light_samples
        self.image_size = image_size
        self.box_min, self.box_max = float(box_min), float(box_max)
        self.specular = specular
        self.opacity_prior_weight, self.normal_prior_weight = float(opacity_prior_weight), float(normal_prior_weight)
        if warp and not decoder:
            raise ValueError("DRV: warp=True needs decoder=True (the warp is decoded from the code)")
        self.warp = None
        self.log_intensity = self.add_weight(
            shape=(), initializer=keras.initializers.Constant(math.log(light_intensity)), name="log_intensity")
        if decoder:
            stages = int(round(math.log2(resolution / base_resolution)))
            if base_resolution * 2**stages != resolution or len(decoder_channels) != stages:
                raise ValueError(f"DRV: resolution {resolution} must be base_resolution {base_resolution} * 2^k "
                                 f"with k = len(decoder_channels) = {len(decoder_channels)}")
            self.code = self.add_weight(shape=(1, code_dim), initializer=keras.initializers.RandomNormal(seed=seed),
                                        name="code")
            self.base_resolution = base_resolution
            self.fc = layers.Dense(base_resolution**3 * decoder_channels[0], name="fc")
            self.ups = [layers.Conv3DTranspose(c, 4, strides=2, padding="same", name=f"up{i}")
                        for i, c in enumerate(decoder_channels)]
            # bias = INIT_MEAN: the decoded volume starts nearly empty, as the direct one (ours)
            self.out = layers.Conv3D(render.CHANNELS, 3, padding="same", name="out",
                                     bias_initializer=keras.initializers.Constant(INIT_MEAN))
            self._tracked = ("ups",)
            self.fc.build((1, code_dim))
            shape = (1, base_resolution, base_resolution, base_resolution, decoder_channels[0])
            for up in self.ups:
                up.build(shape)
                shape = (1, shape[1] * 2, shape[2] * 2, shape[3] * 2, up.filters)
            self.out.build(shape)
            if warp:
                self.warp = WarpDecoder(code_dim, warp_affines, base_resolution, warp_channels, name="warp")
                self.warp.build()
        else:
            mean, std = INIT_MEAN, INIT_STD

            def init(shape, dtype=None):
                noise = keras.random.normal(shape, seed=seed, dtype=dtype)
                return ops.cast(ops.array(mean), dtype) + ops.cast(ops.array(std), dtype) * noise

            self.volume = self.add_weight(shape=(resolution,) * 3 + (render.CHANNELS,), initializer=init,
                                          name="volume")
        self.built = True

    def raw_volume(self):
        """(R, R, R, 8) raw channels (pre-activation)."""
        if not self.use_decoder:
            return self.volume
        x = ops.reshape(self.fc(self.code), (1,) + (self.base_resolution,) * 3 + (-1,))
        x = ops.leaky_relu(x, 0.2)
        for up in self.ups:
            x = ops.leaky_relu(up(x), 0.2)
        return self.out(x)[0]

    def fields(self):
        """The raw template volume and the warp (None, or world points -> template points) of this step."""
        volume = self.raw_volume()
        if self.warp is None:
            return volume, None
        rotation, scale, translation, weights = self.warp(self.code)

        def warp(points):
            return mixture_warp(points, rotation, scale, translation, weights, self.box_min, self.box_max)

        return volume, warp

    def example_inputs(self, batch: int = 1, rays: int = 64):
        """Rays from a camera 3 units away towards the scene, light at the camera (the registry sweep's input)."""
        import numpy as np

        rng = np.random.default_rng(0)
        origins = np.tile(np.array([0.0, -3.0, 0.5], np.float32), (batch, rays, 1))
        targets = rng.uniform(-0.8, 0.8, (batch, rays, 3)).astype(np.float32)
        d = targets - origins
        return {"origins": origins, "directions": d / np.linalg.norm(d, axis=-1, keepdims=True), "light": origins}

    def intensity(self):
        return ops.exp(self.log_intensity)

    def call(self, inputs, collocated: bool | None = True, training: bool = False):
        origins, directions, light = inputs["origins"], inputs["directions"], inputs["light"]
        if len(light.shape) == len(origins.shape) - 1:  # one light per batch element
            light = ops.broadcast_to(ops.expand_dims(light, -2), ops.shape(origins))
        volume, warp = self.fields()
        rgb, weights = render.render_rays(
            volume, origins, directions, light, self.intensity(), box_min=self.box_min,
            box_max=self.box_max, num_samples=self.num_samples, specular=self.specular, collocated=collocated,
            num_light_samples=self.num_light_samples, warp=warp)
        if training:
            self.add_prior_losses(volume, weights)
        return rgb

    def add_prior_losses(self, volume, weights):
        """The weighted priors of one training step (Keras adds `model.losses` to the compiled L2)."""
        if self.opacity_prior_weight > 0:
            self.add_loss(self.opacity_prior_weight * priors.beta_prior(ops.sum(weights, axis=-1)))
        if self.normal_prior_weight > 0:
            voxel = (self.box_max - self.box_min) / (self.resolution - 1)
            self.add_loss(self.normal_prior_weight * priors.normal_consistency(volume, voxel))

    def render_image(self, camera, light, collocated: bool | None = None):
        """camera (B, 16) [R (9), t (3), fx, fy, cx, cy], light (B, 3) world -> (B, S, S, 3) linear images.

        collocated=None (default) marches shadow rays to the light except for lights at the camera centre,
        which reuse the camera transmittance as in training; False always marches; True never does (exact
        only for a light at the camera centre)."""
        camera = ops.convert_to_tensor(camera)
        rot = ops.reshape(camera[:, :9], (-1, 3, 3))
        origins, directions = render.camera_rays(rot, camera[:, 9:12], camera[:, 12:16], self.image_size,
                                                 self.image_size)
        rgb = self.call({"origins": origins, "directions": directions, "light": ops.cast(light, camera.dtype)},
                        collocated=collocated)
        return ops.reshape(rgb, (-1, self.image_size, self.image_size, 3))


def pack_camera(rotation, translation, intrinsics):
    """(B, 3, 3), (B, 3), (B, 4) -> the (B, 16) camera vector of `render_image` / the SavedModel signature."""
    b = ops.shape(rotation)[0]
    return ops.concatenate([ops.reshape(rotation, (b, 9)), translation, intrinsics], axis=-1)
