"""The spec card's synthetic crowd: 12 walking people (23 joints, feet on z = 0) seen by 2-3 cameras.

World units are metres, z up, the ground is z = 0. Every person is one fixed template (the bone lengths
below, not measured from any dataset) with a random yaw and walking stride; the legs swing about the hips
and the arms opposite, so the bone lengths stay fixed. Cameras: pinhole, f = 1000 px, 1280 x 720, centre
3 m above the ground on a circle around the crowd, looking at its middle (spec "Data" fixture). Each view's
detections are AlphaPose results: one record per visible person, 69 floats (x, y, score), score 0.9 and
Gaussian pixel noise; a few joints per view are "occluded": score 0.05 and a wrong 2D guess.

`tools/make_crowd_views.py` writes what `make_crowd` returns in the on-disk layout the pipeline reads.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from official.ops.camera import intrinsics_matrix, projection_matrix
from research.three_d.crowd3dpose.geometry import project

# Body template (metres) in the person frame x forward, y left, z up, before the legs and arms swing:
# (joint, x, y, z). Ankles 8 cm above the ground; heel and toes on the ground.
_HEAD = ((0, 0.09, 0.0, 1.62), (1, 0.07, 0.035, 1.66), (2, 0.07, -0.035, 1.66), (3, 0.0, 0.08, 1.63),
         (4, 0.0, -0.08, 1.63))
SHOULDER_Y, SHOULDER_Z, HIP_Y, HIP_Z = 0.18, 1.42, 0.10, 0.92
UPPER_ARM, FOREARM, THIGH, SHIN = 0.29, 0.25, 0.42, 0.42
ANKLE_Z = 0.08
_FOOT = ((0.17, 0.02, -ANKLE_Z), (0.14, 0.07, -ANKLE_Z), (-0.05, 0.0, -ANKLE_Z))  # big toe, small toe, heel
IMAGE_SIZE = (1280, 720)  # (width, height)
FOCAL = 1000.0


def person(yaw: float, stride: float, position: np.ndarray) -> np.ndarray:
    """(23, 3) joints in metres: the template walking with feet `stride` m apart along its heading."""
    joints = np.zeros((23, 3))
    for j, x, y, z in _HEAD:
        joints[j] = (x, y, z)
    leg = THIGH + SHIN
    theta = np.arcsin(np.clip(stride / 2.0 / leg, -0.9, 0.9))
    pelvis = ANKLE_Z + leg * np.cos(theta)
    drop = HIP_Z - pelvis  # the body sinks by this much when the legs spread
    joints[:5, 2] -= drop
    for side, sign in ((0, 1.0), (1, -1.0)):  # left, right
        swing = sign * theta  # left leg forward, right back
        hip = np.array([0.0, sign * HIP_Y, pelvis])
        direction = np.array([np.sin(swing), 0.0, -np.cos(swing)])
        joints[11 + side] = hip
        joints[13 + side] = hip + THIGH * direction
        ankle = hip + leg * direction
        joints[15 + side] = ankle
        for k, (fx, fy, fz) in enumerate(_FOOT):
            joints[17 + 3 * side + k] = ankle + (fx, sign * fy, fz)
        shoulder = np.array([0.0, sign * SHOULDER_Y, SHOULDER_Z - drop])
        arm = np.array([np.sin(-0.8 * swing), 0.0, -np.cos(-0.8 * swing)])
        joints[5 + side] = shoulder
        joints[7 + side] = shoulder + UPPER_ARM * arm
        joints[9 + side] = shoulder + (UPPER_ARM + FOREARM) * arm
    c, s = np.cos(yaw), np.sin(yaw)
    rotation = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return joints @ rotation.T + np.array([position[0], position[1], 0.0])


def look_at(center: np.ndarray, target: np.ndarray) -> np.ndarray:
    """World-to-camera rotation (rows: image right, image down, viewing direction) for a level camera."""
    forward = (target - center) / np.linalg.norm(target - center)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    return np.stack([right, np.cross(forward, right), forward])


@dataclasses.dataclass
class Camera:
    name: str
    K: np.ndarray
    R: np.ndarray
    t: np.ndarray
    P: np.ndarray
    size: tuple[int, int] = IMAGE_SIZE


def make_cameras(num_cameras: int = 3, distance: float = 7.0, height: float = 3.0,
                 azimuths_deg: tuple[float, ...] = (0.0, 100.0, 210.0, 300.0)) -> list[Camera]:
    """Cameras on a circle of `distance` m around the origin, 3 m up, at the given azimuths (degrees)."""
    azimuths = np.deg2rad(azimuths_deg)[:num_cameras]
    k = np.asarray(intrinsics_matrix(np.array([FOCAL, FOCAL]), np.array(IMAGE_SIZE, np.float64) / 2.0), np.float64)
    cameras = []
    for i, a in enumerate(azimuths):
        center = np.array([distance * np.cos(a), distance * np.sin(a), height])
        r = look_at(center, np.array([0.0, 0.0, 0.6]))
        t = -r @ center
        p = np.asarray(projection_matrix(k, r, t), np.float64)
        cameras.append(Camera(f"C{i}", k, r, t, p))
    return cameras


def place(rng: np.random.Generator, count: int, half_extent: float = 2.0, min_gap: float = 0.7) -> np.ndarray:
    """(count, 2) ground positions in [-half_extent, half_extent]^2, at least min_gap m apart."""
    out: list[np.ndarray] = []
    while len(out) < count:
        p = rng.uniform(-half_extent, half_extent, 2)
        if all(np.linalg.norm(p - q) >= min_gap for q in out):
            out.append(p)
    return np.stack(out)


@dataclasses.dataclass
class CrowdFrames:
    cameras: list[Camera]
    poses: np.ndarray  # (F, N, 23, 3) ground truth in metres
    detections: list[list[list[dict]]]  # [camera][frame] -> AlphaPose records (shuffled)
    person_of: list[list[dict[int, int]]]  # [camera][frame] -> {record id: person index}


def make_crowd(seed: int = 0, num_people: int = 12, num_cameras: int = 3, frames: int = 3, noise: float = 1.0,
               occluded_per_view: int = 3, score: float = 0.9, occluded_score: float = 0.05,
               azimuths_deg: tuple[float, ...] = (0.0, 100.0, 210.0, 300.0)) -> CrowdFrames:
    """People walk 0.05 m per frame along their heading; every view sees everyone (the crowd fits)."""
    rng = np.random.default_rng(seed)
    cameras = make_cameras(num_cameras, azimuths_deg=azimuths_deg)
    start = place(rng, num_people)
    yaw = rng.uniform(-np.pi, np.pi, num_people)
    phase = rng.uniform(0.0, 2 * np.pi, num_people)
    poses = np.zeros((frames, num_people, 23, 3))
    for f in range(frames):
        for n in range(num_people):
            heading = np.array([np.cos(yaw[n]), np.sin(yaw[n])])
            stride = 0.35 * np.sin(phase[n] + 0.6 * f)
            poses[f, n] = person(yaw[n], stride, start[n] + 0.05 * f * heading)
    detections, person_of = [], []
    next_id = 0
    for cam in cameras:
        per_frame, ids_frame = [], []
        for f in range(frames):
            uv = project(cam.P, poses[f]) + rng.normal(0.0, noise, (num_people, 23, 2))
            scores = np.full((num_people, 23), score)
            for _ in range(occluded_per_view):
                n, j = rng.integers(num_people), rng.integers(23)
                scores[n, j] = occluded_score
                uv[n, j] += rng.uniform(15.0, 30.0, 2) * rng.choice([-1.0, 1.0], 2)
            records, ids = [], {}
            for n in rng.permutation(num_people):
                keypoints = np.concatenate([uv[n], scores[n, :, None]], -1).reshape(-1)
                x0, y0 = uv[n].min(0)
                x1, y1 = uv[n].max(0)
                records.append({"image_id": f"{f:08d}.png", "id": next_id, "category_id": 1,
                                "keypoints": [round(float(v), 4) for v in keypoints],
                                "score": float(score), "box": [float(x0), float(y0), float(x1 - x0), float(y1 - y0)]})
                ids[next_id] = int(n)
                next_id += 1
            per_frame.append(records)
            ids_frame.append(ids)
        detections.append(per_frame)
        person_of.append(ids_frame)
    return CrowdFrames(cameras, poses, detections, person_of)
