"""The CAD database of a Pix3D release: every model OBJ rendered from `num_views` yaws (grey shading, numpy
z-buffer of synthetic.rasterize), with its model id and category, cached as one npz beside the release.

Spec card: "each CAD model rendered from several viewpoints (e.g. 16 views)". GUESS: the model is centred
on its bounding box and scaled so its longest edge is 1, seen from 2.2 units at `elevation` (radians)
above, y up (Pix3D's models are y-up), focal 1.25 x view size; the paper's renderer is not published.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np

from official.data.mesh_io import load_mesh
from research.three_d.mask2cad import synthetic


def render_model(vertices: np.ndarray, faces: np.ndarray, num_views: int, size: int,
                 elevation: float = 0.35) -> np.ndarray:
    """(num_views, size, size, 1) float32 grey renders in [0, 1] of one mesh, yaw k * 360 / num_views deg."""
    v = np.asarray(vertices, np.float64)
    v = v - (v.max(0) + v.min(0)) / 2
    v = v / max(float(np.max(v.max(0) - v.min(0))), 1e-9)
    out = []
    for yaw in np.arange(num_views) * 2 * np.pi / num_views:
        rot = synthetic.pose_rotation(yaw, elevation)[0]
        shade, _ = synthetic.rasterize(v @ rot.T + [0, 0, 2.2], np.asarray(faces), 1.25 * size,
                                       (size / 2, size / 2), (size, size))
        out.append(shade[..., None].astype(np.float32))
    return np.stack(out)


def cad_database(root: str, model_paths: list[str], model_categories: list[int], num_views: int, size: int,
                 elevation: float = 0.35, cache: bool = True, log=print) -> dict:
    """views (M * num_views, size, size, 1), view_models (model index into `model_paths`), view_categories.

    `model_paths` are relative to `root` (as pix3d.json writes them). The cache file's name hashes the
    model list and the render settings, so a changed release renders afresh.
    """
    key = hashlib.sha1(repr((sorted(model_paths), num_views, size, elevation)).encode()).hexdigest()[:12]
    path = os.path.join(root, "mask2cad_cache", f"views_{num_views}x{size}_{key}.npz")
    if cache and os.path.isfile(path):
        with np.load(path) as data:
            return {k: data[k] for k in ("views", "view_models", "view_categories")}
    views = []
    for i, rel in enumerate(model_paths):
        vertices, faces = load_mesh(os.path.join(root, rel))
        views.append(render_model(vertices, faces, num_views, size, elevation))
        if log and (i + 1) % 50 == 0:
            log(f"rendered {i + 1}/{len(model_paths)} CAD models ({num_views} views, {size} px)")
    out = {"views": np.concatenate(views, 0),
           "view_models": np.repeat(np.arange(len(model_paths), dtype=np.int32), num_views),
           "view_categories": np.repeat(np.asarray(model_categories, np.int32), num_views)}
    if cache:
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path}.tmp-{os.getpid()}.npz"
            np.savez_compressed(tmp, **out)
            os.replace(tmp, path)
        except OSError as err:  # a read-only release: render again next time
            if log:
                log(f"could not cache the CAD views at {path} ({err}); continuing without")
    return out
