"""The KITTI 3D object benchmark's text files: label_2 lines, calib files and ImageSets split lists.

Layout (`training/` of the object benchmark; `testing/` has no label_2):
    image_2/000000.png   left colour camera, ~1242x375
    label_2/000000.txt   one object per line, 15 fields (16 with a trailing score in result files):
        type truncated occluded alpha  left top right bottom  h w l  x y z  rotation_y  [score]
      type in {Car, Van, Truck, Pedestrian, Person_sitting, Cyclist, Tram, Misc, DontCare};
      truncated in [0, 1]; occluded in {0, 1, 2, 3}; alpha and rotation_y in radians; the 2D box in
      pixels; dimensions in metres; location = the bottom-face centre in rectified camera-0 coordinates
      (x right, y down, z forward). DontCare regions carry -1 / -1000 / -10 placeholders.
    calib/000000.txt     "P0: 12 floats" .. "P3:", "R0_rect: 9", "Tr_velo_to_cam: 12", "Tr_imu_to_velo: 12"
                         (the raw-data form "R_rect"/"Tr_velo_cam" is accepted as well)
    ImageSets/{train,val,trainval,test}.txt   one 6-digit frame id per line (3dop split 3,712 / 3,769)

A malformed file is a `KittiFormatError` naming the file, the line and the field: readers above this
module decide whether to skip the frame (training data) or stop (evaluation input).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Iterable, Sequence

import numpy as np

from official.core.errors import PathNotFoundError, UserError

LABEL_FIELDS = (
    "type", "truncated", "occluded", "alpha", "left", "top", "right", "bottom",
    "h", "w", "l", "x", "y", "z", "rotation_y",
)  # fmt: skip
OBJECT_TYPES = ("Car", "Van", "Truck", "Pedestrian", "Person_sitting", "Cyclist", "Tram", "Misc", "DontCare")
CALIB_SHAPES = {"P0": (3, 4), "P1": (3, 4), "P2": (3, 4), "P3": (3, 4), "R0_rect": (3, 3), "Tr_velo_to_cam": (3, 4)}
_CALIB_ALIASES = {"R_rect": "R0_rect", "Tr_velo_cam": "Tr_velo_to_cam"}


class KittiFormatError(UserError, ValueError):
    """A KITTI text file that cannot be read; the message names the file, the line and the field."""


@dataclasses.dataclass(frozen=True)
class KittiObject:
    """One label_2 line. `score` is None in ground truth and set in result files."""

    type: str
    truncated: float
    occluded: int
    alpha: float
    box2d: tuple[float, float, float, float]  # left, top, right, bottom (pixels)
    dimensions: tuple[float, float, float]  # h, w, l (metres)
    location: tuple[float, float, float]  # x, y, z of the bottom-face centre (camera coordinates, metres)
    rotation_y: float
    score: float | None = None

    def to_line(self) -> str:
        """The label_2 line (16 fields when a score is set), in the devkit's printf precision."""
        values = [self.truncated, self.occluded, self.alpha, *self.box2d, *self.dimensions, *self.location, self.rotation_y]
        text = f"{self.type} {self.truncated:.2f} {int(self.occluded)} " + " ".join(f"{v:.6f}" for v in values[2:])
        return text if self.score is None else f"{text} {self.score:.6f}"


def _float(token: str, path: str, line_no: int, field: str) -> float:
    try:
        value = float(token)
    except ValueError:
        raise KittiFormatError(f"{path}:{line_no}: field '{field}' is not a number: {token!r}") from None
    if not math.isfinite(value):
        raise KittiFormatError(f"{path}:{line_no}: field '{field}' is not finite: {token!r}")
    return value


def parse_label_line(line: str, path: str = "<label>", line_no: int = 1, with_score: bool | None = None) -> KittiObject:
    """One label_2 line -> KittiObject. `with_score`: None accepts 15 or 16 fields, True needs 16."""
    tokens = line.split()
    allowed = (15, 16) if with_score is None else ((16,) if with_score else (15,))
    if len(tokens) not in allowed:
        want = " or ".join(str(n) for n in allowed)
        raise KittiFormatError(f"{path}:{line_no}: expected {want} fields (type .. rotation_y [score]), got {len(tokens)}")
    if tokens[0] not in OBJECT_TYPES:
        raise KittiFormatError(f"{path}:{line_no}: field 'type' is {tokens[0]!r}, not one of {', '.join(OBJECT_TYPES)}")
    v = [_float(t, path, line_no, name) for t, name in zip(tokens[1:15], LABEL_FIELDS[1:], strict=True)]
    score = _float(tokens[15], path, line_no, "score") if len(tokens) == 16 else None
    return KittiObject(
        type=tokens[0], truncated=v[0], occluded=int(round(v[1])), alpha=v[2], box2d=(v[3], v[4], v[5], v[6]),
        dimensions=(v[7], v[8], v[9]), location=(v[10], v[11], v[12]), rotation_y=v[13], score=score,
    )  # fmt: skip


