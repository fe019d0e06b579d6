"""Sketch2Photo's two-stage inference graph as one SavedModel (stage 1 alone exports through tools.export:
the `sketch2photo` task's `serving_default` / `translate_uint8` on (B, H, W, 1) sketches, and TFLite float16).

Signatures (images float32 in [-1, 1], H = W = the networks' size):
- `serving_default`: sketch (B, H, W, 1) -> {gray (B, H, W, 1), image (B, H, W, 3)}:
  G_A, the gray map replicated to 3 channels, the colouriser (plain decode, as at the official inference);
- `sketch_to_photo_reference`: sketch, reference (B, H, W, 3) -> {image}: relu3_4 of the gray image given the
  reference's channel statistics (AdaIN) before decoding;
- `colorize`: gray (B, H, W, 3) -> {image}: stage 2 alone.
Every signature is re-run against Keras before `export_pipeline` returns (max |difference| reported).

    python -m research.generative.sketch2photo.export --g_a=g_a.keras --colorizer=colorizer.keras --out=DIR
    python -m research.generative.sketch2photo.export --g_a=g_a.keras --tflite_size=256 --out=g_a_256.tflite
"""

from __future__ import annotations

import argparse

import keras
import numpy as np
import tensorflow as tf

from official.core.export_archive import SingleTraceExportArchive
from official.layers.adaptive_norm import adain


def colorize_with_reference(colorizer, gray, reference):
    t = colorizer.encoder(gray, training=False)[-1]
    return colorizer.decoder(adain(t, colorizer.encoder(reference, training=False)[-1]), training=False)


def _functions(g_a, colorizer):
    def sketch_to_photo(sketch):
        gray = g_a(sketch, training=False)
        return {"gray": gray, "image": colorizer(tf.repeat(gray, 3, axis=-1), training=False)}

    def sketch_to_photo_reference(sketch, reference):
        gray = tf.repeat(g_a(sketch, training=False), 3, axis=-1)
        return {"image": colorize_with_reference(colorizer, gray, reference)}

    def colorize(gray):
        return {"image": colorizer(gray, training=False)}

    return sketch_to_photo, sketch_to_photo_reference, colorize


def export_pipeline(g_a, colorizer, out_dir: str, seed: int = 0) -> float:
    """Writes the SavedModel; returns the max |SavedModel - Keras| over the three signatures on random inputs."""
    h, w = (int(s) for s in g_a.input_shape[1:3])
    if tuple(colorizer.input_shape[1:3]) != (h, w):
        raise ValueError(f"G_A is {h}x{w} but the colouriser is {colorizer.input_shape[1:3]}")
    sketch_fn, reference_fn, colorize_fn = _functions(g_a, colorizer)
    archive = SingleTraceExportArchive()
    archive.track(g_a)
    archive.track(colorizer)
    sketch = tf.TensorSpec((None, h, w, 1), tf.float32, name="sketch")
    rgb = tf.TensorSpec((None, h, w, 3), tf.float32, name="reference")
    archive.add_endpoint("serving_default", sketch_fn, [sketch])
    archive.add_endpoint("sketch_to_photo_reference", reference_fn, [sketch, rgb])
    archive.add_endpoint("colorize", colorize_fn, [tf.TensorSpec((None, h, w, 3), tf.float32, name="gray")])
    archive.write_out(out_dir, verbose=False)
    rng = np.random.default_rng(seed)
    x = np.tanh(rng.normal(size=(2, h, w, 1))).astype(np.float32)
    r = np.tanh(rng.normal(size=(2, h, w, 3))).astype(np.float32)
    gray3 = np.repeat(x, 3, -1)
    loaded = tf.saved_model.load(out_dir)
    got = [loaded.signatures["serving_default"](sketch=tf.constant(x)),
           loaded.signatures["sketch_to_photo_reference"](sketch=tf.constant(x), reference=tf.constant(r)),
           loaded.signatures["colorize"](gray=tf.constant(gray3))]
    want = [sketch_fn(x), reference_fn(x, r), colorize_fn(gray3)]
    return float(max(np.abs(np.asarray(g[k]) - np.asarray(v)).max() for g, wd in zip(got, want, strict=True)
                     for k, v in wd.items()))


def tflite_g_a(g_a, size: int, quantize: str = "float16", seed: int = 0) -> tuple[bytes, float]:
    """G_A rebuilt at size x size (fully convolutional: same weights) as TFLite; (bytes, max |TFLite - Keras|)."""
    from official.core.export_tflite import convert_tflite, run_tflite

    config = {**g_a.get_config(), "image_size": (size, size)}
    resized = type(g_a).from_config(config)
    resized.set_weights(g_a.get_weights())
    data = convert_tflite(resized, quantize, None)
    x = np.tanh(np.random.default_rng(seed).normal(size=(1, size, size, int(g_a.input_shape[-1])))).astype(np.float32)
    return data, float(np.abs(run_tflite(data, x) - np.asarray(resized(x, training=False))).max())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--g_a", required=True, help="stage-1 G_A as a .keras file (e.g. tools.convert_checkpoint's model.keras)")
    parser.add_argument("--colorizer", default="", help="stage-2 colouriser as a .keras file (two-stage SavedModel)")
    parser.add_argument("--out", required=True, help="output SavedModel folder, or .tflite file with --tflite_size")
    parser.add_argument("--tflite_size", type=int, default=0, help="> 0: write G_A alone as TFLite float16 at this size")
    args = parser.parse_args(argv)
    import research.generative.sketch2photo  # noqa: F401  (registers the classes for loading)

    g_a = keras.saving.load_model(args.g_a)
    if args.tflite_size > 0:
        data, diff = tflite_g_a(g_a, args.tflite_size)
        with open(args.out, "wb") as f:
            f.write(data)
        print(f"wrote {args.out} ({len(data) / 2**20:.1f} MiB): max |TFLite float16 - Keras| = {diff:.3g}")
        return
    if not args.colorizer:
        parser.error("--colorizer is required for the two-stage SavedModel (or give --tflite_size)")
    diff = export_pipeline(g_a, keras.saving.load_model(args.colorizer), args.out)
    print(f"wrote {args.out}: max |SavedModel - Keras| = {diff:.3g}")


if __name__ == "__main__":
    main()
