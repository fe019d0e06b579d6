"""The GraphMemVOS network (research/video/graphmem_vos/model.py, decoder.py): trainable parameter counts equal
the torch module's, summed here by hand from the layer shapes of models/graph_memory.py (spec check 2); the
decoder's resolution path (spec check 1, scaled down); the per-frame step's probabilities."""

from __future__ import annotations

import keras
import numpy as np

from official.core import model_table, registry
from research.video.graphmem_vos import decoder as decoder_lib


def _conv(cin: int, cout: int, k: int, bias: bool = True) -> int:
    return cin * cout * k * k + (cout if bias else 0)


def _trainable(model) -> int:
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def _torch_counts() -> dict[str, int]:
    """Parameters of graph_memory() by module (torch: BN weight + bias are parameters, running stats buffers)."""
    bn = 2 * 256
    aspp = (2 * _conv(1024, 256, 1) + 3 * _conv(1024, 256, 3) + 4 * bn + bn  # pool, 1x1, three dilated, BNs
            + _conv(5 * 256, 256, 3))  # bottleneck
    res = 2 * _conv(256, 256, 3)
    refine = lambda cin: _conv(cin, 256, 3) + 2 * res  # noqa: E731 - convFS + ResFS + ResMM
    decoder = aspp + res + refine(512) + refine(256) + _conv(256, 2, 3)
    kv = _conv(1024, 128, 3) + _conv(1024, 512, 3)
    gru = 3 * _conv(512 + 512, 512, 1)  # reset, update, out gates of ConvGRUCell(512, 512, kernel 1)
    memory = _conv(512, 512, 1) + 2 * gru + 128 * 128
    trunk = 8_543_296  # torchvision resnet50 stem + layer1-3 (spec card)
    return {"decoder": decoder, "kv_m": kv, "kv_q": kv, "memory": memory, "encoder_q": trunk,
            "encoder_m": trunk + 2 * _conv(1, 64, 7, bias=False)}


def test_resnet50_parameter_count_equals_the_torch_module():
    want = _torch_counts()
    assert want["decoder"] == 18_230_786 and want["memory"] == 3_427_840
    with model_table.shape_only():
        model = registry.create_model("graphmem_vos_resnet50")
        got = {name: _trainable(getattr(model, name)) for name in want}
        total = _trainable(model)
    assert got == want
    assert total == sum(want.values()) == 50_549_250


def test_decoder_strides_and_tiny_step_probabilities():
    dec = decoder_lib.decoder(32, 16, 8, dim=8)
    rng = np.random.default_rng(0)
    out = dec([rng.normal(size=(1, 3, 5, 32)).astype("float32"), rng.normal(size=(1, 6, 10, 16)).astype("float32"),
               rng.normal(size=(1, 12, 20, 8)).astype("float32")])
    assert tuple(out.shape) == (1, 48, 80, 2)
    keras.utils.set_random_seed(0)
    model = registry.create_model("graphmem_vos_tiny")
    assert _trainable(model) == 1_066_626
    frame = rng.uniform(0, 1, (2, 32, 48, 3)).astype("float32")
    probs = np.zeros((2, 32, 48, 3), "float32")
    probs[..., 0] = 1
    probs[:, 4:12, 4:20] = [0, 1, 0]
    probs[:, 16:28, 20:40] = [0, 0, 1]
    keys, values = (np.asarray(x) for x in model.memorize(frame, probs))
    assert keys.shape == (2, 2, 2, 3, 32) and values.shape == (2, 2, 2, 3, 64)
    assert np.abs(keys[:, 0] - keys[:, 1]).max() > 1e-4  # each object's memory sees its own mask
    mk, mv = np.repeat(keys[:, :, None], 2, 2), np.repeat(values[:, :, None], 2, 2)
    object_mask = np.array([[1, 1], [1, 0]], "float32")
    logits = np.asarray(model.step(frame, mk, mv, np.ones((2, 2), bool), object_mask))
    assert logits.shape == (2, 32, 48, 3)
    p = np.asarray(keras.ops.softmax(logits, -1))
    np.testing.assert_allclose(p.sum(-1), 1, atol=1e-5)
    assert p[1, ..., 2].max() < 1e-5  # an empty object slot gets no pixels


def test_upsample_equals_half_pixel_resize_with_unknown_sizes():
    """official/ops/resize.upsample_bilinear (the decoder's x2 / x4) equals keras' bilinear UpSampling2D
    (tf.image.resize half-pixel = F.interpolate align_corners=False), also traced with unknown sizes."""
    import tensorflow as tf

    from official.ops.resize import upsample_bilinear

    x = np.random.default_rng(0).normal(size=(2, 3, 5, 4)).astype("float32")
    traced = tf.function(lambda t: upsample_bilinear(t, 4), input_signature=[tf.TensorSpec([None, None, None, 4])])
    for factor in (2, 4):
        want = np.asarray(keras.layers.UpSampling2D(factor, interpolation="bilinear")(x))
        np.testing.assert_allclose(np.asarray(upsample_bilinear(x, factor)), want, atol=1e-5)
    np.testing.assert_allclose(traced(x).numpy(), np.asarray(keras.layers.UpSampling2D(4, interpolation="bilinear")(x)),
                               atol=1e-5)
