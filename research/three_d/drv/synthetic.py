"""The DRV fixture scene (spec card "Data"): a sphere and a box as a raw volume, cameras around it, and an
independent analytic sphere renderer (numpy ray-sphere intersection + Lambertian, no volume involved).

Everything here is numpy float64; `render_views` calls our keras.ops marcher in float64.
Cameras are COLMAP world-to-camera (R, t) looking at the origin, z forward, y down, from a radius-3 orbit.
"""

from __future__ import annotations

import math

import numpy as np

from research.three_d.drv import render

SPHERE_CENTRE = np.array([-0.25, 0.0, 0.05])
SPHERE_RADIUS = 0.5
BOX_CENTRE = np.array([0.45, 0.1, -0.2])
BOX_HALF = np.array([0.25, 0.3, 0.35])
SPHERE_ALBEDO = np.array([0.8, 0.45, 0.3])
BOX_ALBEDO = np.array([0.3, 0.6, 0.85])
SPHERE_ROUGHNESS = 0.3
BOX_ROUGHNESS = 0.6
INTENSITY = 12.0  # point light: radiance ~ albedo/pi * I / d^2 ~ 0.3-0.7 at d ~ 2.5


def logit(p):
    p = np.asarray(p, dtype=np.float64)
    return np.log(p) - np.log1p(-p)


def grid_points(resolution: int, box_min: float = -1.0, box_max: float = 1.0) -> np.ndarray:
    """(R, R, R, 3) vertex positions indexed [ix, iy, iz] (render.py's layout)."""
    axis = np.linspace(box_min, box_max, resolution)
    return np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1)


def sphere_sdf(x, centre=SPHERE_CENTRE, radius=SPHERE_RADIUS):
    return np.linalg.norm(x - centre, axis=-1) - radius


def box_sdf(x, centre=BOX_CENTRE, half=BOX_HALF):
    q = np.abs(x - centre) - half
    return np.linalg.norm(np.maximum(q, 0.0), axis=-1) + np.minimum(q.max(-1), 0.0)


def _raw_volume(sdf, normal, albedo, roughness, voxel, sharpness):
    """Stacks the 8 raw channels: alpha logit = -sharpness * sdf / voxel, normal, albedo / roughness logits."""
    alpha = -sharpness * sdf / voxel
    return np.concatenate(
        [alpha[..., None], normal, logit(np.clip(albedo, 1e-4, 1 - 1e-4)), logit(roughness)[..., None]], axis=-1
    )


def sphere_volume(resolution: int = 64, centre=(0.0, 0.0, 0.0), radius: float = 0.6, albedo=(0.7, 0.7, 0.7),
                  roughness: float = 0.5, sharpness: float = 1000.0, box=(-1.0, 1.0)) -> np.ndarray:
    """Raw (R, R, R, 8) volume of one sphere (radial normals, constant albedo): the check-3 scene."""
    x = grid_points(resolution, *box)
    centre = np.asarray(centre, np.float64)
    sdf = sphere_sdf(x, centre, radius)
    d = x - centre
    normal = d / np.maximum(np.linalg.norm(d, axis=-1, keepdims=True), 1e-9)
    voxel = (box[1] - box[0]) / (resolution - 1)
    alb = np.broadcast_to(np.asarray(albedo, np.float64), x.shape)
    return _raw_volume(sdf, normal, alb, np.full(x.shape[:-1], roughness), voxel, sharpness)


def scene_volume(resolution: int = 64, sharpness: float = 1000.0) -> np.ndarray:
    """Raw (R, R, R, 8) ground truth: the sphere and the box with their albedo / roughness."""
    x = grid_points(resolution)
    s, b = sphere_sdf(x), box_sdf(x)
    sdf = np.minimum(s, b)

    def scene_sdf(p):
        return np.minimum(sphere_sdf(p), box_sdf(p))

    h = 1e-4  # normals: central differences of the analytic scene SDF
    normal = np.stack([(scene_sdf(x + h * e) - scene_sdf(x - h * e)) / (2 * h) for e in np.eye(3)], axis=-1)
    normal /= np.maximum(np.linalg.norm(normal, axis=-1, keepdims=True), 1e-9)
    on_sphere = (s <= b)[..., None]
    albedo = np.where(on_sphere, SPHERE_ALBEDO, BOX_ALBEDO)
    rough = np.where(on_sphere[..., 0], SPHERE_ROUGHNESS, BOX_ROUGHNESS)
    return _raw_volume(sdf, normal, albedo, rough, 2.0 / (resolution - 1), sharpness)


def look_at(centre, target=(0.0, 0.0, 0.0), up=(0.0, 0.0, 1.0)):
    """COLMAP world-to-camera (R, t) of a camera at `centre` looking at `target` (x right, y down, z forward)."""
    centre = np.asarray(centre, np.float64)
    f = np.asarray(target, np.float64) - centre
    f /= np.linalg.norm(f)
    r = np.cross(f, up)
    r /= np.linalg.norm(r)
    d = np.cross(f, r)
    rot = np.stack([r, d, f])
    return rot, -rot @ centre


