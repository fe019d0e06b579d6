"""ProxyBNN, the short-schedule bar: a 1/1-bit binary ResNet (two stages, widths 16/32) learns scikit-learn's
8x8 digits in a few epochs, and its folded BNN (W_b only) classifies the held-out digits far above chance.

The card's measured run is `proxybnn_resnet18_cifar_digits` (ResNet-18 at 1/4 width on the 32 px digits
folders through tools.train: 98.9% vs 99.7% for the full-precision twin); this is the same layers on 8x8
digits (seconds), so a broken sign, STE or fold misses the bar.
"""

from __future__ import annotations

import keras
import numpy as np
from sklearn.datasets import load_digits

from official.vision.proxybnn.model import BinaryResNet


def test_binary_resnet_learns_digits_and_its_fold_keeps_the_accuracy():
    digits = load_digits()
    x = ((digits.images[..., None].repeat(3, -1) / 16.0 * 255 - 127.5) / 127.5).astype("float32")
    y = digits.target
    order = np.random.default_rng(0).permutation(len(y))
    train, test = order[:1400], order[1400:]
    keras.utils.set_random_seed(0)
    model = BinaryResNet(blocks=(1, 1), widths=(16, 32), stem="cifar", classes=10, input_shape=(8, 8, 3))
    model.compile(optimizer=keras.optimizers.Adam(5e-3), jit_compile=False,
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x[train], y[train], batch_size=64, epochs=4, verbose=0)
    folded = model.export_model()
    acc = float(np.mean(np.argmax(folded(x[test], training=False), -1) == y[test]))
    assert acc > 0.8, acc  # chance 0.1; measured 0.914 (seed 0)
