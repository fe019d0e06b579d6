"""The COCO-FUNIT generator (Saito, Saenko, Liu, ECCV 2020; imaginaire `generators/coco_funit.py`).

content encoder E_c: conv7x7 (f) IN ReLU; `content_downsamplings` x [conv4x4 s2 IN ReLU] doubling the width;
  `res_blocks` residual blocks [conv3x3 IN ReLU] x 2 + identity (affine IN, reflect padding).
style encoder E_s (no norm): conv7x7 (f) ReLU; conv4x4 s2 doubling to 4f over two steps, then
  `style_downsamplings - 2` more at 4f; global average pool; conv1x1 -> style_dims.
COCO code: z_c = MLP_c(mean_HW(c)), z_s = MLP_s([s ; u]) (u the universal style bias, concatenated),
  w = MLP(z_s * z_c) (each MLP two Linear + ReLU).
decoder: `res_blocks` blocks [conv3x3 AdaIN ReLU] x 2 + identity at the content width, then one up-residual
  block per content down-sampling (main: conv5x5 AdaIN ReLU, nearest x2, conv5x5 AdaIN ReLU; shortcut:
  nearest x2, conv1x1 AdaIN ReLU), then conv7x7 -> 3, tanh. Every AdaIN has its own Linear(mlp_dims -> 2C).
Inputs {"content", "style"} (B, H, W, 3) in [-1, 1]; output the translated image. The base64 config has
121,562,307 trainable parameters (spec card).
"""

from __future__ import annotations

import keras
from keras import layers

from official.core.base_model import ZooModel
from research.generative.coco_funit.layers import StyleBias, conv, conv_adain_relu, conv_in_relu, up2


def content_encoder(x, filters: int, downsamplings: int, res_blocks: int):
    x = conv_in_relu(x, filters, 7, "content_stem")
    for i in range(downsamplings):
        filters *= 2
        x = conv_in_relu(x, filters, 4, f"content_down{i + 1}", strides=2, pad=1)
    for i in range(res_blocks):
        y = conv_in_relu(x, filters, 3, f"content_res{i + 1}_a")
        y = conv_in_relu(y, filters, 3, f"content_res{i + 1}_b")
        x = layers.Add(name=f"content_res{i + 1}_add")([x, y])
    return x


def style_encoder(x, filters: int, downsamplings: int, style_dims: int):
    x = layers.ReLU(name="style_stem_relu")(conv(x, filters, 7, "style_stem"))
    for i in range(downsamplings):
        if i < 2:
            filters *= 2
        x = layers.ReLU(name=f"style_down{i + 1}_relu")(conv(x, filters, 4, f"style_down{i + 1}", strides=2, pad=1))
    x = layers.GlobalAveragePooling2D(name="style_pool")(x)
    return layers.Dense(style_dims, name="style_out")(x)  # the official conv1x1 on a 1x1 map


def mlp(x, hidden: int, out: int, name: str):
    x = layers.Dense(hidden, activation="relu", name=f"{name}_fc1")(x)
    return layers.Dense(out, activation="relu", name=f"{name}_fc2")(x)


def decoder(c, w, downsamplings: int, res_blocks: int, out_channels: int):
    width = c.shape[-1]
    x = c
    for i in range(res_blocks):
        y = conv_adain_relu(x, w, width, 3, f"dec_res{i + 1}_a")
        y = conv_adain_relu(y, w, width, 3, f"dec_res{i + 1}_b")
        x = layers.Add(name=f"dec_res{i + 1}_add")([x, y])
    for i in range(downsamplings):
        name, width = f"dec_up{i + 1}", width // 2
        main = conv_adain_relu(x, w, width, 5, f"{name}_a")
        main = conv_adain_relu(up2(main, f"{name}_a_up"), w, width, 5, f"{name}_b")
        short = conv_adain_relu(up2(x, f"{name}_s_up"), w, width, 1, f"{name}_s")
        x = layers.Add(name=f"{name}_add")([short, main])
    x = conv(x, out_channels, 7, "dec_out")
    return layers.Activation("tanh", name="image_out", dtype="float32")(x)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class COCOFUNITGenerator(ZooModel):
    """{"content", "style"} images -> translated image; sub-outputs via `parts()`."""

    def __init__(self, filters: int = 64, mlp_dims: int = 256, style_dims: int = 64, usb_dims: int = 1024,
                 res_blocks: int = 2, content_downsamplings: int = 4, style_downsamplings: int = 5,
                 image_size: tuple[int, int] = (256, 256), **kwargs):
        h, w = tuple(image_size)
        content_in = keras.Input((h, w, 3), name="content")
        style_in = keras.Input((h, w, 3), name="style")
        c = content_encoder(content_in, filters, content_downsamplings, res_blocks)
        s = style_encoder(style_in, filters, style_downsamplings, style_dims)
        content_mean = layers.GlobalAveragePooling2D(name="content_mean")(c)
        z_c = mlp(content_mean, mlp_dims, style_dims, "mlp_content")
        z_s = mlp(StyleBias(usb_dims, name="usb")(s), mlp_dims, style_dims, "mlp_style")
        coco = layers.Multiply(name="coco_code")([z_s, z_c])
        w_code = mlp(coco, mlp_dims, mlp_dims, "mlp")
        out = decoder(c, w_code, content_downsamplings, res_blocks, 3)
        super().__init__(inputs={"content": content_in, "style": style_in}, outputs=out, **kwargs)

    def parts(self) -> keras.Model:
        """A model with the same inputs returning content code, style code, z_c, z_s, w and the image."""
        names = (f"content_res{self.constructor_args['res_blocks']}_add", "style_out", "mlp_content_fc2",
                 "mlp_style_fc2", "mlp_fc2", "image_out")
        outs = [self.get_layer(n).output for n in names]
        return keras.Model(self.input, dict(zip(("content", "style", "z_c", "z_s", "w", "image"), outs, strict=True)))

