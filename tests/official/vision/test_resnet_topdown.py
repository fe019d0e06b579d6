"""resnet_topdown_features: stride 2^level, ImageNet normalisation in the graph, and the top-down merge
(upsampled C5 lateral + C4 lateral) computed by hand from the same weights."""

import keras
import numpy as np

from official.vision.backbones.resnet_topdown import PIXEL_MEAN, resnet_topdown_features


def _net(level):
    keras.utils.set_random_seed(0)
    return resnet_topdown_features((64, 64, 3), (1, 1, 1, 1), (8, 16, 32, 64), 8, level, 16, {"epsilon": 1e-5})


def test_stride_names_and_normalisation():
    net = _net(3)
    assert net.output.shape == (None, 8, 8, 16) and net.name == "features"
    names = {layer.name for layer in net.layers}
    assert {"normalize", "lateral5", "lateral4", "lateral3", "up4", "up3", "merge4", "merge3", "smooth"} <= names
    mean_image = np.broadcast_to(np.array(PIXEL_MEAN, np.float32), (1, 64, 64, 3))
    normalised = keras.Model(net.input, net.get_layer("normalize").output)(mean_image)
    np.testing.assert_allclose(np.asarray(normalised), 0.0, atol=1e-5)


def test_top_down_merge_equals_hand_computation():
    net = _net(4)
    x = np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3)).astype(np.float32)
    c4 = keras.Model(net.input, net.get_layer("lateral4").input)(x)
    c5 = keras.Model(net.input, net.get_layer("lateral5").input)(x)
    top = np.repeat(np.repeat(np.asarray(net.get_layer("lateral5")(c5)), 2, axis=1), 2, axis=2)
    merged = top + np.asarray(net.get_layer("lateral4")(c4))
    want = np.asarray(net.get_layer("smooth")(merged))
    np.testing.assert_allclose(np.asarray(net(x)), want, rtol=1e-4, atol=1e-4)