def read_label_file(path: str, with_score: bool | None = None) -> list[KittiObject]:
    """All objects of a label_2 (or result) file; blank lines are ignored, a missing file is an error."""
    if not os.path.isfile(path):
        raise PathNotFoundError(f"{path}: label file not found")
    with open(path) as f:
        return [parse_label_line(line, path, i, with_score) for i, line in enumerate(f, 1) if line.strip()]


def write_label_file(path: str, objects: Iterable[KittiObject]) -> None:
    """Writes a label_2 / result file atomically (temp name, then rename)."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        for obj in objects:
            f.write(obj.to_line() + "\n")
    os.replace(tmp, path)


def read_calib_file(path: str) -> dict[str, np.ndarray]:
    """calib/*.txt -> {"P0".."P3": (3, 4), "R0_rect": (3, 3), "Tr_velo_to_cam": (3, 4), ...} float64.

    P2 is required (every monocular method needs it); keys this module does not know are kept flat.
    """
    if not os.path.isfile(path):
        raise PathNotFoundError(f"{path}: calibration file not found")
    calib: dict[str, np.ndarray] = {}
    with open(path) as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            key, sep, rest = line.partition(":")
            if not sep:
                raise KittiFormatError(f"{path}:{line_no}: expected 'KEY: values', got {line.strip()[:40]!r}")
            key = _CALIB_ALIASES.get(key.strip(), key.strip())
            values = np.array([_float(t, path, line_no, key) for t in rest.split()], dtype=np.float64)
            shape = CALIB_SHAPES.get(key)
            if shape is not None:
                if values.size != shape[0] * shape[1]:
                    raise KittiFormatError(f"{path}:{line_no}: field '{key}' needs {shape[0] * shape[1]} numbers, got {values.size}")
                values = values.reshape(shape)
            calib[key] = values
    if "P2" not in calib:
        raise KittiFormatError(f"{path}: field 'P2' is missing")
    return calib


def format_calib(calib: dict[str, np.ndarray]) -> str:
    """The calib file text of `calib` (P0..P3, R0_rect, Tr_velo_to_cam, Tr_imu_to_velo when present)."""
    order = ("P0", "P1", "P2", "P3", "R0_rect", "Tr_velo_to_cam", "Tr_imu_to_velo")
    keys = [k for k in order if k in calib] + [k for k in calib if k not in order]
    return "".join(f"{k}: " + " ".join(f"{v:.12e}" for v in np.ravel(calib[k])) + "\n" for k in keys)


def read_split(path: str) -> list[str]:
    """ImageSets/*.txt -> frame ids as written ("000001"); a non-numeric id is an error naming the line."""
    if not os.path.isfile(path):
        raise PathNotFoundError(f"{path}: split file not found")
    ids = []
    with open(path) as f:
        for line_no, line in enumerate(f, 1):
            token = line.strip()
            if not token:
                continue
            if not token.isdigit():
                raise KittiFormatError(f"{path}:{line_no}: frame id {token!r} is not a number")
            ids.append(token)
    return ids


def frame_ids_in(folder: str, suffix: str = ".txt") -> list[str]:
    """Sorted frame ids of the files `NNNNNN<suffix>` in a folder (used when no split file is given)."""
    if not os.path.isdir(folder):
        raise PathNotFoundError(f"{folder}: folder not found")
    return sorted(n[: -len(suffix)] for n in os.listdir(folder) if n.endswith(suffix) and n[: -len(suffix)].isdigit())


def class_filter(objects: Sequence[KittiObject], types: Sequence[str]) -> list[KittiObject]:
    """The objects whose type is in `types`, in file order."""
    wanted = set(types)
    return [o for o in objects if o.type in wanted]
