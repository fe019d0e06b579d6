"""ONNX export through tf2onnx, checked with onnxruntime (the bare network, like TFLite)."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf


def convert_onnx(model: keras.Model, opset: int = 17) -> bytes:
    """The network (dynamic batch) as a serialised ONNX ModelProto."""
    import tf2onnx

    spec = tf.TensorSpec([None, *model.inputs[0].shape[1:]], tf.float32, name="inputs")

    @tf.function(input_signature=[spec])
    def serve(inputs):
        return tf.identity(model(inputs, training=False), name="outputs")

    proto, _ = tf2onnx.convert.from_function(serve, input_signature=[spec], opset=opset)
    return proto.SerializeToString()


def run_onnx(onnx_bytes: bytes, inputs: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.asarray(session.run(None, {name: np.asarray(inputs, np.float32)})[0])


def verify_onnx(onnx_bytes: bytes, model: keras.Model, inputs: np.ndarray, atol: float) -> dict[str, float]:
    ref = np.asarray(model(inputs, training=False), np.float32)
    diff = float(np.max(np.abs(ref - run_onnx(onnx_bytes, inputs))))
    if not diff <= atol:
        raise ValueError(f"ONNX: max |difference| {diff:.3g} > tolerance {atol:.3g}")
    return {"max_abs_diff": diff}
