"""LIMP serving signatures for tools.export: `encode` and `decode` (the training-only losses stay out).

- encode(points float32 (batch, N, 3)) -> {"mu": (batch, latent), "logvar": (batch, latent)}; the latent's
  first `pose_size` dims are pose, the rest style (interpolate or swap blocks, then decode).
- decode(latent float32 (batch, latent)) -> {"vertices": (batch, N, 3)} in the template's vertex order.
`serving_default` is `decode`. tools.export (official/core/export.py, through the `limp` task) checks every
signature against Keras and converts the decoder (dense layers only) to TFLite:

    python -m tools.export --experiment=limp_tiny_capsules --model_dir=runs/limp_tiny_capsules --export_dir=exports
"""

from __future__ import annotations

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
