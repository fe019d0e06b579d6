"""Synthetic people for 3D pose: random skeleton poses, pinhole cameras, and flat-shaded limb renderings.

The real 3D pose sets (MuCo-3DHP, MuPoTS-3D, Human3.6M) cannot be downloaded here, so `tools.make_humans3d`
writes their on-disk layouts (official/data/mppe3d.py, official/data/human36m.py) from these scenes. What
a small network must learn is kept: 2D joints follow from 3D joints through the image's own intrinsics, and
depth shows in the image (size shrinks as 1/Z, nearer people and limbs are drawn over farther ones, a
limb in front of its person's root is drawn brighter than one behind it).

- Poses (`random_pose`): forward kinematics over a `skeletons3d.Skeleton`: every bone keeps its table
  length; each joint turns its child bones by a random rotation of at most `max_angle_deg` (a cone
  limit on the local rotation, so the angle between a bone and its parent bone differs from the rest
  pose's by at most that much); the root gets a random heading (any yaw) and a small tilt.
- Cameras (`random_camera`): pinhole, fx, fy near `f` (fy within 2 % of fx, so an x/y swap is visible),
  principal point near the image centre, and a world->camera rotation R and translation t in the
  convention of `official.ops.camera.world_to_camera` (3DMPPE's Human36M `world2cam`): the camera looks
  along world +z, pitched down by a few degrees, from `height_mm` above the world origin (world y is down).
- Scenes (`scene`): 2-4 upright people at 2-8 m root depth whose roots project inside the image (roots
  at least 500 mm apart, the MuCo-3DHP compositing rule), rendered with `render_people`.
- Rendering: each limb a thick segment (radius `LIMB_RADIUS_MM` projected at the person's depth) with a
  disc at each joint, one saturated colour per person on a low-saturation background; segments of all
  people are painted far to near (painter's order by segment depth). A joint is visible
  (keypoints_vis = 1) when it lies in the image and its pixel shows its own person.

Everything is numpy and seeded by the caller's `np.random.Generator`: a seed gives identical scenes.
"""

from __future__ import annotations

import colorsys
import math
from typing import Any

import numpy as np

from official.data.skeletons3d import Skeleton

LIMB_RADIUS_MM = 45.0  # half a limb's thickness
JOINT_RADIUS_MM = 55.0  # joint discs, a little wider than the limbs
MIN_ROOT_DISTANCE_MM = 500.0  # MuCo-3DHP composites keep people whose roots are >= 500 mm apart


def _camera_ops():
    """official.ops.camera (keras.ops) imported on first use, so numpy-only users do not load Keras."""
    from official.ops import camera

    return camera


def _f64(x: Any) -> np.ndarray:
    return np.asarray(x, np.float64)


def _np(x: Any) -> np.ndarray:
    import keras

    return np.asarray(keras.ops.convert_to_numpy(x), np.float64)


def project(points_cam: Any, focal: Any, center: Any) -> np.ndarray:
    """official.ops.camera.project as float64 numpy."""
    return _np(_camera_ops().project(_f64(points_cam), _f64(focal), _f64(center)))


def axis_angle_matrix(axis: Any, angle: float) -> np.ndarray:
    """3x3 rotation by `angle` radians about the unit `axis` (Rodrigues)."""
    x, y, z = np.asarray(axis, np.float64) / np.linalg.norm(axis)
    k = np.array([[0, -z, y], [z, 0, -x], [-y, x, 0]])
    return np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * (k @ k)


def random_rotation(rng: np.random.Generator, max_angle_rad: float) -> np.ndarray:
    """A rotation about a uniformly random axis by an angle uniform in [0, max_angle_rad]."""
    return axis_angle_matrix(rng.normal(size=3), rng.uniform(0.0, max_angle_rad))


def random_rotations(skeleton: Skeleton, rng: np.random.Generator, max_angle_deg: float = 60.0,
                     max_tilt_deg: float = 10.0) -> np.ndarray:
    """float64 [J, 3, 3] local joint rotations: the root a random heading (yaw about y, any angle) times
    a tilt of at most max_tilt_deg; every other joint at most max_angle_deg."""
    rots = np.stack([random_rotation(rng, math.radians(max_angle_deg)) for _ in range(skeleton.num_joints)])
    yaw = axis_angle_matrix((0.0, 1.0, 0.0), rng.uniform(-math.pi, math.pi))
    rots[skeleton.root] = random_rotation(rng, math.radians(max_tilt_deg)) @ yaw
    return rots


