"""The serving signature of a fitted DRV scene: serving_default(camera, light) -> image (spec card check 8).

`python -m tools.export` writes it through the task (research/three_d/drv/task.py) with the zoo's exporter
(official/core/export.py: TF Serving layout, warmup records, verification against Keras before it lands).
Per-scene asset (card "Hard parts"): the fitted volume is baked in as variables; the signature renders any
COLMAP camera under any point light (shadow rays marched to the light; a light at the camera centre reuses
the camera transmittance, as in training):
- camera float32 (B, 16) = [R world-to-camera row-major (9), t (3), fx, fy, cx, cy]
- light  float32 (B, 3)  = point-light position in world units
- image  float32 (B, S, S, 3) linear radiance, S = the model's image_size; fixed sample counts (static shapes).
"""

from __future__ import annotations

import numpy as np


def warmup_inputs(image_size: int, batch: int = 1) -> dict[str, np.ndarray]:
    """A camera 3 units from the origin looking at it, light at the camera (a valid request)."""
    from research.three_d.drv.synthetic import intrinsics, look_at

    rot, t = look_at((0.0, -3.0, 0.5))
    camera = np.concatenate([rot.reshape(9), t, intrinsics(image_size)]).astype(np.float32)
    light = (-rot.T @ t).astype(np.float32)
    return {"camera": np.tile(camera, (batch, 1)), "light": np.tile(light, (batch, 1))}


def serving_default(model):
    """(fn, input_signature) of serving_default: camera (B, 16), light (B, 3) -> {"image": (B, S, S, 3)}."""
    import tensorflow as tf

    def render(camera, light):
        return {"image": model.render_image(camera, light)}

    return render, [tf.TensorSpec((None, 16), tf.float32, name="camera"),
                    tf.TensorSpec((None, 3), tf.float32, name="light")]


def graph_render(model, camera, light) -> np.ndarray:
    """The serving render traced as a TF graph: the reference the SavedModel must equal (1e-6)."""
    import tensorflow as tf

    render, _ = serving_default(model)
    return tf.function(lambda cam, lit: render(cam, lit)["image"])(tf.constant(camera), tf.constant(light)).numpy()


def verification_inputs(image_size: int, count: int = 2) -> dict[str, np.ndarray]:
    """`count` orbit cameras with lights moved off the camera (shadow rays matter) for export checks."""
    from research.three_d.drv.synthetic import intrinsics, orbit_cameras

    rots, trans, centres = orbit_cameras(max(count, 1), seed=9)
    camera = np.concatenate([rots.reshape(-1, 9), trans, np.tile(intrinsics(image_size), (len(rots), 1))], -1)
    light = centres + np.array([0.5, -0.3, 0.2])
    return {"camera": camera.astype(np.float32), "light": light.astype(np.float32)}
