"""Writes "kitti_boxes", a synthetic monocular-3D set in the KITTI object layout, to train tiny RTM3D models.

    python -m tools.make_kitti_boxes --out data/kitti_boxes --num_train 1000 --num_val 200 --seed 0

Layout (what `official.data.kitti.load_kitti_records(OUT, "train")` and the KITTI devkit read):
    OUT/training/image_2/NNNNNN.png   OUT/training/label_2/NNNNNN.txt   OUT/training/calib/NNNNNN.txt
    OUT/ImageSets/{train,val,trainval}.txt      (train ids 000000.., val ids follow them)

Scene: a pinhole camera with KITTI's P2 scaled to --width x --height (f = 721.5377 and cx = 609.5593 scaled
by width / 1242, cy = 172.854 by height / 375, P2[0, 3] = 44.85728 and P2[1, 3] scaled like f, P2[2, 3]
kept), 1.65 m above a flat ground (the plane y = 1.65 in camera coordinates, where KITTI's labels put the
bottom of every object). The ground is a road texture computed in ground coordinates (tiles, dashed lane
lines, grass verges: true perspective), fading into a gradient sky at the horizon. Each image holds 1 to
--max_objects cuboids of KITTI's classes with their mean sizes (h, w, l: Car 1.52 1.63 3.88, Pedestrian
1.76 0.66 0.84, Cyclist 1.74 0.60 1.76) jittered by ~5%, at depths 6-35 m, yaw uniform, standing on the
ground, never intersecting in bird's-eye view. Every visible face gets its own shade (a fixed light) and
pattern so that orientation is learnable: the FRONT (local +x, the heading of rotation_y) has
headlights / a face, the BACK red lights / hair, the TOP is lighter, the sides carry windows or wheels.
Faces are painted far-to-near (objects by distance, back faces culled), so occlusion is right.

Labels (label_2 lines written by `kitti_format.write_label_file`): box2d = the projected 8 corners'
extent clipped to the image; truncated = the fraction of that unclipped box's area outside the image;
occluded = 0 / 1 / 2 when < 15% / < 50% / >= 50% of the object's own silhouette is covered by nearer
objects (measured on the rendered pixels); alpha = rotation_y - atan2(x, z) wrapped. Some images also hold
one far (45-70 m), tiny object labelled only as a DontCare region. Each image is drawn from its own
generator seeded by (seed, split, index): a seed gives identical files and image i does not depend on
the counts. The whole set is written to a temporary folder next to OUT and renamed at the end; an
existing OUT is kept unless --overwrite.
"""

from __future__ import annotations

import colorsys
import functools
import math
import os
import shutil
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from absl import flags
from PIL import Image, ImageDraw

from official.core.errors import BadValueError, UserError
from official.data.kitti_format import KittiObject, format_calib, write_label_file
from official.data.kitti_geometry import alpha_from_rotation_y, box2d_from_3d, box_keypoints_3d, project
from tools import _cli

CLASSES = ("Car", "Pedestrian", "Cyclist")
CLASS_PROBS = (0.6, 0.2, 0.2)
MEAN_DIMS = {"Car": (1.52, 1.63, 3.88), "Pedestrian": (1.76, 0.66, 0.84), "Cyclist": (1.74, 0.60, 1.76)}
CAMERA_HEIGHT = 1.65
DEPTH_RANGE = (6.0, 35.0)
DONTCARE_DEPTH = (45.0, 70.0)
DONTCARE_FRACTION = 0.35
OCCLUSION_LEVELS = (0.15, 0.5)  # hidden fraction thresholds for occluded 1 and 2
SPLITS = ("train", "val")
# KITTI object-benchmark frame 000000 (1242 x 375).
_KITTI_WIDTH, _KITTI_HEIGHT = 1242.0, 375.0
_F, _CX, _CY = 721.5377, 609.5593, 172.854
_P_OFFSETS = {"P0": (0.0, 0.0, 0.0), "P1": (-387.5744, 0.0, 0.0), "P2": (44.85728, 0.2163791, 0.002745884),
              "P3": (-339.5242, 2.199936, 0.002729905)}  # fmt: skip
