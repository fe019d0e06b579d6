"""Serving inputs of SIZER's inference path: (garment in size A, sizes, body beta / pose / trans) -> garment
in size B (SizerPipeline: SizerNet + SMPL+G skinning; the body-model arrays are baked in as constants).

`python -m tools.export --experiment=sizernet_...` writes the SavedModel through the `sizer` Task
(research/three_d/sizer/task.py) and official/core/export.py: TF Serving layout EXPORT_DIR/<name>/<version>/,
one signature `serving_default` with inputs named garment (B, V_g, 3), size_in (B, 4), size_out (B, 4)
one-hots, betas (B, 10), pose (B, 72) axis-angle, trans (B, 3), outputs garment (B, V_g, 3) posed
vertices in size_out and offsets (B, V_g, 3); warmup records in assets.extra/; verified against Keras
before it is renamed into place. This module holds the input specs and example inputs it uses.

TFLite (spec card check 7; the same exporter, `export.formats` holds "tflite"): official/core/export_tflite.py
converts one-input, one-output networks, so the phone artifact takes the six inputs packed into one float32
row, `inputs` (1, 3 V_g + 4 + 4 + num_betas + 72 + 3) = [garment flattened row-major, size_in, size_out,
betas, pose, trans] (`pack_inputs`), and returns the posed garment (1, V_g, 3) in size_out (`packed_body`).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from research.three_d.sizer.pipeline import INPUT_KEYS, SizerPipeline


def specs_for(num_vertices: int, num_betas: int = 10) -> dict[str, tf.TensorSpec]:
    """The named serving inputs (batch free) of a garment with num_vertices vertices."""
    dims = {"garment": (num_vertices, 3), "size_in": (4,), "size_out": (4,), "betas": (num_betas,), "pose": (72,),
            "trans": (3,)}
    return {k: tf.TensorSpec((None, *dims[k]), tf.float32, name=k) for k in INPUT_KEYS}


def input_specs(model: SizerPipeline) -> dict[str, tf.TensorSpec]:
    return specs_for(model.smplg.num_garment_vertices, model.smplg.num_betas)


def inputs_for(num_vertices: int, num_betas: int = 10, batch: int = 2, seed: int = 0) -> dict[str, np.ndarray]:
    """Random but plausible inputs (one-hot sizes, small poses) for warmup and verification."""
    rng = np.random.default_rng(seed)
    specs = specs_for(num_vertices, num_betas)
    x = {k: (0.1 * rng.normal(size=(batch, *s.shape[1:]))).astype(np.float32) for k, s in specs.items()}
    eye = np.eye(4, dtype=np.float32)
    x["size_in"], x["size_out"] = eye[rng.integers(0, 4, batch)], eye[rng.integers(0, 4, batch)]
    return x


def example_inputs(model: SizerPipeline, batch: int = 2, seed: int = 0) -> dict[str, np.ndarray]:
    return inputs_for(model.smplg.num_garment_vertices, model.smplg.num_betas, batch, seed)


def packed_sizes(num_vertices: int, num_betas: int = 10) -> list[tuple[str, int]]:
    """(input name, flattened length) in the packed row's order (INPUT_KEYS)."""
    return [(k, int(np.prod(s.shape[1:]))) for k, s in specs_for(num_vertices, num_betas).items()]


def pack_inputs(x: dict[str, np.ndarray], num_vertices: int, num_betas: int = 10) -> np.ndarray:
    """The six named inputs (B, ...) -> the TFLite artifact's one float32 row per example (B, D)."""
    batch = len(x["garment"])
    return np.concatenate([np.asarray(x[k], np.float32).reshape(batch, n)
                           for k, n in packed_sizes(num_vertices, num_betas)], axis=-1)


def packed_body(model: SizerPipeline) -> keras.Model:
    """inputs (B, D) packed as `pack_inputs` -> posed garment (B, V_g, 3): the TFLite export body."""
    v, nb = model.smplg.num_garment_vertices, model.smplg.num_betas
    sizes = packed_sizes(v, nb)
    row = keras.Input((sum(n for _, n in sizes),), name="inputs")
    x, start = {}, 0
    for key, n in sizes:
        part = row[:, start : start + n]
        x[key] = keras.ops.reshape(part, (-1, v, 3)) if key == "garment" else part
        start += n
    return keras.Model(row, model(x, training=False)["garment"], name="sizer_packed")
