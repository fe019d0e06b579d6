"""ForkGAN's networks (Zheng et al., ECCV 2020; official TF1 code zhengziqiang/ForkGAN, model.py / ops.py).

- `ForkGenerator`: a shared encoder (reflect-pad 3, conv7x7, two stride-2 conv3x3, `encoder_blocks` residual
  blocks) whose output is the domain-invariant code; a translation decoder and a reconstruction decoder
  (same layout, own weights: `decoder_blocks` residual blocks, two stride-2 transposed conv3x3, reflect-pad 3,
  conv7x7, tanh). The reconstruction decoder sees the code plus N(0, noise_std) noise, and more noise after
  its first block; the code it returns (for the code loss and the classifier) is the noised one. The
  official code adds the noise at test time too (`noise_at_inference`). `model(x)` is the translation (the
  exported A -> B path); `model.fork(x)` returns (translation, reconstruction, noised code).
- `DomainClassifier`: conv4x4 s2 (4f, 2f, 2f) IN LReLU, conv4x4 s1 (2) on a code, averaged over space:
  (B, 1, 1, 2) logits; the objective also averages over the batch, as the official code does.
- `MultiScaleDiscriminator`: `levels` levels on [x, x/2, ...] (bicubic, `BicubicHalf`): at each level branch i < last =
  conv4x4 s1 IN LReLU of old branch i+1, the last branch = `scales` x [conv4x4 s2 IN LReLU] of old branch 0;
  a final conv4x4 s1 -> 1 logit map per branch.
Everywhere: no conv biases, instance norm with learned scale and offset (eps 1e-5), "same" padding (TF1's
SAME, also for the transposed convs), LReLU 0.2. Layer names follow the official variable scopes
(`g_e1_c`, `g_r6_rec_c1`, `d_h1_conv_scale_0_...`), which convert.py maps.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from official.core.base_model import ZooLayer, ZooModel
from official.vision.gan.layers import ReflectionPad2D, instance_norm


@keras.saving.register_keras_serializable("eccv20_zoo")
class CodeNoise(ZooLayer):
    """x + N(0, stddev): in training, and at inference too when `at_inference` (the official graph)."""

    def __init__(self, stddev: float = 0.02, at_inference: bool = True, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.stddev, self.at_inference = float(stddev), bool(at_inference)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, x, training=False):
        if self.stddev <= 0 or not (training or self.at_inference):
            return x
        return x + keras.random.normal(ops.shape(x), stddev=self.stddev, dtype=x.dtype, seed=self.seed_generator)

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable("eccv20_zoo")
class BicubicHalf(ZooLayer):
    """Bicubic down-sampling by 2 (Keys a = -0.5, half-pixel centres; a tap outside the image is dropped and the
    rest renormalised): tf.image.resize's bicubic for even sizes, as a fixed 4-tap stride-2 filter
    [-1, 9, 9, -1] / 16 per axis, so that its gradient compiles under XLA (ResizeBicubicGrad does not)."""

    TAPS = (-0.0625, 0.5625, 0.5625, -0.0625)

    def call(self, x):
        for axis in (1, 2):
            n = x.shape[axis]
            zero = ops.zeros_like(ops.take(x, [0], axis=axis))
            padded = ops.concatenate([zero, x, zero], axis=axis)
            x = sum(w * ops.take(padded, list(range(k, k + n, 2)), axis=axis) for k, w in enumerate(self.TAPS))
            norm = [1.0 / (1.0 - self.TAPS[0])] + [1.0] * (n // 2 - 2) + [1.0 / (1.0 - self.TAPS[3])]
            shape = [1, 1, 1, 1]
            shape[axis] = n // 2
            x = x * ops.reshape(ops.convert_to_tensor(norm, x.dtype), shape)
        return x

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        return (b, None if h is None else h // 2, None if w is None else w // 2, c)


def _conv(x, filters: int, kernel: int, strides: int, name: str, padding: str = "same"):
    return layers.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=False, name=name)(x)


def _norm(x, name: str):
    return instance_norm(name, affine=True)(x)


def _residual(x, width: int, name: str):
    y = layers.ReLU(name=f"{name}_relu")(_norm(_conv(x, width, 3, 1, f"{name}_c1"), f"{name}_bn1"))
    y = _norm(_conv(y, width, 3, 1, f"{name}_c2"), f"{name}_bn2")
    return layers.Add(name=f"{name}_add")([x, y])


def _decoder(code_shape, filters: int, blocks: int, first_block: int, output_channels: int, suffix: str,
             noise: float, at_inference: bool, name: str) -> keras.Model:
    """Residual blocks g_r{first_block}.., deconvs g_d1/g_d2, g_pred_c (official names + suffix)."""
    code = keras.Input(shape=code_shape, name="code")
    x = code
    for i in range(blocks):
        x = _residual(x, 4 * filters, f"g_r{first_block + i}{suffix}")
        if i == 0 and noise > 0:
            x = CodeNoise(noise, at_inference, name=f"g_r{first_block}{suffix}_noise")(x)
    for i, width in enumerate((2 * filters, filters)):
        x = layers.Conv2DTranspose(width, 3, strides=2, padding="same", use_bias=False, name=f"g_d{i + 1}_dc{suffix}")(x)
        x = layers.ReLU(name=f"g_d{i + 1}_relu{suffix}")(_norm(x, f"g_d{i + 1}_bn{suffix}"))
    x = ReflectionPad2D(3, name=f"g_pred_pad{suffix}")(x)
    x = _conv(x, output_channels, 7, 1, f"g_pred_c{suffix}", padding="valid")
    return keras.Model(code, layers.Activation("tanh", dtype="float32", name=f"tanh{suffix}")(x), name=name)


@keras.saving.register_keras_serializable("eccv20_zoo")
class ForkGenerator(ZooModel):
    """(B, H, W, 3) in [-1, 1] -> translation (B, H, W, 3); `fork` adds reconstruction and code (B, H/4, W/4, 4f)."""

    def __init__(self, input_channels: int = 3, output_channels: int = 3, filters: int = 64, encoder_blocks: int = 5,
                 decoder_blocks: int = 4, noise_std: float = 0.02, noise_at_inference: bool = True,
                 image_size: tuple[int, int] = (256, 512), **kwargs):
        h, w = (int(s) for s in image_size)
        if h % 4 or w % 4:
            raise ValueError(f"ForkGenerator: image_size {image_size} must be divisible by 4")
        image = keras.Input(shape=(h, w, input_channels), name="image")
        x = ReflectionPad2D(3, name="g_e1_pad")(image)
        x = layers.ReLU(name="g_e1_relu")(_norm(_conv(x, filters, 7, 1, "g_e1_c", padding="valid"), "g_e1_bn"))
        for i, width in ((2, 2 * filters), (3, 4 * filters)):
            x = layers.ReLU(name=f"g_e{i}_relu")(_norm(_conv(x, width, 3, 2, f"g_e{i}_c"), f"g_e{i}_bn"))
        for i in range(encoder_blocks):
            x = _residual(x, 4 * filters, f"g_r{i + 1}")
        encoder = keras.Model(image, x, name="encoder")
        code_shape = (h // 4, w // 4, 4 * filters)
        first = encoder_blocks + 1
        translation = _decoder(code_shape, filters, decoder_blocks, first, output_channels, "", 0.0, False,
                               "translation_decoder")
        reconstruction = _decoder(code_shape, filters, decoder_blocks, first, output_channels, "_rec", noise_std,
                                  noise_at_inference, "reconstruction_decoder")
        super().__init__(inputs=image, outputs=translation(encoder(image)), **kwargs)
        self.encoder = encoder
        self.translation_decoder = translation
        self.reconstruction_decoder = reconstruction
        self.code_noise = CodeNoise(noise_std, noise_at_inference, name="code_noise")

    def fork(self, images, training=False):
        """(translation, reconstruction of the input, noised code)."""
        code = self.encoder(images, training=training)
        translated = self.translation_decoder(code, training=training)
        noised = self.code_noise(code, training=training)
        return translated, self.reconstruction_decoder(noised, training=training), noised


@keras.saving.register_keras_serializable("eccv20_zoo")
class DomainClassifier(ZooModel):
    """(B, h, w, C) code -> (B, 1, 1, 2) logits (per-sample spatial mean; [1, 0] = domain A)."""

    def __init__(self, code_shape: tuple[int, int, int] = (64, 128, 256), filters: int = 32, **kwargs):
        code = keras.Input(shape=tuple(code_shape), name="code")
        x = code
        for i, width in enumerate((4 * filters, 2 * filters, 2 * filters)):
            x = _conv(x, width, 4, 2, f"d_h{i + 1}_conv")
            x = layers.LeakyReLU(0.2, name=f"d_lrelu{i + 1}")(_norm(x, f"d_bn{i + 1}"))
        x = _conv(x, 2, 4, 1, "d_h3_pred")
        logits = layers.GlobalAveragePooling2D(keepdims=True, dtype="float32", name="spatial_mean")(x)
        super().__init__(inputs=code, outputs=logits, **kwargs)


@keras.saving.register_keras_serializable("eccv20_zoo")
class MultiScaleDiscriminator(ZooModel):
    """(B, H, W, C) -> [logit map per scale]: (B, H/2^levels, ...) for branch 0, then coarser ones."""

    def __init__(self, input_channels: int = 3, filters: int = 32, levels: int = 4, scales: int = 2,
                 image_size: tuple[int, int] = (256, 512), **kwargs):
        h, w = (int(s) for s in image_size)
        image = keras.Input(shape=(h, w, input_channels), name="image")
        branches = [image]
        for i in range(1, scales):  # official: bicubic resize of x to H / 2^i (here 2x steps; equal for 2 scales)
            branches.append(BicubicHalf(name=f"scale_{i}")(branches[-1]))
        for level in range(levels):
            width, prefix = filters * 2 ** level, f"d_h{level}_conv_scale_"
            new = []
            for i in range(scales - 1):
                y = _conv(branches[i + 1], width, 4, 1, f"{prefix}{i}_first_c")
                new.append(layers.LeakyReLU(0.2, name=f"{prefix}{i}_first_lrelu")(_norm(y, f"{prefix}{i}_first_bn")))
            y, last = branches[0], scales - 1
            for step in range(scales):
                y = _norm(_conv(y, width, 4, 2, f"{prefix}{last}_c_{step}"), f"{prefix}{last}_bn_{step}")
                y = layers.LeakyReLU(0.2, name=f"{prefix}{last}_lrelu_{step}")(y)
            branches = new + [y]
        outputs = [layers.Activation("linear", dtype="float32", name=f"logits_{i}")(_conv(b, 1, 4, 1, f"d_pred_scale_{i}"))
                   for i, b in enumerate(branches)]
        super().__init__(inputs=image, outputs=outputs, **kwargs)
