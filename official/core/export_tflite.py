"""TFLite conversion and execution through the LiteRT interpreter (ai-edge-litert).

TFLite artifacts hold the bare network: input is what the Keras model takes (normalised images), so the
on-device code does the resize and normalisation that the model card documents. Quantisation modes:
none (float32), float16 (weights), dynamic (int8 weights, float activations) and int8 (full integer,
int8 input and output, calibrated on the experiment's own training images).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable

import keras
import numpy as np
import tensorflow as tf

from official.core.config import ConfigError
from official.core.export_archive import SingleTraceExportArchive

QUANTIZE_MODES = ("none", "float16", "dynamic", "int8")


def _converter_for(model: keras.Model, workdir: str) -> tf.lite.TFLiteConverter:
    """A converter over a batch-1 SavedModel of `model` (variables frozen by the SavedModel path)."""
    spec = tf.TensorSpec([1, *model.inputs[0].shape[1:]], tf.float32, name="inputs")
    archive = SingleTraceExportArchive()
    archive.track(model)
    archive.add_endpoint(name="serving_default", fn=lambda x: model(x, training=False), input_signature=[spec])
    archive.write_out(workdir, verbose=False)
    return tf.lite.TFLiteConverter.from_saved_model(workdir)


def convert_tflite(
    model: keras.Model,
    quantize: str = "none",
    representative: Callable[[], Iterable[list[np.ndarray]]] | None = None,
) -> bytes:
    """Converts `model` (batch 1) to a TFLite flatbuffer; int8 needs a representative-data callable."""
    if quantize not in QUANTIZE_MODES:
        raise ConfigError(f"export.quantize: expected one of {', '.join(QUANTIZE_MODES)}, got {quantize!r}")
    with tempfile.TemporaryDirectory(prefix="tflite-") as workdir:
        converter = _converter_for(model, workdir)
        _configure(converter, quantize, representative)
        return converter.convert()


def _configure(converter: tf.lite.TFLiteConverter, quantize: str, representative) -> None:
    if quantize == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif quantize == "dynamic":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    elif quantize == "int8":
        if representative is None:
            raise ValueError("quantize=int8 needs representative data (the experiment's training images)")
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8


def _interpreter(tflite_bytes: bytes, num_threads: int = 1, delegates: bool = True):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    resolver = OpResolverType.AUTO if delegates else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    interp = Interpreter(model_content=tflite_bytes, num_threads=num_threads, experimental_op_resolver_type=resolver)
    interp.allocate_tensors()
    return interp


def run_tflite(tflite_bytes: bytes, inputs: np.ndarray, num_threads: int = 1) -> np.ndarray:
    """Runs every example of `inputs` (batch, ...) through the flatbuffer; float outputs (dequantised)."""
    interp = _interpreter(tflite_bytes, num_threads)
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    results = []
    for example in np.asarray(inputs, np.float32):
        x = example[None]
        if inp["dtype"] in (np.int8, np.uint8):
            scale, zero = inp["quantization"]
            info = np.iinfo(inp["dtype"])
            x = np.clip(np.round(x / scale + zero), info.min, info.max).astype(inp["dtype"])
        interp.set_tensor(inp["index"], x)
        interp.invoke()
        y = interp.get_tensor(out["index"])
        if out["dtype"] in (np.int8, np.uint8):
            scale, zero = out["quantization"]
            y = (y.astype(np.float32) - zero) * scale
        results.append(y[0])
    return np.stack(results).astype(np.float32)


def tflite_op_names(tflite_bytes: bytes) -> list[str]:
    """Sorted unique builtin op names of the converted graph (e.g. CONV_2D, DEPTHWISE_CONV_2D)."""
    interp = _interpreter(tflite_bytes, delegates=False)
    return sorted({op["op_name"] for op in interp._get_ops_details()})


def verify_tflite(
    tflite_bytes: bytes, model: keras.Model, inputs: np.ndarray, quantize: str, atol: float, min_agreement: float,
    agreement_fn: Callable[[np.ndarray, np.ndarray], float | None] | None = None,
) -> dict[str, float]:
    """Re-runs `inputs` through the artifact; raises if it disagrees with Keras beyond tolerance.

    Float artifacts are compared by max |difference| (float16: tolerance scaled by 10 and by the
    output magnitude); quantised ones by `agreement_fn(keras, tflite)` (the task's: top-1 agreement
    for classifiers, keypoint peaks within a cell for heatmaps), which must reach `min_agreement`.
    """
    ref = np.asarray(model(inputs, training=False), np.float32)
    got = run_tflite(tflite_bytes, inputs)
    max_diff = float(np.max(np.abs(ref - got)))
    report = {"max_abs_diff": max_diff}
    if agreement_fn is None:
        agreement = float(np.mean(np.argmax(ref, -1) == np.argmax(got, -1))) if ref.ndim == 2 else None
    else:
        agreement = agreement_fn(ref, got)
    if agreement is not None:
        report["top1_agreement" if ref.ndim == 2 else "agreement"] = agreement
    if quantize in ("int8", "dynamic"):
        if agreement is None:
            raise ValueError(f"TFLite {quantize}: no agreement measure for outputs of shape {ref.shape}; "
                             "export with quantize=none or float16")
        if not agreement >= min_agreement:
            what = "top-1 agreement" if ref.ndim == 2 else "agreement with Keras"
            raise ValueError(f"TFLite {quantize}: {what} {agreement:.3f} < required {min_agreement:.3f}")
    else:
        tol = atol if quantize == "none" else 10 * atol * max(1.0, float(np.max(np.abs(ref))))
        if not max_diff <= tol:
            raise ValueError(f"TFLite {quantize}: max |difference| {max_diff:.3g} > tolerance {tol:.3g}")
    return report
