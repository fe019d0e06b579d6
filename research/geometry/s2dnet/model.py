"""S2DNet (Germain, Bourmaud, Lepetit, ECCV 2020): VGG-16 hypercolumn features for sparse-to-dense matching.

Graph (germain-hug/S2DNet-Minimal s2dnet.py / adap_layers.py, spec card s2dnet.md "Method"):
    image RGB in [0, 1] -> ImageNet mean/std (the pixloc / pixsfm wrappers of the same weights)
    -> torchvision VGG-16 `features[:-2]` (conv1_1 .. conv5_3: relu5_3 and pool5 dropped)
    -> taps at hypercolumn_layers (conv1_2, conv3_3, conv5_3: strides 1, 4, 16)
    -> per tap an adaptation layer: conv1x1 (C -> 64) + bias, ReLU, conv5x5 pad 2 (64 -> 128) + bias, BN(128)
    -> feature maps features_1 (H, W, 128), features_2 (H/4, W/4, 128), features_3 (H/16, W/16, 128).
The official forward stores the map of layer index idx(conv1_2) and then runs torchvision's in-place ReLU
over it, so what adaptation layers 1 and 2 see is relu1_2 / relu3_3; conv5_3 is the last layer of the
truncated encoder and stays pre-ReLU. `effective_taps` reproduces that rule for any tap list.
Training (`compute_loss`): x holds pairs interleaved along the batch (source_0, target_0, source_1, ...),
y the keypoints; losses.s2d_loss casts matching as classification over target cells at every level.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from official.core.base_model import LossTermTrackers, ZooLayer, ZooModel
from official.vision.backbones.vgg import layer_names, layer_stride, torch_index, vgg_trunk
from official.vision.gan.vgg_features import TORCH_MEAN, TORCH_STD
from research.geometry.s2dnet import losses as s2d_losses

ENCODER_LAST = "conv5_3"  # features[:-2] of torchvision's vgg16: ends on conv5_3 (index 28)
OFFICIAL_LAYERS = ("conv1_2", "conv3_3", "conv5_3")  # S2DNet-Minimal's default hypercolumn_layers


def effective_taps(hypercolumn_layers: tuple[str, ...], last: str = ENCODER_LAST) -> tuple[str, ...]:
    """The layer whose output each tap really holds: a conv followed by a ReLU inside the encoder is
    overwritten by that in-place ReLU (conv1_2 -> relu1_2); a conv that ends the encoder stays as is."""
    names = layer_names()
    stop = torch_index(last)
    out = []
    for tap in hypercolumn_layers:
        i = torch_index(tap)
        if i > stop:
            raise ValueError(f"S2DNet: hypercolumn layer {tap!r} lies after the encoder's last layer {last!r}")
        follows = names[i + 1] if i + 1 <= stop else ""
        out.append(follows if tap.startswith("conv") and follows.startswith("relu") else tap)
    return tuple(out)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class ImageNetStandardize(ZooLayer):
    """RGB in [0, 1] -> (x - ImageNet mean) / ImageNet std, torchvision's normalisation."""

    def call(self, images):
        x = ops.cast(images, self.compute_dtype)
        return (x - ops.convert_to_tensor(TORCH_MEAN, x.dtype)) / ops.convert_to_tensor(TORCH_STD, x.dtype)


@keras.saving.register_keras_serializable(package="eccv20zoo")
class S2DNet(LossTermTrackers, ZooModel):
    """The S2DNet feature extractor (see the module docstring): image -> {features_1, features_2, features_3}.

    Args:
        hypercolumn_layers: VGG-16 layer names tapped (official: conv1_2, conv3_3, conv5_3).
        output_dim: channels of every output map (official 128).
        adapt_dim: hidden width of the adaptation layers (official 64).
        width_divisor: VGG widths divided by this (1 = VGG-16; tests and the CPU run use narrow trunks).
        temperature: softmax temperature of the training loss on cosine correspondence maps (not released:
            a guess, see README "Known differences").
        input_shape: (H, W, 3); H and W multiples of 16 keep the strides exact.
    """

    def __init__(
        self,
        hypercolumn_layers: tuple[str, ...] = OFFICIAL_LAYERS,
        output_dim: int = 128,
        adapt_dim: int = 64,
        width_divisor: int = 1,
        temperature: float = 0.05,
        input_shape: tuple[int | None, int | None, int] = (None, None, 3),
        **kwargs,
    ):
        taps = effective_taps(tuple(hypercolumn_layers))
        image = keras.Input(input_shape, name="image")
        x = ImageNetStandardize(name="imagenet_standardize")(image)
        trunk = vgg_trunk(x, ENCODER_LAST, taps, width_divisor=width_divisor)
        outputs = {}
        for i, tap in enumerate(taps):  # adap_layers.py: one Sequential per tap, named adap_layer_<i>
            y = layers.Conv2D(adapt_dim, 1, name=f"adap_layer_{i}_conv1x1")(trunk[tap])
            y = layers.ReLU(name=f"adap_layer_{i}_relu")(y)
            y = layers.Conv2D(output_dim, 5, padding="same", name=f"adap_layer_{i}_conv5x5")(y)
            y = layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=f"adap_layer_{i}_bn")(y)  # torch BN defaults
            outputs[f"features_{i + 1}"] = layers.Activation("linear", dtype="float32", name=f"features_{i + 1}")(y)
        super().__init__(inputs=image, outputs=outputs, **kwargs)
        self.strides = tuple(layer_stride(t) for t in taps)
        self.track_loss_terms(s2d_losses.loss_terms(len(taps)))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """losses.s2d_loss on pairs interleaved along the batch: y_pred[k][0::2] sources, [1::2] targets;
        y = {keypoints (B, N, 2), target_keypoints (B, N, 2), keypoint_mask (B, N)} in continuous pixels."""
        keys = sorted(y_pred)
        source = [y_pred[k][0::2] for k in keys]
        target = [y_pred[k][1::2] for k in keys]
        total, terms = s2d_losses.s2d_loss(source, target, y["keypoints"], y["target_keypoints"], y["keypoint_mask"],
                                           self.strides, self.constructor_args["temperature"])
        return self.tracked_total(total, terms)
