"""DRV's differentiable volume ray marcher: camera rays, ray-box clipping, trilinear lookups, compositing.

Conventions (spec card "Method"; the paper has no code, so each choice below is ours and flagged in README):
- World frame; the scene lives in the axis-aligned box [box_min, box_max]^3 (a cube).
- Cameras are COLMAP's: x_cam = R x_world + t (world-to-camera), camera centre c = -R^T t, x right,
  y down, z forward; pixel (column u, row v) has its centre at (u + 0.5, v + 0.5) (COLMAP's convention).
- Volumes are (R, R, R, C) arrays indexed [ix, iy, iz] with vertex i at box_min + i * (box_max - box_min) / (R - 1)
  (vertex-aligned, "align_corners"); points outside are clamped to the border.
- Opacity per step (unverified: the card says "optionally scaled by step length"): the stored alpha a = sigmoid(z)
  is the opacity of one voxel length; a step of length delta has alpha = 1 - (1 - a)^(delta / voxel), i.e.
  optical depth tau = (delta / voxel) * softplus(z). Transmittance T_k = prod_{j<k}(1 - alpha_j) = exp(-sum_{j<k} tau_j)
  (front to back, the current sample excluded).
Only keras.ops: runs under TensorFlow (graphs, XLA, SavedModel) and JAX; float64 inputs stay float64 on TF.
"""

from __future__ import annotations

from keras import ops

from research.three_d.drv.brdf import normalize, point_light_radiance

EPS = 1e-9
COLLOCATED_TOL = 1e-4  # world units: a light this close to the camera centre is the collocated flash


def camera_rays(rotation, translation, intrinsics, height: int, width: int):
    """Per-pixel rays of COLMAP cameras.

    rotation (B, 3, 3) world-to-camera, translation (B, 3), intrinsics (B, 4) = (fx, fy, cx, cy).
    Returns origins (B, H*W, 3) (the camera centres) and unit directions (B, H*W, 3), pixels row-major.
    """
    rotation = ops.convert_to_tensor(rotation)
    dtype = rotation.dtype
    v, u = ops.meshgrid(ops.arange(height, dtype=dtype), ops.arange(width, dtype=dtype), indexing="ij")
    uv = ops.stack([ops.reshape(u, (-1,)), ops.reshape(v, (-1,))], axis=-1) + 0.5
    return pixel_rays(rotation, translation, intrinsics, ops.expand_dims(uv, 0))


def pixel_rays(rotation, translation, intrinsics, uv):
    """Rays through image points uv (B or 1, N, 2) = (column, row) in pixels (pixel centres at +0.5).

    rotation (B, 3, 3) world-to-camera, translation (B, 3), intrinsics (B, 4). Returns origins and unit
    directions (B, N, 3). The training reader samples random pixels with it; camera_rays takes all of them.
    """
    rotation = ops.convert_to_tensor(rotation)
    dtype = rotation.dtype
    translation = ops.cast(translation, dtype)
    intrinsics = ops.cast(intrinsics, dtype)
    uv = ops.cast(uv, dtype)
    fx, fy, cx, cy = (intrinsics[:, i : i + 1] for i in range(4))
    u, v = uv[..., 0], uv[..., 1]
    d_cam = ops.stack([(u - cx) / fx, (v - cy) / fy, ops.ones_like(u + cx)], axis=-1)  # (B, N, 3)
    # world direction = R^T d_cam: row-vector form d_cam @ R.
    d_world = ops.matmul(d_cam, rotation)
    d_world = d_world / ops.sqrt(ops.sum(d_world * d_world, axis=-1, keepdims=True))
    centre = -ops.squeeze(ops.matmul(ops.expand_dims(translation, 1), rotation), 1)  # -R^T t, (B, 3)
    origins = ops.broadcast_to(ops.expand_dims(centre, 1), ops.shape(d_world))
    return origins, d_world


def camera_centres(rotation, translation):
    """(B, 3, 3), (B, 3) world-to-camera -> (B, 3) camera centres c = -R^T t."""
    rotation = ops.convert_to_tensor(rotation)
    translation = ops.cast(translation, rotation.dtype)
    return -ops.squeeze(ops.matmul(ops.expand_dims(translation, 1), rotation), 1)