def orbit_cameras(num_views: int, radius: float = 3.0, seed: int = 0):
    """num_views camera centres spread over the upper and lower sphere (golden-angle spiral, jittered)."""
    rng = np.random.default_rng(seed)
    k = np.arange(num_views) + 0.5
    z = 1.0 - 2.0 * k / num_views
    z = 0.85 * z  # keep away from the poles (up vector)
    phi = k * math.pi * (3.0 - math.sqrt(5.0)) + rng.uniform(-0.1, 0.1, num_views)
    rho = np.sqrt(1.0 - z * z)
    centres = radius * np.stack([rho * np.cos(phi), rho * np.sin(phi), z], axis=-1)
    rots, trans = zip(*(look_at(c) for c in centres), strict=False)
    return np.stack(rots), np.stack(trans), centres


def intrinsics(size: int = 64, fov_degrees: float = 40.0) -> np.ndarray:
    f = 0.5 * size / math.tan(math.radians(fov_degrees) / 2)
    return np.array([f, f, size / 2, size / 2])


def render_views(volume, rotations, translations, intr, size: int, lights=None, num_samples: int = 128,
                 intensity: float = INTENSITY, specular: bool = True, collocated: bool = True) -> np.ndarray:
    """Renders (V, size, size, 3) float64 images of a raw volume with our marcher, one view at a time."""
    images = []
    for i in range(len(rotations)):
        o, d = render.camera_rays(rotations[i : i + 1], translations[i : i + 1], intr[None], size, size)
        light = o if lights is None else np.broadcast_to(lights[i], o.shape)
        rgb, _ = render.render_rays(volume, o, d, light, intensity, num_samples=num_samples, specular=specular,
                                    collocated=collocated)
        images.append(np.asarray(rgb).reshape(size, size, 3))
    return np.stack(images)


def analytic_lambertian_sphere(rotation, translation, intr, size: int, centre, radius: float, albedo,
                               intensity: float) -> np.ndarray:
    """Independent reference: ray-sphere hits shaded I a/pi cos(theta)/d^2 (light at the camera), black elsewhere."""
    centre = np.asarray(centre, np.float64)
    cam = -rotation.T @ translation
    v, u = np.meshgrid(np.arange(size) + 0.5, np.arange(size) + 0.5, indexing="ij")
    d_cam = np.stack([(u - intr[2]) / intr[0], (v - intr[3]) / intr[1], np.ones_like(u)], -1)
    d = d_cam @ rotation
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    oc = cam - centre
    b = d @ oc
    disc = b * b - (oc @ oc - radius * radius)
    hit = disc > 0
    t = -b - np.sqrt(np.maximum(disc, 0.0))
    x = cam + t[..., None] * d
    n = (x - centre) / radius
    to_light = cam - x
    dist2 = np.sum(to_light**2, -1)
    cos = np.maximum(np.sum(n * to_light, -1) / np.sqrt(dist2), 0.0)
    img = np.asarray(albedo)[None, None] / math.pi * (cos * intensity / dist2)[..., None]
    return np.where(hit[..., None], img, 0.0)


def write_fixture(root: str, num_views: int = 24, size: int = 64, resolution: int = 64, num_samples: int = 128,
                  novel_lights: int = 2, seed: int = 0) -> dict:
    """Writes the card's fixture in the real format: ROOT/images/view_XXX.png (16-bit linear RGB),
    ROOT/{cameras,images,points3D}.txt (COLMAP text) and ROOT/lights.json (the novel-light views' lights).

    The first num_views views are collocated (light = camera centre); novel_lights more views have the light
    moved 1.5 units sideways. Rendering is float64 with our marcher. Returns the arrays written.
    """
    import json
    import os

    import tensorflow as tf

    from official.data.colmap import write_colmap_text

    total = num_views + novel_lights
    rots, trans, centres = orbit_cameras(total, seed=seed)
    intr = intrinsics(size)
    lights = centres.copy()
    for k in range(num_views, total):
        right = rots[k][0]
        lights[k] = centres[k] + 1.5 * right
    volume = scene_volume(resolution)
    images = np.concatenate([
        render_views(volume, rots[:num_views], trans[:num_views], intr, size, num_samples=num_samples),
        render_views(volume, rots[num_views:], trans[num_views:], intr, size, lights=lights[num_views:],
                     num_samples=num_samples, collocated=False),
    ]) if novel_lights else render_views(volume, rots, trans, intr, size, num_samples=num_samples)
    names = [f"view_{k:03d}.png" for k in range(total)]
    os.makedirs(os.path.join(root, "images"), exist_ok=True)
    for name, img in zip(names, images, strict=False):
        png = tf.io.encode_png(np.round(np.clip(img, 0, 1) * 65535).astype(np.uint16))
        tmp = os.path.join(root, "images", name + ".tmp")
        tf.io.write_file(tmp, png)
        os.replace(tmp, os.path.join(root, "images", name))
    write_colmap_text(root, rots, trans, np.tile(intr, (total, 1)), (size, size), names)
    with open(os.path.join(root, "lights.json"), "w", encoding="utf-8") as f:
        json.dump({names[k]: lights[k].tolist() for k in range(num_views, total)}, f, indent=1)
    return {"images": images, "rotation": rots, "translation": trans, "intrinsics": intr, "light": lights,
            "names": names}
