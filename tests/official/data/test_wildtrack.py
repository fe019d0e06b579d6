"""Wildtrack calibration reader on fixtures in the real format (intrinsics written by cv2.FileStorage,
extrinsics as the dataset's plain rvec/tvec XML), against OpenCV's own reader, Rodrigues and projection."""

import os

import cv2
import numpy as np
import pytest

from official.core.errors import PathNotFoundError
from official.data import wildtrack

K = np.array([[1743.4478, 0.0, 934.5201], [0.0, 1735.1566, 444.3977], [0.0, 0.0, 1.0]])
DIST = np.array([[-0.2, 0.05, 0.001, -0.002, 0.0]])
RVEC, TVEC = "  1.759099006652832 0.46710100769996643 -0.331699013710022 ", "  -525.8941650390625 45.40763473510742 986.7235107421875 "


def _k(i: int) -> np.ndarray:
    k = K.copy()
    k[0, 0] += 10.0 * i
    return k


def _write(root: str, names=("CVLab1", "IDIAP2")) -> None:
    for sub in ("intrinsic_zero", "extrinsic"):
        os.makedirs(os.path.join(root, "calibrations", sub), exist_ok=True)
    for i, name in enumerate(names):
        fs = cv2.FileStorage(os.path.join(root, "calibrations", "intrinsic_zero", f"intr_{name}.xml"),
                             cv2.FILE_STORAGE_WRITE)
        fs.write("camera_matrix", _k(i))
        fs.write("distortion_coefficients", DIST)
        fs.release()
        with open(os.path.join(root, "calibrations", "extrinsic", f"extr_{name}.xml"), "w") as f:
            f.write(f'<?xml version="1.0"?>\n<opencv_storage>\n<rvec>{RVEC}</rvec>\n<tvec>{TVEC}</tvec>\n'
                    "</opencv_storage>\n")


def test_reader_equals_opencv(tmp_path):
    _write(str(tmp_path))
    cams = wildtrack.load_wildtrack_calibration(str(tmp_path), cameras=("CVLab1", "IDIAP2"))
    for i, cam in enumerate(cams):
        fs = cv2.FileStorage(os.path.join(tmp_path, "calibrations", "intrinsic_zero", f"intr_{cam.name}.xml"),
                             cv2.FILE_STORAGE_READ)
        np.testing.assert_array_equal(cam.K, fs.getNode("camera_matrix").mat())
        np.testing.assert_array_equal(cam.distortion, fs.getNode("distortion_coefficients").mat().reshape(-1))
        fs.release()
        np.testing.assert_array_equal(cam.K, _k(i))
        rotation, _ = cv2.Rodrigues(cam.rvec)
        np.testing.assert_allclose(cam.R, rotation, atol=1e-12)
        world = np.array([[100.0, 250.0, 0.0], [-300.0, 900.0, 170.0]])  # cm
        pixels, _ = cv2.projectPoints(world, cam.rvec, cam.t, cam.K, None)
        homo = world @ cam.projection[:, :3].T + cam.projection[:, 3]
        np.testing.assert_allclose(homo[:, :2] / homo[:, 2:], pixels.reshape(-1, 2), atol=1e-6)
    assert cams[0].size == (1920, 1080)


def test_errors_name_the_file_and_field(tmp_path):
    with pytest.raises(PathNotFoundError, match="not a Wildtrack root"):
        wildtrack.load_wildtrack_calibration(str(tmp_path))
    _write(str(tmp_path))
    with pytest.raises(PathNotFoundError, match="intr_CVLab2.xml"):
        wildtrack.load_wildtrack_calibration(str(tmp_path), cameras=("CVLab2",))
    extr = os.path.join(tmp_path, "calibrations", "extrinsic", "extr_CVLab1.xml")
    with open(extr, "w") as f:
        f.write("<opencv_storage><rvec>1 2</rvec><tvec>1 2 3</tvec></opencv_storage>")
    with pytest.raises(wildtrack.WildtrackFormatError, match=r"extr_CVLab1.xml: <rvec> must hold 3 numbers"):
        wildtrack.load_wildtrack_calibration(str(tmp_path), cameras=("CVLab1",))
    with open(extr, "w") as f:
        f.write("<opencv_storage><rvec>1 2 3")
    with pytest.raises(wildtrack.WildtrackFormatError, match="not an XML file"):
        wildtrack.read_extrinsics(extr)