def forward_kinematics(skeleton: Skeleton, rotations: Any) -> np.ndarray:
    """float64 [J, 3] joints (mm, root at the origin) from local rotations [J, 3, 3].

    A joint's global rotation is its parent's times its own; a bone (parent -> joint) is the parent's
    global rotation applied to the bone's rest vector (table length x rest direction).
    """
    rotations = np.asarray(rotations, np.float64)
    glob = np.zeros((skeleton.num_joints, 3, 3))
    pose = np.zeros((skeleton.num_joints, 3))
    glob[skeleton.root] = rotations[skeleton.root]
    for j in skeleton.order[1:]:
        p = skeleton.parents[j]
        pose[j] = pose[p] + glob[p] @ (skeleton.bone_lengths_mm[j] * np.asarray(skeleton.rest_directions[j]))
        glob[j] = glob[p] @ rotations[j]
    return pose


def random_pose(skeleton: Skeleton, rng: np.random.Generator, max_angle_deg: float = 60.0,
                max_tilt_deg: float = 10.0) -> np.ndarray:
    """float64 [J, 3] a random root-centred pose in mm (body frame: y down; see the module docstring)."""
    return forward_kinematics(skeleton, random_rotations(skeleton, rng, max_angle_deg, max_tilt_deg))


def random_camera(rng: np.random.Generator, f: float = 1500.0, size: tuple[int, int] = (512, 512),
                  focal_jitter: float = 0.1, center_jitter: float = 0.02,
                  height_mm: tuple[float, float] = (1000.0, 2000.0),
                  pitch_deg: tuple[float, float] = (0.0, 10.0)) -> dict[str, np.ndarray]:
    """dict(f [2], c [2], R [3, 3], t [3], size (H, W)): a pinhole camera for an image of `size` (H, W).

    fx = f x (1 +- focal_jitter), fy = fx x (1 +- 0.02); c = image centre (W/2, H/2) +- center_jitter x size;
    the camera sits `height_mm` above the world origin (world y down) looking along +z, pitched down.
    """
    h, w = size
    fx = f * (1.0 + rng.uniform(-focal_jitter, focal_jitter))
    focal = np.array([fx, fx * (1.0 + rng.uniform(-0.02, 0.02))])
    center = np.array([w / 2.0, h / 2.0]) + rng.uniform(-center_jitter, center_jitter, 2) * np.array([w, h])
    pitch = math.radians(rng.uniform(*pitch_deg))
    s, co = math.sin(pitch), math.cos(pitch)
    rot = np.array([[1.0, 0.0, 0.0], [0.0, co, -s], [0.0, s, co]])  # rows: camera x, y, z axes in world
    position = np.array([0.0, -rng.uniform(*height_mm), 0.0])
    return dict(f=focal, c=center, R=rot, t=camera_translation(rot, position), size=np.array([h, w]))


def camera_translation(rotation: Any, position: Any) -> np.ndarray:
    """The `t` of official.ops.camera.world_to_camera for a camera at world `position` with `rotation`:
    3DMPPE's world2cam is X_cam = R (X_world - t), so t is the camera centre itself (the test checks
    that world_to_camera maps `position` to the origin)."""
    del rotation
    return np.asarray(position, np.float64).copy()


def look_at(position: Any, target: Any) -> np.ndarray:
    """World->camera rotation (rows: camera x, y, z in world) of a camera at `position` looking at
    `target`, with world y down and no roll (camera y is the projection of world down)."""
    z = np.asarray(target, np.float64) - np.asarray(position, np.float64)
    z /= np.linalg.norm(z)
    x = np.cross(np.array([0.0, 1.0, 0.0]), z)  # horizontal, to the right; y = z x x then points down
    x /= np.linalg.norm(x)
    return np.stack([x, np.cross(z, x), z])


def place_people(rng: np.random.Generator, skeleton: Skeleton, camera: dict[str, np.ndarray], count: int,
                 depth_mm: tuple[float, float] = (2000.0, 8000.0), max_angle_deg: float = 60.0,
                 margin: float = 0.1, tries: int = 50) -> list[np.ndarray]:
    """`count` upright people in WORLD coordinates (mm, [J, 3] each): the root at a camera depth in
    depth_mm, projecting inside the image (at least `margin` of the size from the border), roots at
    least MIN_ROOT_DISTANCE_MM apart (fewer people when `tries` candidate roots per person leave no room)."""
    cam = _camera_ops()
    h, w = (int(v) for v in camera["size"])
    uv = rng.uniform([margin * w, margin * h], [(1 - margin) * w, (1 - margin) * h], (count * tries, 2))
    depth = rng.uniform(*depth_mm, count * tries)
    candidates = _np(cam.back_project(uv, depth, _f64(camera["f"]), _f64(camera["c"])))  # one call
    roots: list[np.ndarray] = []
    for root in candidates:  # candidates in draw order; the first `count` that keep their distance
        if len(roots) == count:
            break
        if all(np.linalg.norm(root - r) >= MIN_ROOT_DISTANCE_MM for r in roots):
            roots.append(root)
    if not roots:
        return []
    roots_world = _np(cam.camera_to_world(np.stack(roots), _f64(camera["R"]), _f64(camera["t"])))
    return [random_pose(skeleton, rng, max_angle_deg) + r for r in roots_world]