_TR_VELO_TO_CAM = np.array([[0.0, -1.0, 0.0, 0.0], [0.0, 0.0, -1.0, -0.08], [1.0, 0.0, 0.0, -0.27]])
_TR_IMU_TO_VELO = np.array([[1.0, 0.0, 0.0, -0.81], [0.0, 1.0, 0.0, 0.32], [0.0, 0.0, 1.0, -0.8]])
# Faces as corner indices of kitti_geometry's order, listed (bottom-left, bottom-right, top-right, top-left)
# so that (s, t) in [0, 1]^2 spans them; for the sides s runs back -> front.
FACES = {"front": (0, 1, 5, 4), "back": (2, 3, 7, 6), "left": (3, 0, 4, 7), "right": (2, 1, 5, 6),
         "top": (4, 5, 6, 7)}  # fmt: skip
_LIGHT = np.array([0.4, -0.8, -0.45]) / np.linalg.norm([0.4, -0.8, -0.45])  # towards the light (up, left)


def camera(width: int, height: int) -> dict[str, np.ndarray]:
    """KITTI's calibration scaled to width x height: {"P0".."P3", "R0_rect", "Tr_velo_to_cam", ...}."""
    sx, sy = width / _KITTI_WIDTH, height / _KITTI_HEIGHT
    calib = {}
    for key, (t0, t1, t2) in _P_OFFSETS.items():
        calib[key] = np.array(
            [[_F * sx, 0.0, _CX * sx, t0 * sx], [0.0, _F * sx, _CY * sy, t1 * sx], [0.0, 0.0, 1.0, t2]]
        )
    calib["R0_rect"] = np.eye(3)
    calib["Tr_velo_to_cam"] = _TR_VELO_TO_CAM
    calib["Tr_imu_to_velo"] = _TR_IMU_TO_VELO
    return calib


def camera_centre(p2: np.ndarray) -> np.ndarray:
    """The optical centre of a 3x4 camera in world (rectified camera-0) coordinates."""
    return -np.linalg.solve(p2[:, :3], p2[:, 3])


