"""Human3.6M in the per-subject layout of the 3DMPPE release -> mppe3d-style tf.data (one person per image).

Layout (mks0601 3DMPPE_POSENET_RELEASE / 3DMPPE_ROOTNET_RELEASE data/Human36M/Human36M.py):
    images/s_01_act_02_subact_01_ca_01/s_01_act_02_subact_01_ca_01_000001.jpg   (file number = frame_idx + 1)
    annotations/Human36M_subject1_data.json      COCO-like: images {id, file_name, width, height, subject,
                                                 action_name, action_idx, subaction_idx, cam_idx, frame_idx},
                                                 annotations {id, image_id, bbox [x, y, w, h], keypoints_vis (17)}
    annotations/Human36M_subject1_camera.json    {cam_idx: {R 3x3, t 3 (mm), f 2, c 2}}
    annotations/Human36M_subject1_joint_3d.json  {action_idx: {subaction_idx: {frame_idx: 17 x 3 world mm}}}
Joints are `skeletons3d.H36M_17` (3DMPPE appends a Thorax in its loader; we do not). Camera frame joints
are `official.ops.camera.world_to_camera(world, R, t)` (3DMPPE world2cam: R (X - t), t the camera centre)
and image joints `camera.project(cam, f, c)` (cam2pixel), as 3DMPPE's loader computes them.

`load_human36m(root, subjects, sampling)` keeps images of `subjects` whose frame_idx % sampling == 0
(3DMPPE: every 5th frame for training, every 64th for testing; see official/evaluation/pose3d_protocols.py)
and returns `mppe3d.Mppe3dRecords` (max_people = 1) whose `metadata` holds subject, action_idx,
subaction_idx, cam_idx and frame_idx per image; `human36m_dataset` yields mppe3d's example dict plus those
five int32 keys. Validation (the mppe3d policy): a missing annotation file or image folder is a
`PathNotFoundError`, a JSON without `images` / `annotations`, a camera without R, t, f or c, or a field no
image carries is a `Human36MFormatError` naming the file and the field; single bad records are skipped
and counted: bad_image (fields missing or wrong), missing_image, no_joints (no joint_3d entry for its
action / subaction / frame), bad_joints (not 17 x 3 finite, or behind the camera), no_annotation. An
annotation without a usable bbox gets the projected joints' extent (the joints are what is evaluated).

`synthetic_subject` + `write_human36m` write this layout from `humans3d` people (tools/make_humans3d.py
--layout=h36m): one person seen by 4 cameras around it (PartAwarePose card: f = 1145 px, c = (500, 500),
1000 x 1000 images, 4-5 m away; scaled with image_size).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from absl import logging

from official.core.errors import BadValueError, PathNotFoundError, UserError
from official.data import humans3d, mppe3d
from official.data.skeletons3d import H36M_17

# 3DMPPE Human36M.py action_name; action_idx = position + 2 (files use act_02 ... act_16).
ACTIONS = ("Directions", "Discussion", "Eating", "Greeting", "Phoning", "Posing", "Purchases", "Sitting",
           "SittingDown", "Smoking", "Photo", "Waiting", "Walking", "WalkDog", "WalkTogether")
FIRST_ACTION_IDX = 2
SKIP_REASONS = ("bad_image", "missing_image", "no_joints", "bad_joints", "no_annotation")
METADATA_KEYS = ("subject", "action_idx", "subaction_idx", "cam_idx", "frame_idx")
_CAMERA_FIELDS = {"R": (3, 3), "t": (3,), "f": (2,), "c": (2,)}
_MAX_LOGGED = 50


class Human36MFormatError(UserError, ValueError):
    """A Human3.6M annotation file is not in the 3DMPPE layout; the message names the file and the field."""


def annotation_path(annot_dir: str, subject: int, kind: str) -> str:
    """annotations/Human36M_subject{S}_{data,camera,joint_3d}.json."""
    return os.path.join(annot_dir, f"Human36M_subject{subject}_{kind}.json")


def image_file_name(subject: int, action: int, subaction: int, cam: int, frame: int) -> str:
    """'s_01_act_02_subact_01_ca_01/s_01_act_02_subact_01_ca_01_000001.jpg' (numbered frame_idx + 1)."""
    folder = f"s_{subject:02d}_act_{action:02d}_subact_{subaction:02d}_ca_{cam:02d}"
    return f"{folder}/{folder}_{frame + 1:06d}.jpg"


# ----------------------------------------------------------------------------------------------------
# synthetic subject + writer


def synthetic_cameras(rng: np.random.Generator, image_size: int = 1000, distance_mm: tuple[float, float] = (4000, 5000),
                      height_mm: tuple[float, float] = (1200.0, 1800.0)) -> dict[int, dict[str, np.ndarray]]:
    """Cameras 1-4 around the world origin (roughly 45, 135, 225, 315 deg), looking at a point 900 mm above
    the floor (world y down, floor y = 0); f = 1145 px and c = (500, 500) for a 1000-pixel image."""
    scale = image_size / 1000.0
    cams = {}
    for cam in range(1, 5):
        angle = math.radians(45.0 + 90.0 * (cam - 1) + rng.uniform(-10, 10))
        dist = rng.uniform(*distance_mm)
        position = np.array([dist * math.sin(angle), -rng.uniform(*height_mm), -dist * math.cos(angle)])
        rot = humans3d.look_at(position, np.array([0.0, -900.0, 0.0]))
        fx = 1145.0 * scale * (1 + rng.uniform(-0.01, 0.01))
        cams[cam] = dict(R=rot, t=humans3d.camera_translation(rot, position),
                         f=np.array([fx, fx * (1 + rng.uniform(-0.01, 0.01))]),
                         c=np.array([500.0, 500.0]) * scale + rng.uniform(-2, 2, 2) * scale,
                         size=np.array([image_size, image_size]))
    return cams


def synthetic_subject(rng: np.random.Generator, subject: int, frames: int = 8, frame_step: int = 32,
                      image_size: int = 1000, actions: Sequence[int] = (2,), subactions: Sequence[int] = (1, 2),
                      max_angle_deg: float = 45.0) -> dict[str, Any]:
    """dict(cameras, joints {action: {subaction: {frame_idx: [17, 3] world mm}}}, images {(action,
    subaction, cam, frame): scene dict}) for `write_human36m`: per frame a random pose (joint limit
    max_angle_deg, PartAwarePose card: +-45) standing on the floor near the origin, seen by 4 cameras."""
    cams = synthetic_cameras(rng, image_size)
    colors = humans3d.person_colors(rng, 1)  # the subject looks the same in every view
    joints: dict[int, dict[int, dict[int, np.ndarray]]] = {}
    images = {}
    for action in actions:
        for sub in subactions:
            for k in range(frames):
                frame = k * frame_step
                pose = humans3d.random_pose(H36M_17, rng, max_angle_deg)
                offset = np.array([rng.uniform(-500, 500), -pose[:, 1].max(), rng.uniform(-500, 500)])
                world = pose + offset  # lowest joint on the floor
                joints.setdefault(action, {}).setdefault(sub, {})[frame] = world
                for cam, params in cams.items():
                    images[(action, sub, cam, frame)] = humans3d.render_scene(rng, H36M_17, params, [world], colors)
    return dict(cameras=cams, joints=joints, images=images)


def write_human36m(out_dir: str, subject: int, data: dict[str, Any]) -> int:
    """Writes one subject's images and three annotation files (module docstring); returns images written."""
    from PIL import Image

    annot_dir = os.path.join(out_dir, "annotations")
    os.makedirs(annot_dir, exist_ok=True)
    images, annotations = [], []
    for (action, sub, cam, frame), sc in sorted(data["images"].items()):
        name = image_file_name(subject, action, sub, cam, frame)
        path = os.path.join(out_dir, "images", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        Image.fromarray(sc["image"]).save(path, quality=95)
        image_id = subject * 1_000_000 + len(images)
        images.append(dict(id=image_id, file_name=name, width=int(sc["image"].shape[1]),
                           height=int(sc["image"].shape[0]), subject=subject,
                           action_name=ACTIONS[action - FIRST_ACTION_IDX], action_idx=action, subaction_idx=sub,
                           cam_idx=cam, frame_idx=frame))
        person = sc["people"][0]
        annotations.append(dict(id=image_id, image_id=image_id, bbox=np.asarray(person["bbox"], float).tolist(),
                                keypoints_vis=np.asarray(person["keypoints_vis"]).astype(int).tolist()))
    with open(annotation_path(annot_dir, subject, "data"), "w", encoding="utf-8") as f:
        json.dump(dict(images=images, annotations=annotations), f)
    cameras = {str(cam): {k: np.asarray(p[k], float).tolist() for k in _CAMERA_FIELDS}
               for cam, p in data["cameras"].items()}
    with open(annotation_path(annot_dir, subject, "camera"), "w", encoding="utf-8") as f:
        json.dump(cameras, f)
    joints = {str(a): {str(s): {str(fr): np.asarray(w, float).tolist() for fr, w in frames.items()}
                       for s, frames in subs.items()} for a, subs in data["joints"].items()}
    with open(annotation_path(annot_dir, subject, "joint_3d"), "w", encoding="utf-8") as f:
        json.dump(joints, f)
    return len(images)


# ----------------------------------------------------------------------------------------------------
# reader


def _read_json(path: str) -> Any:
    if not os.path.isfile(path):
        raise PathNotFoundError(f"{path}: annotation file not found")
    with open(path, encoding="utf-8") as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as err:
            raise Human36MFormatError(f"{path}: not valid JSON ({err})") from err


def _cameras(path: str) -> dict[int, dict[str, np.ndarray]]:
    raw = _read_json(path)
    if not isinstance(raw, dict) or not raw:
        raise Human36MFormatError(f"{path}: expected an object {{cam_idx: {{R, t, f, c}}}}")
    cams = {}
    for key, cam in raw.items():
        for field, shape in _CAMERA_FIELDS.items():
            value = cam.get(field) if isinstance(cam, dict) else None
            arr = None if value is None else np.asarray(value, np.float64)
            if arr is None or arr.shape != shape or not np.isfinite(arr).all():
                raise Human36MFormatError(f"{path}: camera '{key}' field '{field}' must be {shape} finite numbers, "
                                          f"got {value!r}"[:300])
        params = {field: np.asarray(cam[field], np.float64) for field in _CAMERA_FIELDS}
        if not (params["f"] > 0).all():
            raise Human36MFormatError(f"{path}: camera '{key}' field 'f' must be positive, got {cam['f']}")
        cams[int(key)] = params
    return cams


def load_human36m(root: str, subjects: Sequence[int], sampling: int = 1, image_dir: str | None = None,
                  check_images: bool = True) -> mppe3d.Mppe3dRecords:
    """Images of `subjects` with frame_idx % sampling == 0 as one-person mppe3d records (module docstring).

    root: the folder holding annotations/ (and images/ unless image_dir is given).
    """
    if sampling < 1:
        raise BadValueError(f"sampling: expected >= 1, got {sampling}")
    annot_dir = os.path.join(root, "annotations")
    image_dir = image_dir or os.path.join(root, "images")
    if not os.path.isdir(image_dir):
        raise PathNotFoundError(f"{image_dir}: image folder not found")
    skipped: dict[str, list[Any]] = {r: [] for r in SKIP_REASONS}
    rows = []
    j = H36M_17.num_joints
    for subject in subjects:
        data_path = annotation_path(annot_dir, subject, "data")
        data = _read_json(data_path)
        for key in ("images", "annotations"):
            if not isinstance(data, dict) or not isinstance(data.get(key), list):
                raise Human36MFormatError(f"{data_path}: missing field '{key}' (a list)")
        for field in ("id", "file_name", "subject", "action_idx", "subaction_idx", "cam_idx", "frame_idx"):
            if data["images"] and not any(isinstance(i, dict) and field in i for i in data["images"]):
                raise Human36MFormatError(f"{data_path}: images have no '{field}' field")
        cams = _cameras(annotation_path(annot_dir, subject, "camera"))
        joints = _read_json(annotation_path(annot_dir, subject, "joint_3d"))
        anns = {a.get("image_id"): a for a in data["annotations"] if isinstance(a, dict)}

        def skip(reason: str, ident: Any, detail: str = "", path: str = data_path) -> None:
            skipped[reason].append(ident)
            if len(skipped[reason]) <= _MAX_LOGGED:
                logging.warning("%s: skipping image %s (%s)%s", path, ident, reason, f": {detail}" if detail else "")

        for img in data["images"]:
            ident = img.get("id") if isinstance(img, dict) else None
            try:
                meta = {k: int(img[k]) for k in METADATA_KEYS}
                file_name = str(img["file_name"])
            except (KeyError, TypeError, ValueError):
                skip("bad_image", ident, "needs file_name and integer " + ", ".join(METADATA_KEYS))
                continue
            if meta["subject"] != subject or meta["frame_idx"] % sampling != 0:
                continue  # 3DMPPE's subject / frame sampling filter: not a bad record
            if meta["cam_idx"] not in cams:
                skip("bad_image", ident, f"cam_idx {meta['cam_idx']} not in the camera file")
                continue
            path = os.path.join(image_dir, file_name)
            if check_images and not os.path.isfile(path):
                skip("missing_image", ident, path)
                continue
            ann = anns.get(ident)
            if ann is None:
                skip("no_annotation", ident)
                continue
            try:
                world = joints[str(meta["action_idx"])][str(meta["subaction_idx"])][str(meta["frame_idx"])]
            except (KeyError, TypeError):
                skip("no_joints", ident, f"action {meta['action_idx']} subaction {meta['subaction_idx']} "
                                         f"frame {meta['frame_idx']}")
                continue
            world = mppe3d.finite_array(world, (j, 3))
            box = mppe3d.finite_array(ann.get("bbox"), (4,))
            vis = mppe3d.finite_array(ann.get("keypoints_vis", [1] * j), (j,))
            if world is None or vis is None:
                skip("bad_joints", ident, "joint_3d must be 17 x 3 finite numbers, keypoints_vis 17 values")
                continue
            rows.append(dict(path=path, image_id=ident, size=(int(img.get("height", 0)), int(img.get("width", 0))),
                             world=world, box=box, vis=vis, cam=cams[meta["cam_idx"]], meta=meta))
    records = _to_records(rows, skipped, ",".join(str(s) for s in subjects), root)
    counts = {k: v for k, v in records.skipped.items() if v}
    if counts:
        logging.warning("%s: subjects %s: skipped %s; kept %d images", root, list(subjects),
                        ", ".join(f"{k}={v}" for k, v in counts.items()), len(records))
    return records


def _to_records(rows: list[dict[str, Any]], skipped: dict[str, list[Any]], subjects: str,
                root: str) -> mppe3d.Mppe3dRecords:
    """World joints -> camera and image joints with official.ops.camera (one call per camera)."""
    from keras import ops

    from official.ops import camera

    n, j = len(rows), H36M_17.num_joints
    cam_pts = np.zeros((n, j, 3))
    img_pts = np.zeros((n, j, 2))
    for i, row in enumerate(rows):  # per image: cameras differ
        cam = row["cam"]
        cam_pts[i] = ops.convert_to_numpy(camera.world_to_camera(row["world"], cam["R"], cam["t"]))
        img_pts[i] = ops.convert_to_numpy(camera.project(cam_pts[i], cam["f"], cam["c"]))
    good = [i for i in range(n) if (cam_pts[i, :, 2] > 0).all()]
    for i in sorted(set(range(n)) - set(good)):
        skipped["bad_joints"].append(rows[i]["image_id"])
    rows = [rows[i] for i in good]
    cam_pts, img_pts = cam_pts[good], img_pts[good]
    boxes = []
    for row, uv in zip(rows, img_pts, strict=True):
        box = row["box"]
        if box is None or box[2] <= 0 or box[3] <= 0:  # no usable bbox: the joints' extent
            lo, hi = uv.min(0), uv.max(0)
            box = np.concatenate([lo, hi - lo])
        boxes.append(np.concatenate([box[:2], box[:2] + box[2:]]))
    n = len(rows)
    return mppe3d.Mppe3dRecords(
        source=f"{root} (subjects {subjects})", num_joints=j, max_people=1,
        image_paths=[r["path"] for r in rows], image_ids=np.array([r["image_id"] for r in rows], np.int64),
        image_sizes=np.array([r["size"] for r in rows], np.int32).reshape(n, 2),
        focal=np.array([r["cam"]["f"] for r in rows], np.float32).reshape(n, 2),
        center=np.array([r["cam"]["c"] for r in rows], np.float32).reshape(n, 2),
        people=dict(boxes=np.array(boxes, np.float32).reshape(n, 1, 4),
                    keypoints_cam=cam_pts.astype(np.float32).reshape(n, 1, j, 3),
                    keypoints_img=img_pts.astype(np.float32).reshape(n, 1, j, 2),
                    keypoints_vis=np.array([r["vis"] for r in rows], np.float32).reshape(n, 1, j)),
        num_people=np.ones(n, np.int32), skipped_ids=skipped, over_max_people=[],
        metadata={k: np.array([r["meta"][k] for r in rows], np.int32) for k in METADATA_KEYS},
    )


def human36m_dataset(root: str, subjects: Sequence[int], sampling: int = 1, image_dir: str | None = None):
    """tf.data of mppe3d example dicts (max_people 1) plus METADATA_KEYS int32 scalars."""
    return mppe3d.records_dataset(load_human36m(root, subjects, sampling, image_dir))
