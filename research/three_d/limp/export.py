"""LIMP export: one SavedModel with `encode` and `decode` signatures (the training-only losses stay out).

- encode(points float32 (batch, N, 3)) -> {"mu": (batch, latent), "logvar": (batch, latent)}; the latent's
  first `pose_size` dims are pose, the rest style (interpolate or swap blocks, then decode).
- decode(latent float32 (batch, latent)) -> {"vertices": (batch, N, 3)} in the template's vertex order.
`serving_default` is `decode`. Both are checked against Keras before `export_limp` returns; the decoder
(dense layers only) also converts to TFLite (`decoder_tflite`).

    python -m research.three_d.limp.export --keras_file=/tmp/limp_run/limp.keras --out=/tmp/limp_savedmodel
"""

from __future__ import annotations

import argparse

import keras
import numpy as np
import tensorflow as tf


def signatures(model) -> dict:
    """{name: (fn, [input TensorSpec])}: encode, decode and serving_default (= decode); tools.export uses it too."""
    n = int(model.decoder.outputs[0].shape[1])
    latent = int(model.decoder.inputs[0].shape[-1])
    points_spec = tf.TensorSpec((None, n, 3), tf.float32, name="points")
    latent_spec = tf.TensorSpec((None, latent), tf.float32, name="latent")

    def encode(points):
        mu, logvar = model.encoder(points, training=False)
        return {"mu": mu, "logvar": logvar}

    def decode(latent):
        return {"vertices": model.decoder(latent, training=False)}

    return {"encode": (encode, [points_spec]), "decode": (decode, [latent_spec]),
            "serving_default": (decode, [latent_spec])}


def export_limp(model, out_dir: str, verify: bool = True, seed: int = 0) -> float:
    """Writes the SavedModel; returns the max |SavedModel - Keras| over both signatures on random inputs."""
    archive = keras.export.ExportArchive()
    archive.track(model)
    for name, (fn, spec) in signatures(model).items():
        archive.add_endpoint(name=name, fn=fn, input_signature=spec)
    archive.write_out(out_dir, verbose=False)
    if not verify:
        return 0.0
    return verify_saved_model(model, out_dir, seed)


def verify_saved_model(model, out_dir: str, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    n = int(model.decoder.outputs[0].shape[1])
    points = rng.normal(scale=0.5, size=(2, n, 3)).astype(np.float32)
    loaded = tf.saved_model.load(out_dir)
    enc = loaded.signatures["encode"](points=tf.constant(points))
    mu, logvar = (np.asarray(t) for t in model.encoder(points, training=False))
    dec = loaded.signatures["decode"](latent=tf.constant(mu))
    want = np.asarray(model.decoder(mu, training=False))
    diffs = [np.abs(enc["mu"].numpy() - mu).max(), np.abs(enc["logvar"].numpy() - logvar).max(),
             np.abs(dec["vertices"].numpy() - want).max()]
    return float(max(diffs))


def decoder_tflite(out_dir: str) -> bytes:
    """The float32 TFLite flatbuffer of the exported `decode` signature."""
    return tf.lite.TFLiteConverter.from_saved_model(out_dir, signature_keys=["decode"]).convert()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keras_file", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    import research.three_d.limp  # noqa: F401  (registers the classes for loading)

    model = keras.saving.load_model(args.keras_file)
    print(f"SavedModel {args.out}: max |SavedModel - Keras| = {export_limp(model, args.out):.2e}")


if __name__ == "__main__":
    main()
