"""VGG-19 feature maps for perceptual and style losses (SPADE/TSIT's VGG loss, Sketch2Photo's content and style
losses), from the user's weights file: ImageNet VGG weights are a download and are never fetched here.

Layer names follow the papers (relu1_1 ... relu5_4); Keras' VGG19 fuses each ReLU into its conv, so relu3_4
is the output of block3_conv4. Inputs are images in [-1, 1]. `preprocessing` must match the weights:
"torch" for weights converted from torchvision's vgg19 (RGB in [0, 1], normalised by the ImageNet mean
and std: what SPADE, TSIT and pytorch-AdaIN's encoder training used), "caffe" for Keras' own VGG19 file
(BGR in [0, 255] minus the per-channel mean).
"""

from __future__ import annotations

import keras
from keras import ops

RELU_LAYERS = {f"relu{b}_{i}": f"block{b}_conv{i}" for b, n in ((1, 2), (2, 2), (3, 4), (4, 4), (5, 4)) for i in range(1, n + 1)}
SPADE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
SPADE_WEIGHTS = (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0)
TORCH_MEAN, TORCH_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


def preprocess(images, preprocessing: str):
    """[-1, 1] RGB -> the input the weights were trained on."""
    x = (ops.cast(images, "float32") + 1.0) / 2.0
    if preprocessing == "torch":
        return (x - ops.convert_to_tensor(TORCH_MEAN)) / ops.convert_to_tensor(TORCH_STD)
    if preprocessing == "caffe":
        return x[..., ::-1] * 255.0 - ops.convert_to_tensor(CAFFE_MEAN_BGR)
    raise ValueError(f"vgg preprocessing: expected 'torch' or 'caffe', got {preprocessing!r}")


def vgg19_features(layers: tuple[str, ...] = SPADE_LAYERS, weights: str | None = None, preprocessing: str = "torch",
                   image_size: tuple[int | None, int | None] = (None, None)) -> keras.Model:
    """A frozen model: (B, H, W, 3) images in [-1, 1] -> [feature map per name in `layers`]."""
    unknown = [name for name in layers if name not in RELU_LAYERS]
    if unknown:
        raise ValueError(f"vgg layers: unknown {unknown}; known: {', '.join(RELU_LAYERS)}")
    base = keras.applications.VGG19(include_top=False, weights=weights, input_shape=(*image_size, 3))
    inputs = keras.Input((*image_size, 3), name="image")
    body = keras.Model(base.input, [base.get_layer(RELU_LAYERS[name]).output for name in layers], name="vgg19_body")
    outputs = body(preprocess(inputs, preprocessing))
    model = keras.Model(inputs, outputs if isinstance(outputs, list) else [outputs], name="vgg19_features")
    model.trainable = False
    return model
