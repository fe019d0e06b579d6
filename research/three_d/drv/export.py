"""SavedModel of a fitted DRV scene: serving_default(camera, light) -> image (spec card check 8).

Per-scene asset (card "Hard parts"): the fitted volume is baked in as variables; the signature renders any
COLMAP camera under any point light (shadow rays marched to the light):
- camera float32 (B, 16) = [R world-to-camera row-major (9), t (3), fx, fy, cx, cy]
- light  float32 (B, 3)  = point-light position in world units
- image  float32 (B, S, S, 3) linear radiance, S = the model's image_size; fixed sample counts (static shapes).
TF Serving layout: DIR/<version>/ with assets.extra/tf_serving_warmup_requests (official/core/export.py).
"""

from __future__ import annotations

import os
import shutil

import numpy as np


def warmup_inputs(model, batch: int = 1) -> dict[str, np.ndarray]:
    """A camera 3 units from the origin looking at it, light at the camera (a valid request)."""
    from research.three_d.drv.synthetic import intrinsics, look_at

    rot, t = look_at((0.0, -3.0, 0.5))
    camera = np.concatenate([rot.reshape(9), t, intrinsics(model.image_size)]).astype(np.float32)
    light = (-rot.T @ t).astype(np.float32)
    return {"camera": np.tile(camera, (batch, 1)), "light": np.tile(light, (batch, 1))}


def export_renderer(model, export_dir: str, version: int = 1, atol: float = 1e-6, warmup: bool = True) -> dict:
    """Writes EXPORT_DIR/<version>/, reloads it and checks it against Keras; returns {"max_abs_diff": ...}."""
    import keras
    import tensorflow as tf

    final = os.path.join(export_dir, str(version))
    tmp = final + f".tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    archive = keras.export.ExportArchive()
    archive.track(model)

    def render(camera, light):
        return {"image": model.render_image(camera, light, collocated=False)}

    archive.add_endpoint(name="serving_default", fn=render, input_signature=[
        tf.TensorSpec((None, 16), tf.float32, name="camera"), tf.TensorSpec((None, 3), tf.float32, name="light")])
    archive.write_out(tmp, verbose=False)
    inputs = warmup_inputs(model)
    if warmup:
        from official.core.export import write_warmup_requests

        write_warmup_requests(tmp, "drv", [("serving_default", inputs)])
    # The reference is the same Keras render traced as a graph; eager float32 runs its ops in another order
    # (1e-6 to 1e-5 apart on 0-1 images), so it is held to 1e-5 instead.
    args = [tf.constant(v) for v in (inputs["camera"], inputs["light"])]
    want = tf.function(lambda cam, light: render(cam, light)["image"])(*args).numpy()
    eager = np.asarray(render(*args)["image"])
    got = tf.saved_model.load(tmp).signatures["serving_default"](camera=args[0], light=args[1])["image"].numpy()
    diff = float(np.max(np.abs(got - want)))
    eager_diff = float(np.max(np.abs(got - eager)))
    if not (diff <= atol and eager_diff <= 1e-5):
        shutil.rmtree(tmp, ignore_errors=True)
        raise RuntimeError(f"DRV SavedModel: max |difference| {diff:.3g} (atol {atol:.3g}) vs the Keras graph, "
                           f"{eager_diff:.3g} (atol 1e-5) vs eager Keras")
    os.makedirs(export_dir, exist_ok=True)
    os.replace(tmp, final)
    return {"path": final, "max_abs_diff": diff, "eager_max_abs_diff": eager_diff, "mean_image": float(want.mean())}
