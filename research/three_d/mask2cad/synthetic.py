"""Rendered primitives for Mask2CAD's small run and tests: a 4-model CAD table (2 categories x 2 shapes, each
asymmetric so its rotation is observable), a numpy z-buffer rasteriser, posed-object images with masks,
boxes, (R, t, K), and grey-shaded CAD views for the view-embedding table.

Camera frame x right, y down, z forward (official/ops/camera). Objects are built y-up and turned upside
down by R_x(pi) before their pose, so a pose R = R_x(elevation) R_x(pi) R_y(yaw) shows them upright,
seen from slightly above. The rasteriser interpolates depth linearly in screen space (exact for the
per-face flat shading used here, adequate for masks and boxes).
"""

from __future__ import annotations

import numpy as np
import trimesh
from scipy.spatial.transform import Rotation

CATEGORIES = ("chair", "desk")


def _boxes(parts) -> tuple[np.ndarray, np.ndarray]:
    meshes = []
    for extents, centre in parts:
        box = trimesh.creation.box(extents=extents)
        box.apply_translation(centre)
        meshes.append(box)
    mesh = trimesh.util.concatenate(meshes)
    v = np.asarray(mesh.vertices, np.float64)
    v -= (v.max(0) + v.min(0)) / 2  # bounding-box centre at the origin (the pose's translation)
    return v, np.asarray(mesh.faces, np.int64)


def cad_models() -> list[dict]:
    """4 models: id, category index, name, vertices (V, 3) metres (y up), faces (F, 3)."""
    legs = [((0.05, 0.45, 0.05), (x, 0.225, z)) for x in (-0.2, 0.2) for z in (-0.2, 0.2)]
    chair_a = [((0.5, 0.08, 0.5), (0, 0.49, 0)), ((0.5, 0.6, 0.08), (0, 0.83, -0.21))] + legs
    chair_b = [((0.7, 0.08, 0.5), (0, 0.49, 0)), ((0.7, 0.25, 0.08), (0, 0.65, -0.21)),
               ((0.08, 0.2, 0.5), (-0.31, 0.63, 0))] + legs
    desk_a = [((0.9, 0.06, 0.45), (0, 0.72, 0)), ((0.06, 0.69, 0.45), (-0.42, 0.345, 0)),
              ((0.3, 0.45, 0.45), (0.3, 0.465, 0))]
    desk_b = [((0.9, 0.06, 0.45), (0, 0.72, 0)), ((0.06, 0.69, 0.45), (0.42, 0.345, 0)),
              ((0.84, 0.4, 0.04), (0, 0.45, -0.2))]
    out = []
    for i, (cat, parts) in enumerate(((0, chair_a), (0, chair_b), (1, desk_a), (1, desk_b))):
        v, f = _boxes(parts)
        out.append({"id": i, "category": cat, "name": f"{CATEGORIES[cat]}_{'ab'[i % 2]}", "vertices": v,
                    "faces": f})
    return out


def pose_rotation(yaw: np.ndarray, elevation: np.ndarray) -> np.ndarray:
    """Object-to-camera rotation matrices (N, 3, 3) = R_x(elevation) R_x(pi) R_y(yaw)."""
    yaw, elevation = np.atleast_1d(yaw), np.atleast_1d(elevation)
    r = (Rotation.from_rotvec(np.stack([elevation, 0 * elevation, 0 * elevation], 1))
         * Rotation.from_rotvec([np.pi, 0, 0]) * Rotation.from_rotvec(np.stack([0 * yaw, yaw, 0 * yaw], 1)))
    return r.as_matrix()


