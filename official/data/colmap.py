"""COLMAP sparse models in text form (cameras.txt, images.txt) and a tf.data reader of posed images.

Format (COLMAP docs, "Output format"; facts only):
- cameras.txt: `CAMERA_ID MODEL WIDTH HEIGHT PARAMS[]`; PINHOLE params = fx fy cx cy, SIMPLE_PINHOLE = f cx cy.
- images.txt: two lines per image: `IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME`, then POINTS2D (X Y POINT3D_ID)*
  (possibly empty). (q, t) map world to camera: x_cam = R(q) x_world + t; the centre is -R^T t.
- `#` lines are comments. Pixel centres are at +0.5 (COLMAP's convention; research/three_d/drv/render.py).
Errors are `ColmapFormatError` naming the file, the line and the field. `colmap_image_dataset` pairs each image
record with ROOT/images/NAME; records whose image file is missing are counted, skipped and logged once.
Point lights (DRV's flash captures): the light sits at the camera centre unless ROOT/lights.json maps an
image name to a world position (the fixture's novel-light views).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os

import numpy as np

from official.core.errors import PathNotFoundError, UserError

CAMERA_MODEL_PARAMS = {  # model -> number of params (COLMAP src/colmap/sensor/models.h)
    "SIMPLE_PINHOLE": 3, "PINHOLE": 4, "SIMPLE_RADIAL": 4, "RADIAL": 5, "OPENCV": 8, "OPENCV_FISHEYE": 8,
    "FULL_OPENCV": 12, "FOV": 5, "SIMPLE_RADIAL_FISHEYE": 4, "RADIAL_FISHEYE": 5, "THIN_PRISM_FISHEYE": 12,
}


class ColmapFormatError(UserError, ValueError):
    """A malformed cameras.txt / images.txt line; the message names the file, line and field."""


@dataclasses.dataclass(frozen=True)
class Camera:
    camera_id: int
    model: str
    width: int
    height: int
    params: tuple[float, ...]


@dataclasses.dataclass(frozen=True)
class ImageRecord:
    image_id: int
    qvec: tuple[float, float, float, float]  # w, x, y, z
    tvec: tuple[float, float, float]
    camera_id: int
    name: str


def _field(path, lineno, name, text, kind):
    try:
        return kind(text)
    except ValueError:
        raise ColmapFormatError(f"{path}:{lineno}: field {name}: cannot read {text!r} as {kind.__name__}") from None


def _lines(path):
    if not os.path.isfile(path):
        raise PathNotFoundError(f"{path}: COLMAP file not found")
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()


def read_cameras_text(path: str) -> dict[int, Camera]:
    cameras = {}
    for lineno, line in enumerate(_lines(path), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) < 4:
            raise ColmapFormatError(f"{path}:{lineno}: expected CAMERA_ID MODEL WIDTH HEIGHT PARAMS[], got {line!r}")
        model = parts[1]
        if model not in CAMERA_MODEL_PARAMS:
            raise ColmapFormatError(f"{path}:{lineno}: field MODEL: unknown camera model {model!r}")
        if len(parts) - 4 != CAMERA_MODEL_PARAMS[model]:
            raise ColmapFormatError(
                f"{path}:{lineno}: field PARAMS: {model} takes {CAMERA_MODEL_PARAMS[model]} params, got {len(parts) - 4}")
        cam = Camera(_field(path, lineno, "CAMERA_ID", parts[0], int), model,
                     _field(path, lineno, "WIDTH", parts[2], int), _field(path, lineno, "HEIGHT", parts[3], int),
                     tuple(_field(path, lineno, f"PARAMS[{i}]", p, float) for i, p in enumerate(parts[4:])))
        cameras[cam.camera_id] = cam
    return cameras


def read_images_text(path: str) -> dict[int, ImageRecord]:
    images = {}
    lines = _lines(path)
    i = 0
    names = ("IMAGE_ID", "QW", "QX", "QY", "QZ", "TX", "TY", "TZ", "CAMERA_ID")
    while i < len(lines):
        line = lines[i].strip()
        i += 1
        if not line or line.startswith("#"):
            continue
        parts = line.split(maxsplit=9)
        if len(parts) < 10:
            raise ColmapFormatError(
                f"{path}:{i}: expected IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME, got {len(parts)} fields")
        vals = [_field(path, i, n, p, int if n in ("IMAGE_ID", "CAMERA_ID") else float) for n, p in zip(names, parts, strict=False)]
        images[vals[0]] = ImageRecord(vals[0], tuple(vals[1:5]), tuple(vals[5:8]), vals[8], parts[9].strip())
        i += 1  # the POINTS2D line (possibly empty); not used here
    return images


def pinhole_intrinsics(camera: Camera, where: str = "cameras.txt") -> np.ndarray:
    """(fx, fy, cx, cy) of a pinhole camera; models with distortion are refused (undistort with COLMAP first)."""
    p = camera.params
    if camera.model == "PINHOLE":
        return np.array(p, np.float64)
    if camera.model == "SIMPLE_PINHOLE":
        return np.array([p[0], p[0], p[1], p[2]], np.float64)
    raise ColmapFormatError(f"{where}: camera {camera.camera_id}: field MODEL: {camera.model} has distortion; "
                            "run `colmap image_undistorter` (PINHOLE) first")


def quaternion_to_rotation(qvec) -> np.ndarray:
    """(..., 4) [w, x, y, z] -> (..., 3, 3) numpy, normalised (official/ops/rotations.py's formula)."""
    from official.ops.rotations import quaternion_normalize, quaternion_to_matrix

    return np.asarray(quaternion_to_matrix(quaternion_normalize(np.asarray(qvec, np.float64))))


def load_colmap_scene(root: str) -> dict[str, np.ndarray]:
    """ROOT/cameras.txt + ROOT/images.txt -> arrays sorted by image name: names, rotation (N, 3, 3),
    translation (N, 3), intrinsics (N, 4), size (N, 2) as (height, width), light (N, 3)."""
    cameras = read_cameras_text(os.path.join(root, "cameras.txt"))
    images_path = os.path.join(root, "images.txt")
    records = sorted(read_images_text(images_path).values(), key=lambda r: r.name)
    if not records:
        raise ColmapFormatError(f"{images_path}: no image records")
    for r in records:
        if r.camera_id not in cameras:
            raise ColmapFormatError(f"{images_path}: image {r.name}: field CAMERA_ID: {r.camera_id} not in cameras.txt")
    rot = quaternion_to_rotation([r.qvec for r in records])
    trans = np.array([r.tvec for r in records], np.float64)
    lights = -np.einsum("nji,nj->ni", rot, trans)  # camera centres: collocated flash
    lights_path = os.path.join(root, "lights.json")
    if os.path.isfile(lights_path):
        with open(lights_path, encoding="utf-8") as f:
            extra = json.load(f)
        for k, r in enumerate(records):
            if r.name in extra:
                lights[k] = np.asarray(extra[r.name], np.float64)
    return {
        "names": np.array([r.name for r in records]),
        "rotation": rot,
        "translation": trans,
        "intrinsics": np.stack([pinhole_intrinsics(cameras[r.camera_id], os.path.join(root, "cameras.txt"))
                                for r in records]),
        "size": np.array([[cameras[r.camera_id].height, cameras[r.camera_id].width] for r in records]),
        "light": lights,
    }


def _atomic_write(path: str, text: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def write_colmap_text(root: str, rotations, translations, intrinsics, size, names) -> None:
    """Writes ROOT/cameras.txt (one PINHOLE camera per image), images.txt (empty POINTS2D) and points3D.txt."""
    from official.ops.rotations import matrix_to_quaternion

    os.makedirs(root, exist_ok=True)
    h, w = size
    cams = ["# Camera list with one line of data per camera:", "#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]"]
    imgs = ["# Image list with two lines of data per image:",
            "#   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME", "#   POINTS2D[] as (X, Y, POINT3D_ID)"]
    quats = np.asarray(matrix_to_quaternion(np.asarray(rotations, np.float64)))
    for k, name in enumerate(names):
        fx, fy, cx, cy = np.asarray(intrinsics[k] if np.ndim(intrinsics) == 2 else intrinsics, np.float64)
        cams.append(f"{k + 1} PINHOLE {w} {h} {fx:.17g} {fy:.17g} {cx:.17g} {cy:.17g}")
        q, t = quats[k], np.asarray(translations[k], np.float64)
        imgs.append(f"{k + 1} " + " ".join(f"{v:.17g}" for v in (*q, *t)) + f" {k + 1} {name}")
        imgs.append("")
    _atomic_write(os.path.join(root, "cameras.txt"), "\n".join(cams) + "\n")
    _atomic_write(os.path.join(root, "images.txt"), "\n".join(imgs) + "\n")
    _atomic_write(os.path.join(root, "points3D.txt"), "# 3D point list (empty)\n")


def colmap_image_dataset(root: str, images_dir: str = "images"):
    """tf.data.Dataset of {"image" float32 (H, W, 3) in [0, 1] (8- or 16-bit PNG), "rotation" (3, 3),
    "translation" (3,), "intrinsics" (4,), "light" (3,), "name"} in image-name order, and its length.
    Records whose image file is missing are skipped; their count is logged."""
    import tensorflow as tf

    scene = load_colmap_scene(root)
    paths = [os.path.join(root, images_dir, str(n)) for n in scene["names"]]
    keep = np.array([os.path.isfile(p) for p in paths])
    if not keep.all():
        logging.warning("colmap: %s: %d of %d images missing under %s/, skipped (first: %s)", root,
                        int((~keep).sum()), len(paths), images_dir, np.array(paths)[~keep][0])
    if not keep.any():
        raise UserError(f"{os.path.join(root, images_dir)}: none of the {len(paths)} images in images.txt exist")
    data = {k: (v[keep].astype(np.float32) if v.dtype.kind == "f" else v[keep]) for k, v in scene.items()}
    data["path"] = np.array(paths)[keep]

    def decode(ex):
        raw = tf.io.read_file(ex["path"])
        img = tf.io.decode_png(raw, channels=3, dtype=tf.uint16)
        ex = dict(ex)
        ex["image"] = tf.cast(img, tf.float32) / 65535.0
        ex["name"] = ex.pop("names")
        ex.pop("path")
        return ex

    ds = tf.data.Dataset.from_tensor_slices(data).map(decode, num_parallel_calls=tf.data.AUTOTUNE)
    return ds, int(keep.sum())
