"""The one exporter: SavedModel for TF Serving (+ warmup), TFLite and ONNX, each verified before it lands.

Layout under EXPORT_DIR:
    <name>/<version>/                 SavedModel (TF Serving's model base path is EXPORT_DIR/<name>)
    <name>/<version>/assets.extra/tf_serving_warmup_requests
    tflite/<name>_<quantize>.tflite   the bare network
    onnx/<name>.onnx                  the bare network
Every artifact is written under a temporary name, re-run on real inputs and compared with the Keras
model; only a verified artifact is renamed into place, so a failed export leaves nothing half-written.
Every graph is traced inside `native.composite_ops()`: artifacts hold only stock TensorFlow ops (no
C++ kernel of official/ops/kernels), so stock TF Serving, LiteRT and ONNX runtimes serve them.
A SavedModel is a program: load only SavedModels you trust.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from official.core import export_onnx
from official.core.config import ConfigError, ExportConfig
from official.core.export_archive import SingleTraceExportArchive
from official.core.export_tflite import (  # noqa: F401  (re-exported: the exporter's public API)
    QUANTIZE_MODES,
    convert_tflite,
    run_tflite,
    tflite_op_names,
    verify_tflite,
)
from official.core.file_io import write_bytes
from official.core.task import Task
from official.ops import native

FORMATS = ("saved_model", "tflite", "onnx")


class ExportError(RuntimeError):
    """An artifact failed verification; nothing was left in place."""


def next_version(base: str) -> int:
    """One above the highest numeric version folder under `base` (1 when there is none)."""
    if not os.path.isdir(base):
        return 1
    versions = [int(d) for d in os.listdir(base) if d.isdigit()]
    return max(versions, default=0) + 1


def write_warmup_requests(saved_model_dir: str, model_name: str, requests: list[tuple[str, dict]]) -> str:
    """Writes TF Serving warmup records (PredictionLog protos) into assets.extra/."""
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    path = os.path.join(saved_model_dir, "assets.extra", "tf_serving_warmup_requests")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path) as writer:
        for signature, inputs in requests:
            request = predict_pb2.PredictRequest(
                model_spec=model_pb2.ModelSpec(name=model_name, signature_name=signature)
            )
            for key, value in inputs.items():
                request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
            log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))
            writer.write(log.SerializeToString())
    return path


def read_warmup_requests(path: str) -> list[Any]:
    """Parses a warmup file back into PredictionLog protos (tests and `tools.export` use it)."""
    from tensorflow_serving.apis import prediction_log_pb2

    logs = []
    for record in tf.data.TFRecordDataset(path):
        log = prediction_log_pb2.PredictionLog()
        log.ParseFromString(record.numpy())
        logs.append(log)
    return logs


def _verify_saved_model(path: str, checks: list[tuple[str, dict, dict]], atol: float) -> dict[str, float]:
    loaded = tf.saved_model.load(path)
    report = {}
    for signature, inputs, expected in checks:
        if signature not in loaded.signatures:
            raise ExportError(f"SavedModel: signature {signature!r} missing (has {list(loaded.signatures)})")
        outputs = loaded.signatures[signature](**{k: tf.constant(v) for k, v in inputs.items()})
        for key, want in expected.items():
            got = outputs[key].numpy()
            if got.dtype == bool:  # masks: any flipped entry counts as a difference of 1
                got, want = got.astype(np.float32), np.asarray(want).astype(np.float32)
            diff = float(np.max(np.abs(got - want))) if got.size else 0.0
            report[f"{signature}/{key}"] = diff
            if not diff <= atol:
                raise ExportError(f"SavedModel {signature}/{key}: max |difference| {diff:.3g} > {atol:.3g}")
    return report


@native.composite_ops()
def export_saved_model(
    model: keras.Model, task: Task, export_dir: str, name: str, cfg: ExportConfig, image_size: int
) -> tuple[str, dict[str, float]]:
    """Writes, verifies and publishes EXPORT_DIR/<name>/<version>/; returns (path, max diffs)."""
    base = os.path.join(export_dir, name)
    version = cfg.version or next_version(base)
    final = os.path.join(base, str(version))
    if os.path.exists(final):
        raise ExportError(f"{final} already exists: pass another --version")
    tmp = os.path.join(base, f".tmp-{version}-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        archive = SingleTraceExportArchive()
        archive.track(model)
        for signature, (fn, input_signature) in task.serving_signatures(model, image_size).items():
            archive.add_endpoint(name=signature, fn=fn, input_signature=input_signature)
        archive.write_out(tmp, verbose=False)
        if cfg.warmup_requests > 0:
            write_warmup_requests(tmp, name, task.warmup_inputs(image_size, cfg.warmup_requests))
        checks = task.serving_verification(model, cfg.verify_examples, image_size)
        report = _verify_saved_model(tmp, checks, cfg.atol)
        os.replace(tmp, final)
    except Exception:
        shutil.rmtree(tmp, ignore_errors=True)
        if os.path.isdir(base) and not os.listdir(base):
            os.rmdir(base)  # a first version that failed leaves no empty model folder either
        raise
    return final, report


def _publish_bytes(data: bytes, path: str) -> None:
    write_bytes(path, data)


@native.composite_ops()
def export_tflite(
    model: keras.Model, task: Task, export_dir: str, name: str, cfg: ExportConfig, image_size: int, quantize: str
) -> tuple[str, dict[str, Any]]:
    """Converts the task's export body, verifies it (float: max diff; int8/dynamic: the task's agreement
    measure) and writes the .tflite."""
    representative = None
    if quantize == "int8":

        def representative():
            return task.representative_dataset(cfg.representative_examples, image_size)

    body = task.export_body(model)
    data = convert_tflite(body, quantize, representative)
    inputs = task.verification_inputs(cfg.verify_examples, image_size)
    try:
        report = verify_tflite(data, body, inputs, quantize, cfg.atol, cfg.min_top1_agreement, task.quantized_agreement)
    except ValueError as err:
        raise ExportError(str(err)) from err
    report["ops"] = tflite_op_names(data)
    path = os.path.join(export_dir, "tflite", f"{name}_{quantize}.tflite")
    _publish_bytes(data, path)
    return path, report


@native.composite_ops()
def export_onnx_model(
    model: keras.Model, task: Task, export_dir: str, name: str, cfg: ExportConfig, image_size: int
) -> tuple[str, dict[str, float]]:
    body = task.export_body(model)
    data = export_onnx.convert_onnx(body)
    inputs = task.verification_inputs(cfg.verify_examples, image_size)
    try:
        report = export_onnx.verify_onnx(data, body, inputs, cfg.atol)
    except ValueError as err:
        raise ExportError(str(err)) from err
    path = os.path.join(export_dir, "onnx", f"{name}.onnx")
    _publish_bytes(data, path)
    return path, report


def export_all(
    model: keras.Model, task: Task, export_dir: str, name: str, cfg: ExportConfig, image_size: int
) -> dict[str, tuple[str, dict]]:
    """Exports every format in `cfg.formats`; returns {format: (path, verification report)}."""
    unknown = [f for f in cfg.formats if f not in FORMATS]
    if unknown:
        raise ConfigError(f"export.formats: unknown {unknown}; expected any of {', '.join(FORMATS)}")
    # A model whose served form differs from its trained one (ProxyBNN: A and P folded into W_b) gives it.
    model = model.export_model() if hasattr(model, "export_model") else model
    done: dict[str, tuple[str, dict]] = {}
    for fmt in cfg.formats:
        if fmt == "saved_model":
            done[fmt] = export_saved_model(model, task, export_dir, name, cfg, image_size)
        elif fmt == "tflite":
            done[fmt] = export_tflite(model, task, export_dir, name, cfg, image_size, cfg.quantize)
        else:
            done[fmt] = export_onnx_model(model, task, export_dir, name, cfg, image_size)
    return done