def rasterize(vertices_cam: np.ndarray, faces: np.ndarray, focal: float, centre: tuple[float, float],
              size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(shade (H, W) in [0, 1], mask (H, W) bool) of a camera-frame mesh: z-buffer, flat Lambert shading
    with the light at the camera."""
    h, w = size
    z = vertices_cam[:, 2]
    uv = vertices_cam[:, :2] / z[:, None] * focal + np.asarray(centre)
    depth = np.full((h, w), np.inf)
    shade = np.zeros((h, w))
    tri = vertices_cam[faces]
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
    centres = tri.mean(1)
    lambert = np.abs(np.sum(normals * centres, 1)) / np.linalg.norm(centres, axis=1)
    for f, (a, b, c) in enumerate(faces):
        p = uv[[a, b, c]]
        x0, y0 = np.floor(p.min(0)).astype(int)
        x1, y1 = np.ceil(p.max(0)).astype(int)
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w - 1), min(y1, h - 1)
        if x1 < x0 or y1 < y0:
            continue
        xs, ys = np.meshgrid(np.arange(x0, x1 + 1) + 0.5, np.arange(y0, y1 + 1) + 0.5)
        d = (p[1, 1] - p[2, 1]) * (p[0, 0] - p[2, 0]) + (p[2, 0] - p[1, 0]) * (p[0, 1] - p[2, 1])
        if abs(d) < 1e-12:
            continue
        l0 = ((p[1, 1] - p[2, 1]) * (xs - p[2, 0]) + (p[2, 0] - p[1, 0]) * (ys - p[2, 1])) / d
        l1 = ((p[2, 1] - p[0, 1]) * (xs - p[2, 0]) + (p[0, 0] - p[2, 0]) * (ys - p[2, 1])) / d
        l2 = 1 - l0 - l1
        inside = (l0 >= 0) & (l1 >= 0) & (l2 >= 0)
        zz = l0 * z[a] + l1 * z[b] + l2 * z[c]
        sub = depth[y0:y1 + 1, x0:x1 + 1]
        closer = inside & (zz < sub)
        sub[closer] = zz[closer]
        shade[y0:y1 + 1, x0:x1 + 1][closer] = 0.25 + 0.75 * lambert[f]
    return shade, np.isfinite(depth)


def make_scenes(num: int, seed: int = 0, size: int = 64, focal: float = 80.0) -> dict:
    """`num` images with one posed CAD model each: image (N, S, S, 3) uint8, mask (N, S, S, 1) float32,
    box (N, 4) x1 y1 x2 y2, model (N,), category (N,), rotation (N, 3, 3), quaternion (N, 4) w >= 0,
    translation (N, 3), K (3, 3)."""
    rng = np.random.default_rng(seed)
    models = cad_models()
    k = np.array([[focal, 0, size / 2], [0, focal, size / 2], [0, 0, 1.0]])
    out = {key: [] for key in ("image", "mask", "box", "model", "category", "rotation", "translation")}
    while len(out["image"]) < num:
        m = models[int(rng.integers(len(models)))]
        rot = pose_rotation(rng.uniform(0, 2 * np.pi), rng.uniform(0.25, 0.45))[0]
        t = np.array([rng.uniform(-0.25, 0.25), rng.uniform(-0.2, 0.2), rng.uniform(2.6, 3.4)])
        shade, mask = rasterize(m["vertices"] @ rot.T + t, m["faces"], focal, (size / 2, size / 2), (size, size))
        ys, xs = np.nonzero(mask)
        if len(xs) < 20 or xs.min() == 0 or ys.min() == 0 or xs.max() == size - 1 or ys.max() == size - 1:
            continue  # keep whole objects only
        background = rng.uniform(0.0, 0.15)
        grey = np.where(mask, shade, background) + rng.normal(0, 0.02, mask.shape)
        tint = np.array([1.0, 0.9, 0.8]) if m["category"] == 0 else np.array([0.8, 0.9, 1.0])
        out["image"].append(np.clip(grey[..., None] * tint * 255, 0, 255).astype(np.uint8))
        out["mask"].append(mask[..., None].astype(np.float32))
        out["box"].append([xs.min(), ys.min(), xs.max() + 1.0, ys.max() + 1.0])
        out["model"].append(m["id"])
        out["category"].append(m["category"])
        out["rotation"].append(rot)
        out["translation"].append(t)
    arrays = {key: np.asarray(v) for key, v in out.items()}
    q = Rotation.from_matrix(arrays["rotation"]).as_quat(scalar_first=True)
    arrays["quaternion"] = q * np.where(q[:, :1] < 0, -1.0, 1.0)
    arrays["box"] = arrays["box"].astype(np.float32)
    arrays["K"] = k
    return arrays


def render_views(num_views: int = 8, size: int = 32, focal: float = 40.0, elevation: float = 0.35) -> dict:
    """Grey-shaded views of every CAD model at `num_views` yaws: views (M * num_views, S, S, 1) float32,
    view_models, view_categories (M * num_views,)."""
    views, view_models, view_categories = [], [], []
    for m in cad_models():
        for yaw in np.arange(num_views) * 2 * np.pi / num_views:
            rot = pose_rotation(yaw, elevation)[0]
            shade, _ = rasterize(m["vertices"] @ rot.T + [0, 0, 2.2], m["faces"], focal, (size / 2, size / 2),
                                 (size, size))
            views.append(shade[..., None].astype(np.float32))
            view_models.append(m["id"])
            view_categories.append(m["category"])
    return {"views": np.stack(views), "view_models": np.array(view_models, np.int32),
            "view_categories": np.array(view_categories, np.int32)}


def write_pix3d(root: str, num: int, seed: int = 0, size: int = 64, focal: float = 80.0) -> str:
    """Writes `num` scenes as a Pix3D release (img/, mask/, model/<category>/<name>/model.obj, pix3d.json)
    under `root`; returns the JSON path. focal_length is written in mm (f_px * 32 / width), as Pix3D does."""
    import json
    import os

    from PIL import Image

    from official.data.pix3d import SENSOR_WIDTH_MM

    scenes = make_scenes(num, seed, size, focal)
    models = cad_models()
    for m in models:
        path = os.path.join(root, "model", CATEGORIES[m["category"]], m["name"], "model.obj")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        trimesh.Trimesh(m["vertices"], m["faces"], process=False).export(path)
    records = []
    for i in range(num):
        m = models[int(scenes["model"][i])]
        cat = CATEGORIES[m["category"]]
        rel = {"img": f"img/{cat}/{i:04d}.png", "mask": f"mask/{cat}/{i:04d}.png"}
        for field, array in (("img", scenes["image"][i]), ("mask", (scenes["mask"][i][..., 0] * 255).astype(np.uint8))):
            path = os.path.join(root, rel[field])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            Image.fromarray(array).save(path)
        records.append({**rel, "category": cat, "img_size": [size, size],
                        "model": f"model/{cat}/{m['name']}/model.obj", "rot_mat": scenes["rotation"][i].tolist(),
                        "trans_mat": scenes["translation"][i].tolist(),
                        "focal_length": focal * SENSOR_WIDTH_MM / size, "bbox": scenes["box"][i].tolist(),
                        "truncated": False, "occluded": False, "slightly_occluded": False})
    json_path = os.path.join(root, "pix3d.json")
    with open(json_path + ".tmp", "w") as f:
        json.dump(records, f)
    os.replace(json_path + ".tmp", json_path)
    return json_path