@functools.lru_cache(maxsize=4)
def _ground_grid(width: int, height: int) -> dict[str, Any]:
    """Per-size constants: ground X, Z (metres, float32) of the pixels that see the ground, their flat
    indices, the distance fade and fog of those pixels, and the sky's vertical blend [H, 1, 1]."""
    p2 = camera(width, height)["P2"]
    centre = camera_centre(p2)
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    rays = np.stack([u, v, np.ones_like(u)], -1) @ np.linalg.inv(p2[:, :3]).T
    dy = rays[..., 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (CAMERA_HEIGHT - centre[1]) / dy
    ground = (dy > 1e-6) & (t * rays[..., 2] < 400.0)
    x = (centre[0] + t * rays[..., 0])[ground].astype(np.float32)
    z = (centre[2] + t * rays[..., 2])[ground].astype(np.float32)
    horizon = float(p2[1, 2])  # the vanishing row of the ground (optical axis parallel to it)
    rows = np.arange(height, dtype=np.float32)[:, None, None]
    return {
        "x": x, "z": z, "index": np.flatnonzero(ground),
        "fade": np.exp(-z / 40.0)[:, None], "fog": np.clip((z - 30.0) / 170.0, 0.0, 1.0)[:, None],
        "sky_blend": np.clip(rows / max(horizon, 1.0), 0.0, 1.0),
    }  # fmt: skip


def _background(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """Road, verges and sky, float32 [H, W, 3] 0-255."""
    grid = _ground_grid(width, height)
    x, z = grid["x"], grid["z"]
    road = (rng.uniform(70, 125) + rng.uniform(-8, 8, 3)).astype(np.float32)
    grass = np.array([rng.uniform(40, 90), rng.uniform(90, 140), rng.uniform(30, 70)], np.float32)
    half_road = rng.uniform(4.0, 8.0)
    road_x = rng.uniform(-2.0, 2.0)
    tile = rng.uniform(1.0, 2.5)
    phase = rng.uniform(0, tile, 2)
    checker = ((np.floor((x + phase[0]) / tile) + np.floor((z + phase[1]) / tile)) % 2) * 2.0 - 1.0
    on_road = np.abs(x - road_x) < half_road
    ground_rgb = np.where(on_road[:, None], road, grass)
    ground_rgb += (checker * np.float32(rng.uniform(6, 16)))[:, None] * grid["fade"]
    dashes = ((z + phase[1]) % 6.0) < 3.0
    lanes = np.zeros_like(on_road)
    for lane in road_x + half_road * np.array([-0.95, 0.0, 0.95]):
        lanes |= np.abs(x - lane) < 0.08
    ground_rgb[lanes & dashes & on_road] = (225.0, 225.0, 210.0)
    sky_top = np.array([rng.uniform(60, 120), rng.uniform(110, 160), rng.uniform(190, 240)], np.float32)
    sky_low = np.float32(215.0)
    image = np.empty((height, width, 3), np.float32)
    image[:] = sky_top + (sky_low - sky_top) * grid["sky_blend"]
    fog = grid["fog"]
    image.reshape(-1, 3)[grid["index"]] = ground_rgb * (1 - fog) + sky_low * fog
    return image


def _sample_object(cls: str, depth_range: tuple[float, float], p2: np.ndarray, width: int,
                   rng: np.random.Generator) -> dict[str, Any]:  # fmt: skip
    dims = np.asarray(MEAN_DIMS[cls]) * np.clip(1.0 + rng.normal(0.0, 0.05, 3), 0.85, 1.15)
    z = rng.uniform(*depth_range)
    u = rng.uniform(-0.08 * width, 1.08 * width)
    x = (u - p2[0, 2]) * z / p2[0, 0]
    ry = rng.uniform(-math.pi, math.pi)
    return {"type": cls, "dims": dims, "loc": np.array([x, CAMERA_HEIGHT, z]), "ry": ry}


def _overlaps(obj: dict[str, Any], others: list[dict[str, Any]]) -> bool:
    """Bird's-eye-view circles (half the footprint diagonal + 0.3 m) intersect."""
    r = 0.5 * math.hypot(obj["dims"][1], obj["dims"][2]) + 0.3
    for other in others:
        r2 = 0.5 * math.hypot(other["dims"][1], other["dims"][2])
        if math.hypot(*(obj["loc"][[0, 2]] - other["loc"][[0, 2]])) < r + r2:
            return True
    return False


def _shade(colour: np.ndarray, factor: float) -> tuple[int, int, int]:
    return tuple(int(v) for v in np.clip(np.rint(colour * factor), 0, 255))


def _face_patterns(cls: str, face: str, rng_colours: dict[str, np.ndarray]) -> list[tuple[tuple, np.ndarray]]:
    """Sub-quads ((s0, s1, t0, t1), colour) drawn over a face, by class and face."""
    lamp, tail, glass, tyre = (
        np.array(c, float) for c in ((250, 240, 170), (220, 20, 20), (40, 55, 80), (20, 20, 20))
    )
    if cls == "Car":
        return {
            "front": [((0.25, 0.75, 0.55, 0.9), glass), ((0.05, 0.25, 0.15, 0.35), lamp), ((0.75, 0.95, 0.15, 0.35), lamp)],
            "back": [((0.2, 0.8, 0.6, 0.9), glass * 0.8), ((0.05, 0.25, 0.2, 0.4), tail), ((0.75, 0.95, 0.2, 0.4), tail)],
            "left": [((0.2, 0.85, 0.6, 0.9), glass), ((0.1, 0.3, 0.0, 0.3), tyre), ((0.72, 0.92, 0.0, 0.3), tyre)],
            "right": [((0.15, 0.8, 0.6, 0.9), glass), ((0.08, 0.28, 0.0, 0.3), tyre), ((0.7, 0.9, 0.0, 0.3), tyre)],
            "top": [((0.1, 0.9, 0.15, 0.85), rng_colours["base"] * 1.2)],
        }[face]  # fmt: skip
    if cls == "Pedestrian":
        return {
            "front": [((0.3, 0.7, 0.8, 0.97), rng_colours["skin"]), ((0.1, 0.9, 0.0, 0.45), rng_colours["legs"])],
            "back": [((0.3, 0.7, 0.8, 0.97), rng_colours["hair"]), ((0.1, 0.9, 0.0, 0.45), rng_colours["legs"] * 0.8)],
            "left": [((0.2, 0.8, 0.0, 0.45), rng_colours["legs"]), ((0.3, 0.7, 0.82, 0.97), rng_colours["hair"])],
            "right": [((0.2, 0.8, 0.0, 0.45), rng_colours["legs"]), ((0.3, 0.7, 0.82, 0.97), rng_colours["hair"])],
            "top": [((0.25, 0.75, 0.25, 0.75), rng_colours["hair"])],
        }[face]  # fmt: skip
    return {  # Cyclist
        "front": [((0.35, 0.65, 0.8, 0.97), rng_colours["skin"]), ((0.4, 0.6, 0.05, 0.2), lamp)],
        "back": [((0.35, 0.65, 0.8, 0.97), rng_colours["hair"]), ((0.4, 0.6, 0.05, 0.2), tail)],
        "left": [((0.0, 0.38, 0.0, 0.4), tyre), ((0.62, 1.0, 0.0, 0.4), tyre), ((0.35, 0.65, 0.45, 0.8), rng_colours["legs"])],
        "right": [((0.0, 0.38, 0.0, 0.4), tyre), ((0.62, 1.0, 0.0, 0.4), tyre), ((0.35, 0.65, 0.45, 0.8), rng_colours["legs"])],
        "top": [((0.3, 0.7, 0.3, 0.7), rng_colours["hair"])],
    }[face]  # fmt: skip


def _quad(corners: np.ndarray, s0: float, s1: float, t0: float, t1: float) -> np.ndarray:
    """3D points of the sub-quad [s0, s1] x [t0, t1] of a face (corners: 4 x 3, bilinear)."""
    p0, p1, p2, p3 = corners
    out = []
    for s, t in ((s0, t0), (s1, t0), (s1, t1), (s0, t1)):
        out.append((1 - s) * (1 - t) * p0 + s * (1 - t) * p1 + s * t * p2 + (1 - s) * t * p3)
    return np.asarray(out)


def _draw_object(draw: ImageDraw.ImageDraw, ids: ImageDraw.ImageDraw, obj: dict[str, Any], obj_id: int,
                 p2: np.ndarray, eye: np.ndarray) -> None:  # fmt: skip
    pts = box_keypoints_3d(obj["dims"], obj["loc"], obj["ry"])
    centre = pts[8]
    for face, index in FACES.items():
        corners = pts[list(index)]
        face_centre = corners.mean(0)
        normal = face_centre - centre
        normal /= np.linalg.norm(normal)
        if normal @ (eye - face_centre) <= 0:  # back face
            continue
        light = 0.55 + 0.45 * max(0.0, float(normal @ _LIGHT))
        tint = {"front": 1.0, "back": 0.7, "left": 0.85, "right": 0.85, "top": 1.25}[face]
        polygon = [tuple(p) for p in project(corners, p2)[0]]
        draw.polygon(
            polygon,
            fill=_shade(obj["colours"]["base"], light * tint),
            outline=_shade(obj["colours"]["base"], 0.35),
        )
        ids.polygon(polygon, fill=obj_id)
        for (s0, s1, t0, t1), colour in _face_patterns(obj["type"], face, obj["colours"]):
            sub = project(_quad(corners, s0, s1, t0, t1), p2)[0]
            draw.polygon([tuple(p) for p in sub], fill=_shade(colour, light))


def _colours(cls: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
    hue = rng.uniform()
    sat = rng.uniform(0.45, 0.9) if cls == "Car" else rng.uniform(0.5, 1.0)
    base = np.array(colorsys.hsv_to_rgb(hue, sat, rng.uniform(0.45, 0.85))) * 255.0
    legs = np.array(colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(0.2, 0.7), rng.uniform(0.2, 0.5))) * 255.0
    skin = np.array([rng.uniform(170, 240), rng.uniform(120, 190), rng.uniform(90, 150)])
    hair = np.array([rng.uniform(20, 90)] * 3) * np.array([1.0, 0.85, 0.7])
    return {"base": base, "legs": legs, "skin": skin, "hair": hair}


def render_frame(
    width: int, height: int, rng: np.random.Generator, max_objects: int = 4, max_depth: float = DEPTH_RANGE[1]
) -> tuple[np.ndarray, list[KittiObject], dict[str, np.ndarray]]:
    """One frame: uint8 [H, W, 3] image, its label_2 objects (DontCare last) and its calibration."""
    calib = camera(width, height)
    p2 = calib["P2"]
    eye = camera_centre(p2)
    objects: list[dict[str, Any]] = []
    target = int(rng.integers(1, max_objects + 1))
    for _attempt in range(60):
        if len(objects) == target:
            break
        obj = _sample_object(str(rng.choice(CLASSES, p=CLASS_PROBS)), (DEPTH_RANGE[0], max_depth), p2, width, rng)
        if _overlaps(obj, objects):
            continue
        box = box2d_from_3d(obj["dims"], obj["loc"], obj["ry"], p2)
        clipped = box2d_from_3d(obj["dims"], obj["loc"], obj["ry"], p2, (height, width))
        area = (box[2] - box[0]) * (box[3] - box[1])
        inside = max(0.0, clipped[2] - clipped[0]) * max(0.0, clipped[3] - clipped[1])
        if box[2] < 0 or box[0] > width - 1 or inside < 0.3 * area:
            continue
        obj.update(box=clipped, truncated=float(np.clip(1.0 - inside / area, 0.0, 1.0)))
        objects.append(obj)
    if rng.random() < DONTCARE_FRACTION:
        for _attempt in range(10):
            obj = _sample_object(str(rng.choice(CLASSES, p=CLASS_PROBS)), DONTCARE_DEPTH, p2, width, rng)
            box = box2d_from_3d(obj["dims"], obj["loc"], obj["ry"], p2)
            if box[0] >= 0 and box[2] <= width - 1 and not _overlaps(obj, objects):
                obj.update(box=box, truncated=0.0, dontcare=True)
                objects.append(obj)
                break
    for obj in objects:
        obj["colours"] = _colours(obj["type"], rng)

    canvas = Image.fromarray(np.clip(np.rint(_background(width, height, rng)), 0, 255).astype(np.uint8))
    id_map = Image.new("L", (width, height), 0)
    draw, ids = ImageDraw.Draw(canvas), ImageDraw.Draw(id_map)
    order = sorted(range(len(objects)), key=lambda i: -float(np.linalg.norm(objects[i]["loc"] - eye)))
    for i in order:
        _draw_object(draw, ids, objects[i], i + 1, p2, eye)
    id_pixels = np.asarray(id_map)
    labels, dontcare = [], []
    for i, obj in enumerate(objects):
        box = tuple(float(v) for v in obj["box"])
        if obj.get("dontcare"):
            dontcare.append(
                KittiObject(
                    "DontCare", -1.0, -1, -10.0, box, (-1.0, -1.0, -1.0), (-1000.0, -1000.0, -1000.0), -10.0
                )
            )
            continue
        hull = Image.new("L", (width, height), 0)
        uv = project(box_keypoints_3d(obj["dims"], obj["loc"], obj["ry"])[:8], p2)[0]
        ImageDraw.Draw(hull).polygon([tuple(p) for p in uv[_convex_hull(uv)]], fill=1)
        own = np.asarray(hull).astype(bool)
        hidden = 1.0 - float((id_pixels[own] == i + 1).sum()) / max(1, int(own.sum()))
        occluded = int(np.searchsorted(OCCLUSION_LEVELS, hidden, side="right"))
        x, _, z = obj["loc"]
        labels.append(KittiObject(
            type=obj["type"], truncated=round(obj["truncated"], 2), occluded=occluded,
            alpha=float(alpha_from_rotation_y(obj["ry"], x, z)), box2d=box,
            dimensions=tuple(float(v) for v in obj["dims"]), location=tuple(float(v) for v in obj["loc"]),
            rotation_y=float(obj["ry"]),
        ))  # fmt: skip
    pixels = np.asarray(canvas, np.float32) + 3.0 * rng.standard_normal((height, width, 3), np.float32)
    return np.clip(np.rint(pixels), 0, 255).astype(np.uint8), labels + dontcare, calib


def _convex_hull(points: np.ndarray) -> list[int]:
    """Indices of the 2D convex hull, counter-clockwise (Andrew's monotone chain)."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], points[i][1]))

    def cross(o: int, a: int, b: int) -> float:
        return float((points[a][0] - points[o][0]) * (points[b][1] - points[o][1])
                     - (points[a][1] - points[o][1]) * (points[b][0] - points[o][0]))  # fmt: skip

    lower: list[int] = []
    upper: list[int] = []
    for i in order:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], i) <= 0:
            lower.pop()
        lower.append(i)
    for i in reversed(order):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], i) <= 0:
            upper.pop()
        upper.append(i)
    return lower[:-1] + upper[:-1]


def write_kitti_boxes(
    out_dir: str, num_train: int, num_val: int, seed: int = 0, width: int = 448, height: int = 136,
    max_objects: int = 4, overwrite: bool = False, progress: Callable[[int, int], None] | None = None,
    max_depth: float = DEPTH_RANGE[1],
) -> dict[str, Any]:  # fmt: skip
    """Writes the set (module docstring) atomically; returns counts {"train", "val", per-class objects}."""
    if not 160 <= width <= 2048 or not 48 <= height <= 1024:
        raise BadValueError(f"width, height: expected 160-2048 x 48-1024 px, got {width} x {height}")
    if num_train < 0 or num_val < 0 or num_train + num_val == 0 or num_train + num_val > 1_000_000:
        raise BadValueError(
            f"num_train, num_val: need >= 0, not both 0, < 1e6 in all; got {num_train}, {num_val}"
        )
    if not 1 <= max_objects <= 8:
        raise BadValueError(f"max_objects: expected 1-8, got {max_objects}")
    if not DEPTH_RANGE[0] + 2.0 <= max_depth <= 80.0:
        raise BadValueError(f"max_depth: expected {DEPTH_RANGE[0] + 2.0:g}-80 m, got {max_depth:g}")
    out_dir = os.path.abspath(out_dir)
    if os.path.exists(out_dir) and not overwrite:
        raise UserError(f"{out_dir}: already exists (pass --overwrite to replace it)")
    parent = os.path.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    tmp = f"{out_dir}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    counts: dict[str, Any] = {"train": num_train, "val": num_val, **{c: 0 for c in CLASSES}, "DontCare": 0}
    try:
        folders = {name: os.path.join(tmp, "training", name) for name in ("image_2", "label_2", "calib")}
        for folder in (*folders.values(), os.path.join(tmp, "ImageSets")):
            os.makedirs(folder)
        ids: dict[str, list[str]] = {}
        frame, total = 0, num_train + num_val
        for split_index, (split, count) in enumerate(zip(SPLITS, (num_train, num_val), strict=True)):
            ids[split] = []
            for i in range(count):
                rng = np.random.default_rng([seed, split_index, i])
                pixels, labels, calib = render_frame(width, height, rng, max_objects, max_depth)
                frame_id = f"{frame:06d}"
                Image.fromarray(pixels).save(
                    os.path.join(folders["image_2"], f"{frame_id}.png"), compress_level=1
                )
                write_label_file(os.path.join(folders["label_2"], f"{frame_id}.txt"), labels)
                with open(os.path.join(folders["calib"], f"{frame_id}.txt"), "w") as f:
                    f.write(format_calib(calib))
                for obj in labels:
                    counts[obj.type] += 1
                ids[split].append(frame_id)
                frame += 1
                if progress is not None:
                    progress(frame, total)
        for name, listed in (
            ("train", ids["train"]),
            ("val", ids["val"]),
            ("trainval", ids["train"] + ids["val"]),
        ):
            with open(os.path.join(tmp, "ImageSets", f"{name}.txt"), "w") as f:
                f.write("".join(f"{frame_id}\n" for frame_id in listed))
        old = f"{out_dir}.old-{os.getpid()}"
        if os.path.exists(out_dir):
            os.rename(out_dir, old)
        os.rename(tmp, out_dir)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return counts


FLAGS = flags.FLAGS


def define_flags() -> None:
    """Registers the CLI flags (only when run as a program)."""
    flags.DEFINE_string(
        "out", "data/kitti_boxes", "Output folder (training/ and ImageSets/ are created in it)."
    )
    flags.DEFINE_integer("num_train", 1000, "Number of training frames (ids 000000 .. num_train - 1).")
    flags.DEFINE_integer("num_val", 200, "Number of validation frames (ids after the training ones).")
    flags.DEFINE_integer("seed", 0, "Random seed; the same seed writes identical files.")
    flags.DEFINE_integer("width", 448, "Image width in pixels (KITTI is 1242; the camera is scaled to it).")
    flags.DEFINE_integer("height", 136, "Image height in pixels (KITTI is 375; keep ~width / 3.3).")
    flags.DEFINE_integer("max_objects", 4, "Labelled objects per frame: 1 to this many (1-8).")
    flags.DEFINE_float("max_depth", DEPTH_RANGE[1], f"Farthest object depth in metres (objects stand {DEPTH_RANGE[0]:g} m to this far).")
    flags.DEFINE_boolean(
        "overwrite", False, "Replace an existing --out folder (only once the new set is complete)."
    )


def main(argv: list[str]) -> None:
    del argv
    tty = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if done == total or done % 100 == 0:
            prefix = "\r" if tty else ""
            end = "" if tty and done < total else "\n"
            print(f"{prefix}{done}/{total} frames", end=end, file=sys.stderr, flush=True)

    start = time.time()
    counts = write_kitti_boxes(
        FLAGS.out, FLAGS.num_train, FLAGS.num_val, FLAGS.seed, FLAGS.width, FLAGS.height, FLAGS.max_objects,
        FLAGS.overwrite, progress, FLAGS.max_depth,
    )  # fmt: skip
    objects = ", ".join(f"{c} {counts[c]}" for c in (*CLASSES, "DontCare"))
    print(f"wrote {FLAGS.out}: {counts['train']} train + {counts['val']} val frames ({objects}) "
          f"in {time.time() - start:.1f} s")  # fmt: skip


if __name__ == "__main__":
    define_flags()
    _cli.run(main, tensorflow=False)
