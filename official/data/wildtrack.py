"""Wildtrack camera calibration (EPFL, 7 static HD cameras): the OpenCV-storage XML files -> P = K [R | t].

On-disk layout (Wildtrack_dataset/calibrations/, as read by the dataset's toolkit and MVDet's
`get_intrinsic_extrinsic_matrix`):
- `intrinsic_zero/intr_<CAM>.xml` (intrinsics of the undistorted images; `intrinsic_original/` holds the
  raw lenses'): an OpenCV FileStorage XML `<opencv_storage>` with `<camera_matrix type_id="opencv-matrix">`
  (rows 3, cols 3, dt d, data = 9 numbers row-major) and `<distortion_coefficients>` (1 x 5);
- `extrinsic/extr_<CAM>.xml`: `<opencv_storage>` with `<rvec>` (Rodrigues vector) and `<tvec>` as
  space-separated text, world units centimetres (cam = R X + t, OpenCV's convention);
- cameras CVLab1-4 and IDIAP1-3 (C1-C7), images 1920 x 1080.
numpy + xml.etree + scipy's rotation (no OpenCV: the tests read the same files with cv2.FileStorage and
cv2.Rodrigues as the reference). A missing file is an error naming it; a malformed file is an error naming
the file and the XML field.
"""

from __future__ import annotations

import dataclasses
import os
import xml.etree.ElementTree as ET

import numpy as np
from scipy.spatial.transform import Rotation

from official.core.errors import PathNotFoundError, UserError

CAMERAS = ("CVLab1", "CVLab2", "CVLab3", "CVLab4", "IDIAP1", "IDIAP2", "IDIAP3")
IMAGE_SIZE = (1920, 1080)  # (width, height)
UNITS_TO_MM = 10.0  # world coordinates are centimetres


class WildtrackFormatError(UserError, ValueError):
    """A calibration file is malformed; the message names the file and the field."""


@dataclasses.dataclass(frozen=True)
class WildtrackCamera:
    name: str
    K: np.ndarray  # (3, 3)
    distortion: np.ndarray  # (5,) k1 k2 p1 p2 k3 (zero for intrinsic_zero)
    rvec: np.ndarray  # (3,) Rodrigues
    R: np.ndarray  # (3, 3)
    t: np.ndarray  # (3,) cm
    size: tuple[int, int] = IMAGE_SIZE

    @property
    def projection(self) -> np.ndarray:
        """(3, 4) P = K [R | t] (world cm -> pixels), by official.ops.camera (imported here: Keras loads late)."""
        from official.ops.camera import projection_matrix

        return np.asarray(projection_matrix(self.K, self.R, self.t), np.float64)


def _root(path: str) -> ET.Element:
    if not os.path.isfile(path):
        raise PathNotFoundError(f"{path}: no such file")
    try:
        return ET.parse(path).getroot()
    except ET.ParseError as err:
        raise WildtrackFormatError(f"{path}: not an XML file ({err})") from None


def _numbers(path: str, field: str, text: str | None, count: int) -> np.ndarray:
    try:
        values = np.asarray([float(v) for v in (text or "").split()], np.float64)
    except ValueError:
        values = np.zeros(0)
    if values.size != count or not np.all(np.isfinite(values)):
        raise WildtrackFormatError(f"{path}: <{field}> must hold {count} numbers, got {text!r}")
    return values


def read_opencv_matrix(path: str, field: str) -> np.ndarray:
    """A `type_id="opencv-matrix"` node (rows, cols, dt, data) of an OpenCV FileStorage XML file."""
    node = _root(path).find(field)
    if node is None:
        raise WildtrackFormatError(f"{path}: no <{field}> node")
    try:
        rows, cols = int(node.findtext("rows")), int(node.findtext("cols"))
    except (TypeError, ValueError):
        raise WildtrackFormatError(f"{path}: <{field}> needs integer <rows> and <cols>") from None
    return _numbers(path, f"{field}/data", node.findtext("data"), rows * cols).reshape(rows, cols)


def read_intrinsics(path: str) -> tuple[np.ndarray, np.ndarray]:
    """intr_<CAM>.xml -> (K (3, 3), distortion (5,) or zeros when the node is absent)."""
    k = read_opencv_matrix(path, "camera_matrix")
    if k.shape != (3, 3):
        raise WildtrackFormatError(f"{path}: <camera_matrix> must be 3 x 3, got {k.shape}")
    dist = read_opencv_matrix(path, "distortion_coefficients").reshape(-1) if _root(path).find(
        "distortion_coefficients") is not None else np.zeros(5)
    return k, dist


def read_extrinsics(path: str) -> tuple[np.ndarray, np.ndarray]:
    """extr_<CAM>.xml -> (rvec (3,), tvec (3,))."""
    root = _root(path)
    return (_numbers(path, "rvec", root.findtext("rvec"), 3), _numbers(path, "tvec", root.findtext("tvec"), 3))


def load_wildtrack_calibration(root: str, cameras: tuple[str, ...] = CAMERAS, intrinsics: str = "intrinsic_zero"
                               ) -> list[WildtrackCamera]:
    """The cameras of a Wildtrack root (the folder holding calibrations/, or calibrations/ itself)."""
    base = os.path.join(root, "calibrations") if os.path.isdir(os.path.join(root, "calibrations")) else root
    if not os.path.isdir(os.path.join(base, "extrinsic")):
        raise PathNotFoundError(f"{root}: no calibrations/extrinsic folder (not a Wildtrack root)")
    out = []
    for name in cameras:
        k, dist = read_intrinsics(os.path.join(base, intrinsics, f"intr_{name}.xml"))
        rvec, tvec = read_extrinsics(os.path.join(base, "extrinsic", f"extr_{name}.xml"))
        out.append(WildtrackCamera(name, k, dist, rvec, Rotation.from_rotvec(rvec).as_matrix(), tvec))
    return out
