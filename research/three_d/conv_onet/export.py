"""ConvONet's decoder as TFLite: (feature planes or grid, queries) -> logits, for on-device surface queries.

The shared exporter's TFLite path (official/core/export_tflite.py) converts one-input networks; the
decoder takes two (the encoder's features and the query points), so it is converted here, through a
batch-1 SavedModel traced inside `native.composite_ops()` (stock ops only: the bilinear / trilinear read
is GATHER + arithmetic), and verified against Keras before it is written.

    python -c "from research.three_d.conv_onet.export import main; main()" \
        --experiment=conv_onet_3plane_small_shapes3d --model_dir=runs/conv_onet_small --out=exports/conv_onet_decoder.tflite
"""

from __future__ import annotations

import os
import tempfile

import numpy as np
import tensorflow as tf

from official.core.export_archive import SingleTraceExportArchive
from official.ops import native


@native.composite_ops()
def convert_decoder(model, queries: int = 2048) -> bytes:
    """The float32 TFLite flatbuffer of `model.decoder_model(batch=1, queries=queries)`."""
    body = model.decoder_model(batch=1, queries=queries)
    specs = [tf.TensorSpec(i.shape, tf.float32, name=i.name) for i in body.inputs]
    with tempfile.TemporaryDirectory(prefix="conv-onet-tflite-") as workdir:
        archive = SingleTraceExportArchive()
        archive.track(body)
        archive.add_endpoint(name="serving_default", fn=lambda *x: {"logits": body(list(x), training=False)},
                             input_signature=specs)
        archive.write_out(workdir, verbose=False)
        return tf.lite.TFLiteConverter.from_saved_model(workdir).convert()


def run_decoder(data: bytes, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """Runs the flatbuffer on {feature name: (1, ...), "queries": (1, T, 3)} -> (1, T) logits."""
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_content=data)
    runner = interp.get_signature_runner("serving_default")
    return np.asarray(runner(**{k: np.asarray(v, np.float32) for k, v in inputs.items()})["logits"])


def verify_decoder(data: bytes, model, points: np.ndarray, queries: np.ndarray) -> float:
    """Max |TFLite - Keras| of the logits for one (N, 3) cloud and (T, 3) queries."""
    feats = {k: np.asarray(v) for k, v in model.encode(points[None]).items()}
    want = np.asarray(model.decode(feats, queries[None]))
    got = run_decoder(data, {**feats, "queries": queries[None]})
    return float(np.max(np.abs(got - want)))


def op_names(data: bytes) -> list[str]:
    from official.core.export_tflite import tflite_op_names

    return tflite_op_names(data)


def main() -> None:  # pragma: no cover - the README's command
    from absl import app, flags

    flags.DEFINE_string("experiment", None, "A conv_onet experiment.")
    flags.DEFINE_string("model_dir", None, "Training folder whose newest checkpoint is converted.")
    flags.DEFINE_string("out", "exports/conv_onet_decoder.tflite", "Output .tflite path.")
    flags.DEFINE_integer("queries", 2048, "Query points per call (static in the flatbuffer).")

    def run(argv):
        from official.core import config as config_lib
        from official.core import trainer

        cfg = config_lib.resolve(flags.FLAGS.experiment, [], "", None)
        model, task, _ = trainer.restore_for_inference(cfg, flags.FLAGS.model_dir)
        data = convert_decoder(model, flags.FLAGS.queries)
        pts, _ = task._examples(1)
        q = np.random.default_rng(0).uniform(-0.55, 0.55, (flags.FLAGS.queries, 3)).astype(np.float32)
        diff = verify_decoder(data, model, pts[0], q)
        if not diff <= 1e-4:
            raise SystemExit(f"error: TFLite decoder differs from Keras by {diff:.3g}; nothing written")
        os.makedirs(os.path.dirname(os.path.abspath(flags.FLAGS.out)), exist_ok=True)
        with open(flags.FLAGS.out, "wb") as f:
            f.write(data)
        print(f"wrote {flags.FLAGS.out} ({len(data) / 1e6:.2f} MB), max |diff| {diff:.3g}, ops {' '.join(op_names(data))}")

    app.run(run)