def ray_box_intersect(origins, directions, box_min: float, box_max: float):
    """Slab test against the cube [box_min, box_max]^3.

    origins, directions (..., 3). Returns t_near (...), t_far (...), hit (...) bool; t_near is clamped to
    >= 0 (the segment in front of the origin) and t_near = t_far = 0 where the ray misses.
    """
    directions = ops.convert_to_tensor(directions)
    origins = ops.cast(origins, directions.dtype)
    # Axis-parallel components: a tiny same-sign value keeps 1/d finite (the slab then spans +-huge).
    tiny = ops.cast(1e-12, directions.dtype)
    safe = ops.where(ops.abs(directions) < tiny, ops.where(directions < 0, -tiny, tiny), directions)
    inv = 1.0 / safe
    t0 = (box_min - origins) * inv
    t1 = (box_max - origins) * inv
    t_near = ops.max(ops.minimum(t0, t1), axis=-1)
    t_far = ops.min(ops.maximum(t0, t1), axis=-1)
    t_near = ops.maximum(t_near, 0.0)
    hit = t_far > t_near
    zero = ops.zeros_like(t_near)
    return ops.where(hit, t_near, zero), ops.where(hit, t_far, zero), hit


def sample_along_rays(origins, directions, t_near, t_far, num_samples: int):
    """num_samples midpoints of equal steps in [t_near, t_far] (a fixed count: static shapes for XLA).

    Returns points (..., S, 3), t (..., S) and step lengths delta (..., 1) (0 for rays that miss the box).
    """
    dtype = directions.dtype
    delta = ops.expand_dims((t_far - t_near) / num_samples, -1)  # (..., 1)
    k = ops.arange(num_samples, dtype=dtype) + 0.5
    t = ops.expand_dims(t_near, -1) + k * delta  # (..., S)
    points = ops.expand_dims(origins, -2) + ops.expand_dims(t, -1) * ops.expand_dims(directions, -2)
    return points, t, delta


def trilinear_sample(volume, points, box_min: float, box_max: float):
    """Trilinear lookup written by hand: 8 corner gathers and weights (no resampler op in TF 2.21).

    volume (R, R, R, C) indexed [ix, iy, iz]; points (..., 3) world. Returns (..., C).
    """
    volume = ops.convert_to_tensor(volume)
    res = volume.shape[0]
    channels = volume.shape[-1]
    points = ops.cast(points, volume.dtype)
    lead = ops.shape(points)[:-1]
    p = ops.reshape(points, (-1, 3))
    g = (p - box_min) / (box_max - box_min) * (res - 1)  # continuous grid coordinates
    g = ops.clip(g, 0.0, float(res - 1))
    g0 = ops.clip(ops.floor(g), 0.0, float(res - 2))  # lower corner; upper = lower + 1 (g = R-1 -> weight 1)
    w1 = g - g0  # weight of the upper corner per axis
    w0 = 1.0 - w1
    i0 = ops.cast(g0, "int32")
    flat = ops.reshape(volume, (-1, channels))
    out = 0.0
    for dx in (0, 1):
        for dy in (0, 1):
            for dz in (0, 1):
                index = ((i0[:, 0] + dx) * res + (i0[:, 1] + dy)) * res + (i0[:, 2] + dz)
                weight = (
                    (w1[:, 0] if dx else w0[:, 0]) * (w1[:, 1] if dy else w0[:, 1]) * (w1[:, 2] if dz else w0[:, 2])
                )
                out = out + ops.expand_dims(weight, -1) * ops.take(flat, index, axis=0)
    return ops.reshape(out, tuple(lead) + (channels,))


def optical_depth(alpha_logit, delta, voxel_size: float):
    """Per-step optical depth tau = (delta / voxel) * softplus(z) = -log(1 - alpha_step) (see module doc)."""
    return (delta / voxel_size) * ops.softplus(alpha_logit)


def transmittance(tau):
    """T_k = exp(-sum_{j<k} tau_j) along the last axis: the light reaching sample k (k itself excluded)."""
    return ops.exp(-(ops.cumsum(tau, axis=-1) - tau))


def composite(tau, radiance, background=0.0, light_transmittance=None):
    """Front-to-back alpha compositing: C = sum_k T_k alpha_k T_l,k L_k + (1 - sum_k T_k alpha_k) * background.

    tau (..., S) optical depths; radiance (..., S, 3) shaded sample colours (without shadowing);
    light_transmittance (..., S) or None: None means a collocated light, T_l = T_k (spec card).
    Returns rgb (..., 3), weights T_k alpha_k (..., S) and T (..., S).
    """
    trans = transmittance(tau)
    alpha = 1.0 - ops.exp(-tau)
    weights = trans * alpha
    shadow = trans if light_transmittance is None else light_transmittance
    rgb = ops.sum(ops.expand_dims(weights * shadow, -1) * radiance, axis=-2)
    rgb = rgb + ops.expand_dims(1.0 - ops.sum(weights, axis=-1), -1) * background
    return rgb, weights, trans


