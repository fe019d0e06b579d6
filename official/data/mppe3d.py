"""3DMPPE / RootNet JSON (MuCo-3DHP, MuPoTS-3D) + image folder -> padded per-image tf.data examples.

The on-disk form is the one of Moon et al.'s 3DMPPE release (mks0601 3DMPPE_POSENET_RELEASE /
3DMPPE_ROOTNET_RELEASE, data/MuCo/MuCo.py and data/MuPoTS/MuPoTS.py), a COCO-like JSON:
    images:      {id, file_name, width, height, f: [fx, fy], c: [cx, cy]}   (MuCo-3DHP.json)
                 MuPoTS-3D.json stores the intrinsics as intrinsic: [fx, fy, cx, cy] instead; both read.
    annotations: {id, image_id, bbox: [x, y, w, h] px, keypoints_cam: J x [X, Y, Z] mm (camera frame),
                  keypoints_img: J x [u, v] px, keypoints_vis: J (0/1), is_valid: 0/1}
MuCo has J = 21 (skeletons3d.MUCO_21), MuPoTS-3D J = 17 (skeletons3d.MUPOTS_17). `write_mppe3d` writes
this form (used by tools/make_humans3d.py and the tests), `load_mppe3d` validates it into numpy
records, `mppe3d_dataset` turns those into tf.data, and `mppe3d_person_crops` / `person_crops` into square
per-person crops for top-down training (with the crop's own f, c).

Validation (the `kitti` / `coco_keypoints` policy):
- a missing JSON or image folder is a `PathNotFoundError`; a file that is not JSON, lacks `images` or
  `annotations`, or whose images / annotations all lack a required field is an `Mppe3dFormatError` whose
  one line names the file and the field (e.g. `x.json: annotations have no 'keypoints_cam' field`);
- single bad records are skipped, counted per reason in `Mppe3dRecords.skipped` and logged (the first 50
  each, then one summary line):
    images:       bad_image (id, file_name, width or height missing or wrong), bad_intrinsics (no
                  positive finite f and finite c / intrinsic), missing_image (file not on disk),
                  no_people (no usable annotation; kept with keep_empty=True)
    annotations:  unknown_image, bad_keypoints (keypoints_cam not J x 3 finite with Z > 0, keypoints_img
                  not J x 2 finite, keypoints_vis not J values), bad_bbox (not 4 finite numbers, w or h
                  <= 0), not_valid (is_valid == 0, skipped as 3DMPPE's MuPoTS loader does)
  Images with more people than `max_people` keep the first `max_people` in file order and are listed in
  `over_max_people` (not skipped). J is `num_joints` when given, else the most common length.

`mppe3d_dataset` yields one dict per image (P = max_people, J joints):
    image          uint8   [H, W, 3]
    image_id       int64   []
    image_size     int32   [2]        (H, W) from the JSON
    focal          float32 [2]        (fx, fy) px
    center         float32 [2]        (cx, cy) px
    boxes          float32 [P, 4]     x1, y1, x2, y2 px (from bbox x, y, w, h)
    keypoints_cam  float32 [P, J, 3]  mm, camera frame
    keypoints_img  float32 [P, J, 2]  px (pixel centres at integer coordinates)
    keypoints_vis  float32 [P, J]
    num_people     int32   []
    person_mask    bool    [P]        True for the num_people real people
Padding rows are zero.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from absl import logging

from official.core.errors import BadValueError, PathNotFoundError, UserError

IMAGE_SKIP_REASONS = ("bad_image", "bad_intrinsics", "missing_image", "no_people")
ANNOTATION_SKIP_REASONS = ("unknown_image", "bad_keypoints", "bad_bbox", "not_valid")
_MAX_LOGGED = 50
_PERSON_ARRAYS = ("boxes", "keypoints_cam", "keypoints_img", "keypoints_vis")
EXAMPLE_KEYS = ("image", "image_id", "image_size", "focal", "center", *_PERSON_ARRAYS, "num_people",
                "person_mask")


class Mppe3dFormatError(UserError, ValueError):
    """The annotation JSON is not in the 3DMPPE layout; the message names the file and the field."""


# ----------------------------------------------------------------------------------------------------
# writer


def _floats(a: Any) -> list:
    return np.asarray(a, np.float64).tolist()


def write_mppe3d(out_dir: str, split: str, scenes: Sequence[dict[str, Any]], image_format: str = "jpg",
                 intrinsic_key: bool = False, first_image_id: int = 0) -> str:
    """Writes scenes (`humans3d.scene` dicts) as OUT/images/SPLIT/NNNNNN.jpg + OUT/annotations/SPLIT.json.

    intrinsic_key: store intrinsics as MuPoTS-3D's `intrinsic` [fx, fy, cx, cy] instead of MuCo's f, c.
    Returns the JSON path. Values are written as float64 JSON numbers (exact round trip).
    """
    from PIL import Image

    if image_format not in ("jpg", "png"):
        raise BadValueError(f"image_format: expected 'jpg' or 'png', got {image_format!r}")
    os.makedirs(os.path.join(out_dir, "images", split), exist_ok=True)
    os.makedirs(os.path.join(out_dir, "annotations"), exist_ok=True)
    images, annotations = [], []
    for i, sc in enumerate(scenes):
        image_id = first_image_id + i
        file_name = f"{split}/{image_id:06d}.{image_format}"
        pixels = np.asarray(sc["image"], np.uint8)
        Image.fromarray(pixels).save(os.path.join(out_dir, "images", file_name), quality=95)
        entry: dict[str, Any] = {"id": image_id, "file_name": file_name, "width": int(pixels.shape[1]),
                                 "height": int(pixels.shape[0])}
        if intrinsic_key:
            entry["intrinsic"] = _floats(np.concatenate([sc["f"], sc["c"]]))
        else:
            entry["f"], entry["c"] = _floats(sc["f"]), _floats(sc["c"])
        images.append(entry)
        for person in sc["people"]:
            annotations.append({
                "id": len(annotations), "image_id": image_id, "category_id": 1, "iscrowd": 0,
                "bbox": _floats(person["bbox"]),
                "keypoints_cam": _floats(person["keypoints_cam"]),
                "keypoints_img": _floats(person["keypoints_img"]),
                "keypoints_vis": np.asarray(person["keypoints_vis"]).astype(int).tolist(),
                "is_valid": int(person.get("is_valid", 1)),
            })
    path = os.path.join(out_dir, "annotations", f"{split}.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"images": images, "annotations": annotations,
                   "categories": [{"id": 1, "name": "person", "supercategory": "person"}]}, f)
    return path


# ----------------------------------------------------------------------------------------------------
# records


@dataclasses.dataclass
class Mppe3dRecords:
    """One row per usable image; person arrays padded to max_people (see the module docstring)."""

    source: str
    num_joints: int
    max_people: int
    image_paths: list[str]
    image_ids: np.ndarray  # int64 [N]
    image_sizes: np.ndarray  # int32 [N, 2] (H, W)
    focal: np.ndarray  # float32 [N, 2]
    center: np.ndarray  # float32 [N, 2]
    people: dict[str, np.ndarray]  # boxes [N, P, 4], keypoints_cam [N, P, J, 3], ...
    num_people: np.ndarray  # int32 [N]
    skipped_ids: dict[str, list[Any]]
    over_max_people: list[Any]
    metadata: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)  # extra int32 [N] per image

    def __len__(self) -> int:
        return len(self.image_paths)

    @property
    def skipped(self) -> dict[str, int]:
        return {reason: len(ids) for reason, ids in self.skipped_ids.items()}


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def finite_array(value: Any, shape: tuple[int, ...]) -> np.ndarray | None:
    """(Validation helper, also used by human36m.) float64 array of `shape` when `value` is a nested list of finite numbers of that shape, else None."""
    try:
        arr = np.asarray(value, np.float64)
    except (TypeError, ValueError):
        return None
    if arr.shape != shape or not np.isfinite(arr).all():
        return None
    return arr


def _intrinsics(img: dict[str, Any]) -> tuple[np.ndarray, np.ndarray] | None:
    if "intrinsic" in img:
        k = finite_array(img["intrinsic"], (4,))
        f, c = (None, None) if k is None else (k[:2], k[2:])
    else:
        f, c = finite_array(img.get("f"), (2,)), finite_array(img.get("c"), (2,))
    if f is None or c is None or not (f > 0).all():
        return None
    return f, c


def _load_json(json_path: str) -> dict[str, Any]:
    if not os.path.isfile(json_path):
        raise PathNotFoundError(f"{json_path}: annotation file not found")
    with open(json_path, encoding="utf-8") as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as err:
            raise Mppe3dFormatError(f"{json_path}: not valid JSON ({err})") from err
    if not isinstance(data, dict):
        raise Mppe3dFormatError(f"{json_path}: top level must be an object with 'images' and 'annotations'")
    for key in ("images", "annotations"):
        if not isinstance(data.get(key), list):
            raise Mppe3dFormatError(f"{json_path}: missing field '{key}' (a list)")
    return data


def _require(json_path: str, records: list[Any], what: str, fields: Sequence[str | tuple[str, ...]]) -> None:
    """Schema check: a field that NO record carries is a format error (not N skipped records)."""
    dicts = [r for r in records if isinstance(r, dict)]
    if not dicts:
        return
    for field in fields:
        names = (field,) if isinstance(field, str) else field
        if not any(any(n in r for n in names) for r in dicts):
            shown = " or ".join(f"'{n}'" for n in names)
            raise Mppe3dFormatError(f"{json_path}: {what} have no {shown} field")


def load_mppe3d(json_path: str, image_dir: str, max_people: int = 8, num_joints: int | None = None,
                keep_empty: bool = False, check_images: bool = True) -> Mppe3dRecords:
    """The usable images of a 3DMPPE JSON (module docstring: layout, validation, skip reasons).

    Args:
      json_path: the annotation JSON (MuCo-3DHP.json, MuPoTS-3D.json or one `write_mppe3d` wrote).
      image_dir: the folder `images[].file_name` is relative to.
      max_people: P, people per image after padding.
      num_joints: J; None infers the most common keypoints_cam length.
      keep_empty: keep images without usable people (evaluation on detections).
      check_images: skip images whose file is missing (one stat per image).
    """
    if max_people < 1:
        raise BadValueError(f"max_people: expected >= 1, got {max_people}")
    if not os.path.isdir(image_dir):
        raise PathNotFoundError(f"{image_dir}: image folder not found")
    data = _load_json(json_path)
    _require(json_path, data["images"], "images", ("id", "file_name", "width", "height", ("f", "intrinsic")))
    _require(json_path, data["annotations"], "annotations",
             ("image_id", "bbox", "keypoints_cam", "keypoints_img"))
    skipped: dict[str, list[Any]] = {r: [] for r in IMAGE_SKIP_REASONS + ANNOTATION_SKIP_REASONS}

    def skip(reason: str, ident: Any, detail: str = "") -> None:
        skipped[reason].append(ident)
        if len(skipped[reason]) <= _MAX_LOGGED:
            logging.warning("%s: skipping %s (%s)%s", json_path, ident, reason, f": {detail[:200]}" if detail else "")

    if num_joints is None:
        lengths = collections.Counter(len(a["keypoints_cam"]) for a in data["annotations"]
                                      if isinstance(a, dict) and isinstance(a.get("keypoints_cam"), list))
        num_joints = lengths.most_common(1)[0][0] if lengths else 0
    j = num_joints

    images: dict[Any, dict[str, Any]] = {}
    for i, img in enumerate(data["images"]):
        ident = f"image {img.get('id') if isinstance(img, dict) else f'#{i}'}"
        if not (isinstance(img, dict) and isinstance(img.get("id"), int) and isinstance(img.get("file_name"), str)
                and _number(img.get("width")) and _number(img.get("height"))
                and img["width"] > 0 and img["height"] > 0):
            skip("bad_image", ident, "needs int id, str file_name, positive width and height")
            continue
        intr = _intrinsics(img)
        if intr is None:
            skip("bad_intrinsics", ident, f"f={img.get('f')} c={img.get('c')} intrinsic={img.get('intrinsic')}")
            continue
        path = os.path.join(image_dir, img["file_name"])
        if check_images and not os.path.isfile(path):
            skip("missing_image", ident, path)
            continue
        images[img["id"]] = dict(path=path, size=(int(img["height"]), int(img["width"])), f=intr[0], c=intr[1],
                                 people=[])

    for i, ann in enumerate(data["annotations"]):
        ident = f"annotation {ann.get('id', f'#{i}') if isinstance(ann, dict) else f'#{i}'}"
        if not isinstance(ann, dict) or ann.get("image_id") not in images:
            skip("unknown_image", ident)
            continue
        if ann.get("is_valid", 1) == 0:
            skip("not_valid", ident)
            continue
        cam = finite_array(ann.get("keypoints_cam"), (j, 3))
        uv = finite_array(ann.get("keypoints_img"), (j, 2))
        vis = finite_array(ann.get("keypoints_vis", [1] * j), (j,))
        if cam is None or uv is None or vis is None or not (cam[:, 2] > 0).all():
            skip("bad_keypoints", ident, f"needs keypoints_cam {j} x 3 with Z > 0, keypoints_img {j} x 2, "
                                         f"keypoints_vis {j}")
            continue
        box = finite_array(ann.get("bbox"), (4,))
        if box is None or box[2] <= 0 or box[3] <= 0:
            skip("bad_bbox", ident, f"bbox={ann.get('bbox')}")
            continue
        images[ann["image_id"]]["people"].append(
            dict(boxes=np.concatenate([box[:2], box[:2] + box[2:]]), keypoints_cam=cam, keypoints_img=uv,
                 keypoints_vis=vis))

    rows, over = [], []
    for image_id, img in images.items():
        if not img["people"] and not keep_empty:
            skip("no_people", f"image {image_id}")
            continue
        if len(img["people"]) > max_people:
            over.append(image_id)
        rows.append((image_id, img))
    counts = {k: len(v) for k, v in skipped.items() if v}
    if counts:
        logging.warning("%s: skipped %s; kept %d images", json_path,
                        ", ".join(f"{k}={v}" for k, v in counts.items()), len(rows))
    shapes = {"boxes": (4,), "keypoints_cam": (j, 3), "keypoints_img": (j, 2), "keypoints_vis": (j,)}
    people = {k: np.zeros((len(rows), max_people) + s, np.float32) for k, s in shapes.items()}
    for n, (_, img) in enumerate(rows):
        for p, person in enumerate(img["people"][:max_people]):
            for k in shapes:
                people[k][n, p] = person[k]
    return Mppe3dRecords(
        source=json_path, num_joints=j, max_people=max_people,
        image_paths=[img["path"] for _, img in rows],
        image_ids=np.array([i for i, _ in rows], np.int64),
        image_sizes=np.array([img["size"] for _, img in rows], np.int32).reshape(-1, 2),
        focal=np.array([img["f"] for _, img in rows], np.float32).reshape(-1, 2),
        center=np.array([img["c"] for _, img in rows], np.float32).reshape(-1, 2),
        people=people,
        num_people=np.array([min(len(img["people"]), max_people) for _, img in rows], np.int32),
        skipped_ids=skipped, over_max_people=over,
    )


# ----------------------------------------------------------------------------------------------------
# tf.data


def records_dataset(records: Mppe3dRecords):
    """tf.data.Dataset of the EXAMPLE_KEYS dicts (module docstring), plus the records' metadata keys."""
    import tensorflow as tf

    from official.data import image_decode

    if not len(records):
        raise Mppe3dFormatError(f"{records.source}: no usable images (skipped: {records.skipped})")
    mask = np.arange(records.max_people)[None, :] < records.num_people[:, None]
    table = dict(
        source=np.array(records.image_paths), image_id=records.image_ids, image_size=records.image_sizes,
        focal=records.focal, center=records.center, num_people=records.num_people, person_mask=mask,
        **records.people, **records.metadata,
    )
    ds = tf.data.Dataset.from_tensor_slices(table)

    def read(ex: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        return dict(ex, encoded=tf.io.read_file(ex["source"]))

    def decode(ex: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        out = {k: ex[k] for k in (*EXAMPLE_KEYS, *records.metadata) if k != "image"}
        out["image"] = image_decode.decode_rgb(ex["encoded"])
        return out

    ds = ds.map(read, num_parallel_calls=tf.data.AUTOTUNE)
    ds = image_decode.filter_decodable(ds, image_decode.SkipCounter("mppe3d_unreadable_images"))
    return ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE)


def mppe3d_dataset(json_path: str, image_dir: str, max_people: int = 8, num_joints: int | None = None,
                   keep_empty: bool = False):
    """`load_mppe3d` + `records_dataset`: one padded example dict per image."""
    return records_dataset(load_mppe3d(json_path, image_dir, max_people, num_joints, keep_empty))


# ----------------------------------------------------------------------------------------------------
# per-person crops


def crop_intrinsics(focal: Any, center: Any, matrix: Any) -> tuple[np.ndarray, np.ndarray]:
    """(f, c) of a crop made by the 2x3 similarity `matrix` without rotation (u' = k u + tx, v' = k v + ty):
    f' = k f and c' = k c + t, so project(X, f', c') is the crop pixel of X and back-projection holds."""
    m = np.asarray(matrix, np.float64)
    k = np.array([m[0, 0], m[1, 1]])
    return np.asarray(focal, np.float64) * k, np.asarray(center, np.float64) * k + m[:, 2]


def mppe3d_person_crops(json_path: str, image_dir: str, input_size: int = 256, extension: float = 1.25,
                        num_joints: int | None = None, max_people: int = 64):
    """`load_mppe3d` + `person_crops`: one square crop per person of a 3DMPPE JSON."""
    return person_crops(load_mppe3d(json_path, image_dir, max_people, num_joints), input_size, extension)


def person_crops(records: Mppe3dRecords, input_size: int = 256, extension: float = 1.25):
    """tf.data.Dataset with one square crop per person (top-down single-person training) of any
    mppe3d-style records (this module's, or official/data/human36m.py's).

    The box (x, y, w, h) grows by `extension` (3DMPPE process_bbox: 1.25) to a square around its centre
    and is warped to input_size x input_size with `keypoint_affine` (pixel centres at integers, no
    rotation). Keys: image uint8 [S, S, 3], image_id int64, focal / center float32 [2] of the CROP
    (`crop_intrinsics`), box float32 [4] x1, y1, x2, y2 in the source image, keypoints_cam float32 [J, 3],
    keypoints_img float32 [J, 2] in crop pixels, keypoints_vis float32 [J].
    """
    import tensorflow as tf

    from official.data import image_decode, keypoint_affine

    rows = collections.defaultdict(list)
    for n in range(len(records)):
        for p in range(int(records.num_people[n])):
            x1, y1, x2, y2 = records.people["boxes"][n, p]
            center = np.array([(x1 + x2) / 2.0, (y1 + y2) / 2.0])
            side = max(x2 - x1, y2 - y1) * extension
            matrix = keypoint_affine.crop_affine(center, (side, side), 0.0, (input_size, input_size))
            focal, principal = crop_intrinsics(records.focal[n], records.center[n], matrix)
            uv = keypoint_affine.apply_affine(records.people["keypoints_img"][n, p], matrix)
            for key, value in (("source", records.image_paths[n]), ("image_id", records.image_ids[n]),
                               ("matrix", matrix), ("focal", focal), ("center", principal),
                               ("box", records.people["boxes"][n, p]),
                               ("keypoints_cam", records.people["keypoints_cam"][n, p]),
                               ("keypoints_img", uv), ("keypoints_vis", records.people["keypoints_vis"][n, p])):
                rows[key].append(value)
    if not rows:
        raise Mppe3dFormatError(f"{records.source}: no usable people (skipped: {records.skipped})")
    table = {k: np.asarray(v, np.float32) if k not in ("source", "image_id") else np.asarray(v)
             for k, v in rows.items()}
    ds = tf.data.Dataset.from_tensor_slices(table)

    def read(ex: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        return dict(ex, encoded=tf.io.read_file(ex["source"]))

    def crop(ex: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        image = image_decode.decode_rgb(ex["encoded"])
        warped = keypoint_affine.warp_affine(image, ex["matrix"], (input_size, input_size))
        out = {k: ex[k] for k in ("image_id", "focal", "center", "box", "keypoints_cam", "keypoints_img",
                                  "keypoints_vis")}
        out["image"] = tf.cast(tf.clip_by_value(tf.round(warped), 0, 255), tf.uint8)
        return out

    ds = ds.map(read, num_parallel_calls=tf.data.AUTOTUNE)
    ds = image_decode.filter_decodable(ds, image_decode.SkipCounter("mppe3d_unreadable_crops"))
    return ds.map(crop, num_parallel_calls=tf.data.AUTOTUNE)
