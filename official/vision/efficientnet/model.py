"""EfficientNet-B0..B7 (Tan & Le, ICML 2019) from keras.applications, as zoo classifiers.

AutoAugment-KD's recipe trains EfficientNets as students and teachers. The network is
keras.applications' (its parameter counts: B0 5,330,571 with 1000 classes, of which 5,288,548
trainable), wrapped so the zoo's registry, configs and export treat it like any classifier. Unlike the
zoo's own classifiers it rescales its input inside the graph (x / 255, then a Normalization layer that
stays at mean 0 / variance 1 without ImageNet weights), so its experiments feed 0-255 pixels: data mean
(0, 0, 0) and std (1, 1, 1). Output: logits (no softmax), float32.
"""

from __future__ import annotations

import keras

from official.core.base_model import ZooModel

BUILDERS = {
    f"b{i}": getattr(keras.applications, f"EfficientNetB{i}") for i in range(8)
}
# Native resolutions of B0..B7 (Tan & Le, Table 1 / keras.applications defaults).
RESOLUTIONS = {"b0": 224, "b1": 240, "b2": 260, "b3": 300, "b4": 380, "b5": 456, "b6": 528, "b7": 600}


@keras.saving.register_keras_serializable(package="eccv20zoo")
class EfficientNet(ZooModel):
    """keras.applications.EfficientNet<variant>, random init, logits out.

    Args:
        variant: "b0" .. "b7".
        classes: classifier outputs.
        input_shape: (height, width, 3); None = the variant's native resolution.

    Dropout (0.2 for B0 ... 0.5 for B7) and stochastic depth (0.2) are keras.applications' fixed values.
    """

    def __init__(
        self,
        variant: str = "b0",
        classes: int = 1000,
        input_shape: tuple[int, int, int] | None = None,
        **kwargs,
    ):
        if variant not in BUILDERS:
            raise ValueError(f"variant: expected one of {sorted(BUILDERS)}, got {variant!r}")
        size = RESOLUTIONS[variant]
        shape = tuple(input_shape) if input_shape else (size, size, 3)
        app = BUILDERS[variant](
            include_top=True, weights=None, classes=classes, input_shape=shape,
            classifier_activation=None,
        )
        inputs = keras.Input(shape=shape, name="images")
        logits = keras.layers.Activation("linear", dtype="float32", name="logits")(app(inputs))
        super().__init__(inputs=inputs, outputs=logits, **kwargs)