# ---- the full per-ray renderer: volume channels -> fields -> shading -> compositing ----

CHANNELS = 8  # alpha logit 1, normal 3 (unnormalised), albedo logits 3, roughness logit 1 (spec card sizes)


def activate(raw):
    """Sampled raw channels (..., 8) -> alpha logit (...), unit normal (..., 3), albedo (..., 3), roughness (..., 1).

    Activations come AFTER trilinear interpolation (unverified: the paper decodes activated volumes), so a
    steep alpha logit gives a surface sharper than one voxel.
    """
    return (
        raw[..., 0],
        normalize(raw[..., 1:4]),
        ops.sigmoid(raw[..., 4:7]),
        ops.sigmoid(raw[..., 7:8]),
    )


def light_transmittance(volume, points, light_position, box_min, box_max, num_light_samples: int, start_offset,
                        warp=None):
    """T_l for non-collocated lights: a second march from each sample towards the light (O(S * S_l) lookups).

    points (..., S, 3); light_position broadcastable to points. The march starts `start_offset` (world
    units, ~1.5 voxels) from the sample so the surface does not shadow itself (unverified choice).
    warp: None or world points -> template points (the decoder's warp field; lookups at warp(points)).
    """
    voxel = (box_max - box_min) / (volume.shape[0] - 1)
    to_light = light_position - points
    dist = ops.sqrt(ops.sum(to_light * to_light, axis=-1, keepdims=True) + 1e-12)
    w = to_light / dist
    start = points + start_offset * w
    # The part of the shadow ray inside the box and before the light (border-clamped lookups outside it
    # would repeat the border voxels); empty when it misses the box.
    t_near, t_far, _ = ray_box_intersect(start, w, box_min, box_max)
    t_end = ops.maximum(ops.minimum(t_far, dist[..., 0] - start_offset), t_near)
    lpts, _, ldelta = sample_along_rays(start, w, t_near, t_end, num_light_samples)
    raw = trilinear_sample(volume[..., :1], lpts if warp is None else warp(lpts), box_min, box_max)[..., 0]
    tau = optical_depth(raw, ldelta, voxel)
    return ops.exp(-ops.sum(tau, axis=-1))


def render_rays(
    volume,
    origins,
    directions,
    light_position,
    intensity,
    *,
    box_min: float = -1.0,
    box_max: float = 1.0,
    num_samples: int = 64,
    background=0.0,
    specular: bool = True,
    collocated: bool | None = True,
    num_light_samples: int = 16,
    light_offset_voxels: float = 1.5,
    warp=None,
):
    """Colours of rays through a raw (R, R, R, 8) volume lit by a point light.

    origins, directions (..., 3); light_position (..., 3) per ray; intensity scalar.
    collocated=True uses T_l = T (light at the camera centre: the capture setting, no extra march); False
    marches shadow rays; None marches them and keeps T_l = T on rays whose light is within COLLOCATED_TOL of
    their origin (one graph for both kinds of request: the serving signature).
    warp: None, or a callable world points (..., 3) -> template points (..., 3) at which the volume is read
    (warp.mixture_warp); ray sampling, step lengths and shading positions stay in the world frame.
    Returns rgb (..., 3) and the compositing weights (..., S).
    """
    volume = ops.convert_to_tensor(volume)
    dtype = volume.dtype
    origins = ops.cast(origins, dtype)
    directions = ops.cast(directions, dtype)
    light_position = ops.cast(light_position, dtype)
    voxel = (box_max - box_min) / (volume.shape[0] - 1)
    t_near, t_far, _ = ray_box_intersect(origins, directions, box_min, box_max)
    points, _, delta = sample_along_rays(origins, directions, t_near, t_far, num_samples)
    raw = trilinear_sample(volume, points if warp is None else warp(points), box_min, box_max)
    alpha_logit, normal, albedo, roughness = activate(raw)
    tau = optical_depth(alpha_logit, delta, voxel)
    light = ops.expand_dims(light_position, -2)
    radiance = point_light_radiance(
        points, normal, albedo, roughness, ops.expand_dims(origins, -2), light, intensity, specular
    )
    t_light = None
    if collocated is not True:
        t_light = light_transmittance(
            volume, points, light, box_min, box_max, num_light_samples, light_offset_voxels * voxel, warp
        )
        if collocated is None:
            offset = light_position - origins
            at_camera = ops.sum(offset * offset, axis=-1, keepdims=True) < COLLOCATED_TOL**2
            t_light = ops.where(at_camera, transmittance(tau), t_light)
    rgb, weights, _ = composite(tau, radiance, background, t_light)
    return rgb, weights
