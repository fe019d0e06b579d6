"""A multi-layer perceptron over an image's first channel: UniLoss's MNIST network (Liu et al., ECCV 2020).

UniLoss's MNIST binary-AP network (princeton-vl/uniloss, binary_classficiation/train_mnist.py `Net`):
784 -> 500 -> 300 -> 1 with ReLU. The zoo's MNIST reader repeats the grey value in 3 channels, so the
first channel is taken before flattening (784 inputs at 28x28, as in the official code). The output is
the logit; the official network ends in a sigmoid, which UniLoss applies in its loss instead
(`training.score_activation: sigmoid`), so served models return logits like every zoo classifier.
"""

from __future__ import annotations

import keras
from keras import layers

from official.core.base_model import ZooModel


@keras.saving.register_keras_serializable(package="eccv20zoo")
class MLP(ZooModel):
    """(batch, height, width, channels) normalised images -> (batch, classes) logits.

    Args:
        hidden: widths of the ReLU hidden layers.
        classes: outputs (1 for a binary score).
        input_shape: (height, width, channels); only channel 0 is used.
    """

    def __init__(self, hidden: tuple[int, ...] = (500, 300), classes: int = 1,
                 input_shape: tuple[int, int, int] = (28, 28, 3), **kwargs):
        inputs = keras.Input(shape=tuple(input_shape), name="images")
        x = layers.Flatten(name="flatten")(inputs[..., :1])
        for i, width in enumerate(hidden):
            x = layers.Dense(width, activation="relu", name=f"fc{i + 1}")(x)
        outputs = layers.Dense(classes, name="logits", dtype="float32")(x)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
