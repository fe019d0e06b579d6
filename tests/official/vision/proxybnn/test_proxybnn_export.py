"""ProxyBNN export (spec card check 7): the folded BNN converts to TFLite; with stock TFLite's dynamic-range
quantisation every binary kernel is stored as int8 {-127, +127} with a per-output-channel scale alpha_o / 127,
i.e. the +-alpha_o kernel (up to the stored scale's rounding, 5e-6 relative measured). Stock TFLite folds an
int8 {-1, +1} constant cast to float back into a float kernel, so sign-times-scale is the form that stays
int8. The float artifact matches Keras."""

from __future__ import annotations

import keras
import numpy as np

from official.core.export_tflite import _interpreter, convert_tflite, run_tflite
from official.vision.proxybnn.layers import BinaryConv2D
from official.vision.proxybnn.model import BinaryResNet


def test_folded_model_converts_with_int8_plus_minus_one_kernels():
    keras.utils.set_random_seed(0)
    # widths >= 16: TFLite leaves weight tensors under 1,024 values in float
    model = BinaryResNet(blocks=(1, 1), widths=(16, 32), stem="cifar", classes=10, input_shape=(16, 16, 3))
    folded = model.export_model()  # what tools.export serves
    x = np.random.default_rng(0).normal(size=(4, 16, 16, 3)).astype("float32")
    ref = np.asarray(folded(x, training=False))
    np.testing.assert_allclose(ref, np.asarray(model(x, training=False)), atol=1e-5)

    float_bytes = convert_tflite(folded, "none")
    np.testing.assert_allclose(run_tflite(float_bytes, x), ref, atol=1e-5)

    dynamic = convert_tflite(folded, "dynamic")
    assert len(dynamic) < 0.7 * len(float_bytes)  # tiny net: flatbuffer overhead; digits net 0.28x
    interp = _interpreter(dynamic, delegates=False)
    tensors = [t for t in interp.get_tensor_details() if t["dtype"] == np.int8 and len(t["shape"]) == 4]
    binary = [layer for layer in folded.layers if isinstance(layer, BinaryConv2D)]
    assert len(binary) == 4
    for layer in binary:
        kernel = np.asarray(layer.kernel)  # (3, 3, c_in, c_out), +-alpha_o
        alpha = np.abs(kernel).max(axis=(0, 1, 2))
        (t,) = [t for t in tensors if f"/{layer.name}" in t["name"]]
        q = interp.get_tensor(t["index"])  # TFLite layout (c_out, 3, 3, c_in)
        assert set(np.unique(q).tolist()) == {-127, 127}
        np.testing.assert_array_equal(np.sign(q), np.sign(kernel).transpose(3, 0, 1, 2))
        np.testing.assert_allclose(t["quantization_parameters"]["scales"] * 127, alpha, rtol=2e-5)  # measured 5e-6


def test_export_all_serves_the_folded_network(monkeypatch):
    """official/core/export.py's hook: every format receives `model.export_model()` (no A, no P)."""
    from official.core import export
    from official.core.config import ExportConfig

    seen = []
    for fn in ("export_saved_model", "export_tflite", "export_onnx_model"):
        monkeypatch.setattr(export, fn, lambda model, *args, **kw: seen.append(model) or ("", {}))
    model = BinaryResNet(blocks=(1,), widths=(4,), stem="cifar", classes=3, input_shape=(8, 8, 3))
    export.export_all(model, None, "unused", "m", ExportConfig(formats=("saved_model", "tflite", "onnx")), 8)
    assert len(seen) == 3
    for served in seen:
        assert served.constructor_args["mode"] == "binary"
        assert {v.name for v in served.weights}.isdisjoint({"a", "p"})