def person_colors(rng: np.random.Generator, count: int) -> list[tuple[int, int, int]]:
    """`count` saturated colours with evenly spaced hues (random start), one per person."""
    start = rng.random()
    return [tuple(int(round(255 * v)) for v in colorsys.hsv_to_rgb((start + i / count) % 1.0, 0.85, 0.9))
            for i in range(count)]  # type: ignore[misc]


def background(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """float32 [H, W, 3] low-saturation grey: a random linear gradient plus pixel noise."""
    h, w = size
    gx, gy = rng.uniform(-40, 40, 2)
    grey = (rng.uniform(90, 160) + gx * np.arange(w, dtype=np.float32)[None, :] / w
            + gy * np.arange(h, dtype=np.float32)[:, None] / h)
    tint = rng.uniform(-8, 8, 3).astype(np.float32)
    return grey[..., None] + tint + 3.0 * rng.standard_normal((h, w, 3), dtype=np.float32)


def _capsule(canvas: np.ndarray, labels: np.ndarray, a: np.ndarray, b: np.ndarray, radius: float,
             color: np.ndarray, label: int) -> None:
    """Paints pixels whose centre (integer coordinates) lies within `radius` of segment a-b."""
    h, w = labels.shape
    x0, y0 = (max(0, math.floor(min(a[i], b[i]) - radius)) for i in (0, 1))
    x1, y1 = min(w - 1, math.ceil(max(a[0], b[0]) + radius)), min(h - 1, math.ceil(max(a[1], b[1]) + radius))
    if x1 < x0 or y1 < y0:
        return
    dx = np.arange(x0, x1 + 1, dtype=np.float64)[None, :] - a[0]  # broadcast rows x columns
    dy = np.arange(y0, y1 + 1, dtype=np.float64)[:, None] - a[1]
    d = b - a
    length2 = float(d @ d)
    if length2 > 0:
        t = np.clip((dx * d[0] + dy * d[1]) / length2, 0.0, 1.0)
        inside = (dx - t * d[0]) ** 2 + (dy - t * d[1]) ** 2 <= radius**2
    else:
        inside = dx**2 + dy**2 <= radius**2
    canvas[y0:y1 + 1, x0:x1 + 1][inside] = color
    labels[y0:y1 + 1, x0:x1 + 1][inside] = label


def render_people(image_hw: tuple[int, int], joints_img: list[Any], skeleton: Skeleton,
                  colors: list[tuple[int, int, int]], depths: list[Any] | None = None,
                  radii_px: list[float] | None = None, background_rgb: np.ndarray | None = None,
                  return_labels: bool = False) -> Any:
    """uint8 [H, W, 3] image of people drawn as thick limbs (and int32 [H, W] labels when asked:
    0 background, p + 1 where person p is on top).

    joints_img: per person [J, 2] pixel coordinates (pixel centres at integers); depths: per person [J]
    camera depths (mm) for the painter's order and shading (None: drawn in list order, flat colour);
    radii_px: per person limb radius in pixels (default 3).
    """
    h, w = image_hw
    canvas = np.full((h, w, 3), 128.0, np.float32) if background_rgb is None else background_rgb.copy()
    labels = np.zeros((h, w), np.int32)
    segments = []  # (depth, person, a, b, shade)
    for p, pts in enumerate(joints_img):
        pts = np.asarray(pts, np.float64)
        z = None if depths is None else np.asarray(depths[p], np.float64)
        for a, b in skeleton.limbs:
            depth = 0.0 if z is None else 0.5 * (z[a] + z[b])
            shade = 1.0 if z is None else 1.0 - 0.35 * float(np.clip((depth - z[skeleton.root]) / 500.0, -1, 1))
            segments.append((depth, p, pts[a], pts[b], shade))
    if depths is not None:
        segments.sort(key=lambda s: -s[0])  # far first: nearer limbs are painted over farther ones
    for _, p, a, b, shade in segments:
        radius = 3.0 if radii_px is None else float(radii_px[p])
        color = np.clip(np.asarray(colors[p], np.float32) * shade, 0, 255)
        _capsule(canvas, labels, a, b, radius, color, p + 1)
        for end in (a, b):  # joint discs at both ends, so a joint is drawn with each of its limbs
            _capsule(canvas, labels, end, end, radius * JOINT_RADIUS_MM / LIMB_RADIUS_MM, color, p + 1)
    image = np.clip(np.round(canvas), 0, 255).astype(np.uint8)
    return (image, labels) if return_labels else image


def visibility(joints_img: np.ndarray, labels: np.ndarray, person: int) -> np.ndarray:
    """int32 [J]: 1 where the joint is inside the image and its (rounded) pixel shows `person`."""
    h, w = labels.shape
    u, v = np.round(joints_img[:, 0]).astype(int), np.round(joints_img[:, 1]).astype(int)
    inside = (u >= 0) & (u < w) & (v >= 0) & (v < h)
    vis = np.zeros(len(joints_img), np.int32)
    vis[inside] = labels[v[inside], u[inside]] == person + 1
    return vis


def person_box(joints_img: np.ndarray, radius_px: float, image_hw: tuple[int, int]) -> np.ndarray:
    """float64 [4] (x, y, w, h): the joints' extent grown by the joint disc radius, clipped to the image."""
    h, w = image_hw
    pad = radius_px * JOINT_RADIUS_MM / LIMB_RADIUS_MM
    x0, y0 = np.clip(joints_img.min(0) - pad, 0, [w, h])
    x1, y1 = np.clip(joints_img.max(0) + pad, 0, [w, h])
    return np.array([x0, y0, x1 - x0, y1 - y0])


def render_scene(rng: np.random.Generator, skeleton: Skeleton, camera: dict[str, np.ndarray],
                 people_world: list[np.ndarray], colors: list[tuple[int, int, int]] | None = None) -> dict[str, Any]:
    """Projects world-space people with `camera` and draws them (see `scene` for the returned dict);
    colors: one per person (default: `person_colors` from rng)."""
    cam = _camera_ops()
    size = tuple(int(v) for v in camera["size"])
    if people_world:  # one camera call for all people
        people_cam = list(_np(cam.world_to_camera(np.stack(people_world), _f64(camera["R"]), _f64(camera["t"]))))
        people_img = list(project(np.stack(people_cam), camera["f"], camera["c"]))
    else:
        people_cam, people_img = [], []
    fmean = float(np.mean(camera["f"]))
    radii = [fmean * LIMB_RADIUS_MM / pc[skeleton.root, 2] for pc in people_cam]
    colors = colors if colors is not None else person_colors(rng, max(1, len(people_cam)))
    image, labels = render_people(size, people_img, skeleton, colors,
                                  [pc[:, 2] for pc in people_cam], radii, background(rng, size),
                                  return_labels=True)
    people = [dict(keypoints_world=pw, keypoints_cam=pc, keypoints_img=pi, keypoints_vis=visibility(pi, labels, i),
                   bbox=person_box(pi, r, size))
              for i, (pw, pc, pi, r) in enumerate(zip(people_world, people_cam, people_img, radii, strict=True))]
    return dict(image=image, labels=labels, f=camera["f"], c=camera["c"], R=camera["R"], t=camera["t"],
                people=people)


def scene(rng: np.random.Generator, skeleton: Skeleton, people: tuple[int, int] = (2, 4),
          depth_mm: tuple[float, float] = (2000.0, 8000.0), image_size: tuple[int, int] = (512, 512),
          f: float = 1500.0, max_angle_deg: float = 60.0) -> dict[str, Any]:
    """One multi-person image: dict(image uint8 [H, W, 3], labels, f [2], c [2], R, t, people=[dict(
    keypoints_world, keypoints_cam [J, 3] mm, keypoints_img [J, 2] px, keypoints_vis [J], bbox [x, y, w, h])]).

    f is the focal length for a 512-pixel-high image and scales with image_size (a 256 x 256 scene is the
    512 x 512 one at half resolution)."""
    camera = random_camera(rng, f * image_size[0] / 512.0, image_size)
    count = int(rng.integers(people[0], people[1] + 1))
    world = place_people(rng, skeleton, camera, count, depth_mm, max_angle_deg)
    return render_scene(rng, skeleton, camera, world)
