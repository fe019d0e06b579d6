"""ResNet trunk + FPN-style top-down merge to one stride: the single-level feature network of the RoI-based
3D methods (HMOR's integrated detector, Mask2CAD's second stage). Images are 0-255 RGB, normalised inside
the graph with ImageNet statistics (the 3DMPPE / torchvision convention), so exported models take pixels.

C5 -> 1x1 lateral (neck_width), then for each level from 4 down to `level`: nearest 2x upsampling + the 1x1
lateral of C_level; a 3x3 conv smooths the result. Layer names are part of the weight layout (checkpoints).
"""

from __future__ import annotations

import keras
from keras import layers

from official.vision.backbones.resnet import resnet_trunk

PIXEL_MEAN = (0.485 * 255, 0.456 * 255, 0.406 * 255)  # ImageNet RGB statistics on 0-255
PIXEL_STD = (0.229 * 255, 0.224 * 255, 0.225 * 255)


def resnet_topdown_features(input_shape, blocks, widths, stem_width: int, level: int, neck_width: int, bn: dict,
                            block: str = "basic") -> keras.Model:
    """images (B, H, W, 3) in 0-255 -> features (B, H / 2^level, W / 2^level, neck_width), model name "features"."""
    images = keras.Input(tuple(input_shape), name="images")
    x = layers.Normalization(mean=list(PIXEL_MEAN), variance=[s * s for s in PIXEL_STD], name="normalize")(images)
    pyramid = resnet_trunk(x, blocks, widths, stem_width, bn, block=block)
    x = layers.Conv2D(neck_width, 1, name="lateral5")(pyramid["C5"])
    for lvl in range(4, level - 1, -1):
        x = layers.UpSampling2D(2, interpolation="nearest", name=f"up{lvl}")(x)
        x = layers.Add(name=f"merge{lvl}")([x, layers.Conv2D(neck_width, 1, name=f"lateral{lvl}")(pyramid[f"C{lvl}"])])
    x = layers.Conv2D(neck_width, 3, padding="same", name="smooth")(x)
    return keras.Model(images, x, name="features")
