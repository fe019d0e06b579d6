"""SavedModel of SIZER's inference path: (garment in size A, sizes, body beta / pose / trans) -> garment
in size B (SizerPipeline: SizerNet + SMPL+G skinning; the body-model arrays are baked in as constants).

TF Serving layout EXPORT_DIR/<name>/<version>/ with one signature `serving_default` whose inputs are
named garment (B, V_g, 3), size_in (B, 4), size_out (B, 4) one-hots, betas (B, 10), pose (B, 72) axis-angle,
trans (B, 3) and whose outputs are garment (B, V_g, 3) posed vertices in size_out and offsets (B, V_g, 3);
TF Serving warmup records in assets.extra/. Written to a temp folder, verified against Keras, then
renamed. `python -m tools.export` on a `sizernet_*` experiment writes the same signature through the
`sizer` Task (research/three_d/sizer/task.py uses specs_for / inputs_for); this module exports a
SizerPipeline from a bare .weights.h5 without an experiment.

    python -m research.three_d.sizer.export --weights=RUN/sizer.weights.h5 --body_model=smpl_g5.npz \
        --num_vertices=7702 --out=exports
"""

from __future__ import annotations

import argparse
import os
import shutil

import keras
import numpy as np
import tensorflow as tf

from official.core.export import ExportError, next_version, write_warmup_requests
from research.three_d.sizer.pipeline import INPUT_KEYS, SizerPipeline

SIGNATURE = "serving_default"


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


def export_pipeline(model: SizerPipeline, export_dir: str, name: str = "sizer", version: int | None = None,
                    atol: float = 1e-5, warmup_requests: int = 1) -> tuple[str, float]:
    """Writes, verifies (max |SavedModel - Keras| <= atol) and publishes the SavedModel; (path, max diff)."""
    base = os.path.join(export_dir, name)
    version = version or next_version(base)
    final, tmp = os.path.join(base, str(version)), os.path.join(base, f".tmp-{version}-{os.getpid()}")
    if os.path.exists(final):
        raise ExportError(f"{final} already exists: pass another version")
    shutil.rmtree(tmp, ignore_errors=True)
    specs = input_specs(model)
    try:
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint(name=SIGNATURE, fn=lambda x: model(x, training=False), input_signature=[specs])
        archive.write_out(tmp, verbose=False)
        if warmup_requests > 0:
            write_warmup_requests(tmp, name, [(SIGNATURE, example_inputs(model, 1, i)) for i in range(warmup_requests)])
        x = example_inputs(model, 2, 123)
        want = model(x, training=False)
        served = tf.saved_model.load(tmp).signatures[SIGNATURE](**{k: tf.constant(v) for k, v in x.items()})
        diff = max(float(np.max(np.abs(served[k].numpy() - np.asarray(want[k])))) for k in ("garment", "offsets"))
        if not diff <= atol:
            raise ExportError(f"SavedModel {SIGNATURE}: max |difference| {diff:.3g} > {atol:.3g}")
        os.replace(tmp, final)
    except Exception:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final, diff


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weights", required=True, help="SizerPipeline .weights.h5 (SizerNet + body model)")
    parser.add_argument("--body_model", required=True, help="converted SMPL + garment vert_indices .npz")
    parser.add_argument("--num_vertices", type=int, required=True)
    parser.add_argument("--num_body_vertices", type=int, default=6890)
    parser.add_argument("--out", default="exports")
    args = parser.parse_args(argv)
    model = SizerPipeline(args.num_vertices, args.num_body_vertices)
    model(example_inputs(model, 1))
    model.load_weights(args.weights)
    model.load_body_model(args.body_model)
    path, diff = export_pipeline(model, args.out)
    print(f"SavedModel {path} (max |SavedModel - Keras| {diff:.3g})")


if __name__ == "__main__":
    main()
