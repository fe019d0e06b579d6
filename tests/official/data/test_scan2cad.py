"""Scan2CAD reader on a full_annotations.json fixture written in the released format."""

import json

import numpy as np
import pytest
import trimesh
from scipy.spatial.transform import Rotation

from official.core.errors import PathNotFoundError
from official.data import scan2cad


def _trs(rng):
    q = Rotation.random(random_state=int(rng.integers(1 << 30))).as_quat(scalar_first=True)
    return {"translation": rng.uniform(-3, 3, 3).tolist(), "rotation": q.tolist(),
            "scale": rng.uniform(0.5, 2, 3).tolist()}


def _model(rng, i):
    return {"catid_cad": "03001627", "id_cad": f"cad{i:03d}", "trs": _trs(rng), "bbox": [0.5, 0.4, 0.6],
            "center": [0, 0, 0], "sym": "__SYM_NONE", "keypoints_cad": {"n_keypoints": 0, "position": []},
            "keypoints_scan": {"n_keypoints": 0, "position": []}}


def _fixture(path):
    rng = np.random.default_rng(0)
    scans = [{"id_scan": "scene0000_00", "trs": _trs(rng), "aligned_models": [_model(rng, i) for i in range(3)]},
             {"id_scan": "scene0001_00", "trs": _trs(rng), "aligned_models": [_model(rng, 3), _model(rng, 4)]},
             {"trs": _trs(rng), "aligned_models": [_model(rng, 5)]}]  # no id_scan: its model is skipped
    scans[0]["aligned_models"][1]["trs"]["rotation"] = [0, 0, 0, 0]  # bad_value
    del scans[1]["aligned_models"][0]["id_cad"]  # missing_field
    scans[1]["aligned_models"][1]["trs"]["rotation"] = (-2 * np.asarray(
        scans[1]["aligned_models"][1]["trs"]["rotation"])).tolist()  # non-unit, w < 0: still the same rotation
    path.write_text(json.dumps(scans))
    return scans


def test_reader_fields_transforms_and_skips(tmp_path):
    scans = _fixture(tmp_path / "full_annotations.json")
    rec = scan2cad.load_scan2cad(str(tmp_path / "full_annotations.json"))
    assert len(rec) == 3 and rec.skipped == {"missing_field": 2, "bad_value": 1}
    assert rec.scan_id == ["scene0000_00", "scene0000_00", "scene0001_00"]
    assert rec.id_cad == ["cad000", "cad002", "cad004"] and rec.catid_cad == ["03001627"] * 3
    np.testing.assert_allclose(np.linalg.norm(rec.rotation, axis=1), 1.0)
    assert np.all(rec.rotation[:, 0] >= 0)
    raw = [scans[0]["aligned_models"][0], scans[0]["aligned_models"][2], scans[1]["aligned_models"][1]]
    for i, m in enumerate(raw):
        # reference: trimesh's T @ R @ S composition, and scipy's quaternion -> matrix
        q = np.asarray(m["trs"]["rotation"]) / np.linalg.norm(m["trs"]["rotation"])
        r = np.eye(4)
        r[:3, :3] = Rotation.from_quat(q, scalar_first=True).as_matrix()
        ref = trimesh.transformations.translation_matrix(m["trs"]["translation"]) @ r @ np.diag(
            list(m["trs"]["scale"]) + [1.0])
        np.testing.assert_allclose(scan2cad.trs_matrix(rec.translation[i], rec.rotation[i], rec.scale[i]), ref,
                                   atol=1e-12)
    # CAD -> scan: a CAD vertex mapped to world by M_cad equals the scan point mapped to world by M_scan
    x = np.array([0.1, -0.2, 0.3, 1.0])
    m_scan = scan2cad.trs_matrix(rec.scan_translation, rec.scan_rotation, rec.scan_scale)
    m_cad = scan2cad.trs_matrix(rec.translation, rec.rotation, rec.scale)
    np.testing.assert_allclose(np.einsum("nij,nj->ni", m_scan, np.einsum("nij,j->ni", scan2cad.cad_in_scan(rec), x)),
                               np.einsum("nij,j->ni", m_cad, x), atol=1e-9)
    ds = list(scan2cad.scan2cad_dataset(rec).as_numpy_iterator())
    assert ds[2]["id_cad"] == b"cad004" and ds[2]["cad_in_scan"].shape == (4, 4)


def test_reader_errors(tmp_path):
    with pytest.raises(PathNotFoundError, match="missing.json"):
        scan2cad.load_scan2cad(str(tmp_path / "missing.json"))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"id_scan": "x"}))
    with pytest.raises(scan2cad.Scan2CADFormatError, match="bad.json: expected a list"):
        scan2cad.load_scan2cad(str(bad))
    bad.write_text(json.dumps([{"id_scan": "s", "trs": {"translation": [0, 0, 0], "rotation": [1, 0, 0, 0],
                                                        "scale": [1, 1]}, "aligned_models": [{}]}]))
    with pytest.raises(scan2cad.Scan2CADFormatError, match=r"bad.json: no usable alignment.*'trs.scale'"):
        scan2cad.load_scan2cad(str(bad))
