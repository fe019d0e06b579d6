"""Pix3D reader on a pix3d.json fixture written in the released format (list of records, relative paths)."""

import json
import os

import numpy as np
import pytest
from PIL import Image
from scipy.spatial.transform import Rotation

from official.core.errors import PathNotFoundError
from official.data import pix3d

W, H = 64, 48


def _record(i, rot, trans, focal=35.0, category="chair"):
    # the bbox is centred on the object's projected centre under Mesh R-CNN's K (f_px = f_mm * W / 32)
    f = focal * W / 32.0
    u, v = f * trans[0] / trans[2] + W / 2, f * trans[1] / trans[2] + H / 2
    return {"img": f"img/{category}/{i:04d}.png", "category": category, "img_size": [W, H],
            "mask": f"mask/{category}/{i:04d}.png", "model": f"model/{category}/m{i}/model.obj",
            "rot_mat": rot.tolist(), "trans_mat": list(trans), "focal_length": focal,
            "bbox": [u - 5, v - 4, u + 5, v + 4], "cam_position": [0, 0, 1], "inplane_rotation": 0.0,
            "truncated": False, "occluded": False, "slightly_occluded": False, "2d_keypoints": [],
            "3d_keypoints": "", "voxel": ""}


def _write_fixture(root):
    rots = Rotation.random(6, random_state=0).as_matrix()
    records = [_record(i, rots[i], [0.1 * i - 0.2, 0.05, 2.0 + 0.3 * i], focal=35.0 + 5 * i) for i in range(3)]
    bad = [dict(records[0], category="lamp"), {k: v for k, v in records[1].items() if k != "trans_mat"},
           dict(records[2], rot_mat=(2 * rots[3]).tolist()), dict(_record(5, rots[5], [0, 0, 3.0]))]
    for r in records + bad[:3]:
        for field, mode in (("img", "RGB"), ("mask", "L")):
            path = os.path.join(root, r[field])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            data = np.full((H, W, 3) if mode == "RGB" else (H, W), 200 if mode == "L" else 30, np.uint8)
            data[:10] = 0
            Image.fromarray(data, mode).save(path)
    # bad[3]'s image and mask files are never written (missing_file)
    with open(os.path.join(root, "pix3d.json"), "w") as f:
        json.dump(records[:2] + bad[:2] + records[2:] + bad[2:], f)
    return records, rots


def test_reader_fields_intrinsics_and_skips(tmp_path):
    records, rots = _write_fixture(str(tmp_path))
    out = pix3d.load_pix3d(str(tmp_path / "pix3d.json"))
    assert len(out) == 3
    assert out.skipped == {"missing_field": 1, "bad_value": 1, "unknown_category": 1, "missing_file": 1}
    np.testing.assert_array_equal(out.category, [2, 2, 2])
    np.testing.assert_allclose(out.rotation, rots[:3])
    np.testing.assert_allclose(Rotation.from_quat(out.quaternion, scalar_first=True).as_matrix(), rots[:3],
                               atol=1e-12)
    assert np.all(out.quaternion[:, 0] >= 0)
    np.testing.assert_allclose(out.intrinsics[1], [[40 * W / 32, 0, W / 2], [0, 40 * W / 32, H / 2], [0, 0, 1]])
    # the object's centre projects to the bbox centre with the reader's K (focal mm converted to pixels)
    uvw = np.einsum("nij,nj->ni", out.intrinsics, out.translation)
    np.testing.assert_allclose(uvw[:, :2] / uvw[:, 2:], (out.bbox[:, :2] + out.bbox[:, 2:]) / 2, atol=1e-3)
    assert out.model[0] == "model/chair/m0/model.obj"
    ds = list(pix3d.pix3d_dataset(out).as_numpy_iterator())
    assert ds[0]["image"].shape == (H, W, 3) and ds[0]["image"].dtype == np.uint8
    assert ds[0]["mask"].shape == (H, W, 1) and ds[0]["mask"][:10].sum() == 0 and ds[0]["mask"][10:].min() == 1
    np.testing.assert_allclose(ds[2]["translation"], records[2]["trans_mat"], rtol=1e-6)


def test_reader_errors_name_file_and_field(tmp_path):
    with pytest.raises(PathNotFoundError, match="nowhere.json"):
        pix3d.load_pix3d(str(tmp_path / "nowhere.json"))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(pix3d.Pix3DFormatError, match="bad.json: not valid JSON"):
        pix3d.load_pix3d(str(bad))
    bad.write_text(json.dumps({"img": "x"}))
    with pytest.raises(pix3d.Pix3DFormatError, match="expected a list"):
        pix3d.load_pix3d(str(bad))
    record = _record(0, np.eye(3), [0, 0, 2.0])
    record["focal_length"] = -1
    bad.write_text(json.dumps([record]))
    with pytest.raises(pix3d.Pix3DFormatError, match=r"bad.json: no usable record.*'focal_length'"):
        pix3d.load_pix3d(str(bad), check_files=False)
