"""SIZER spec-card check 2: SMPL+G on the synthetic template against a numpy LBS written here
(scipy rotations, 4x4 homogeneous chain), the rest pose, global-rotation equivariance, file errors."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from research.three_d.sizer import synthetic
from research.three_d.sizer.smplg import SMPL_PARENTS, SMPLG, SMPLFileError

TEMPLATE = synthetic.make_template(seed=0)


def numpy_lbs(t, betas, pose, trans, offsets):
    """(garment (V_g, 3), body (V, 3)) of one example, float64, the textbook way."""
    v_shaped = t["v_template"] + t["shapedirs"].astype(np.float64) @ betas
    joints = t["J_regressor"].astype(np.float64) @ v_shaped
    rots = Rotation.from_rotvec(pose.reshape(24, 3)).as_matrix()
    v_posed = v_shaped + t["posedirs"].astype(np.float64) @ (rots[1:] - np.eye(3)).ravel()
    world = np.zeros((24, 4, 4))
    for i, p in enumerate(SMPL_PARENTS):
        local = np.eye(4)
        local[:3, :3] = rots[i]
        local[:3, 3] = joints[i] - (joints[p] if p >= 0 else 0.0)
        world[i] = local if p < 0 else world[p] @ local
    rest = world.copy()
    rest[:, :3, 3] -= np.einsum("jab,jb->ja", world[:, :3, :3], joints)

    def skin(v, w):
        blended = np.einsum("vj,jab->vab", w, rest)
        return np.einsum("vab,vb->va", blended, np.concatenate([v, np.ones((len(v), 1))], 1))[:, :3] + trans

    vi = t["vert_indices"]
    return skin(v_posed[vi] + offsets, t["weights"][vi].astype(np.float64)), skin(v_posed, t["weights"].astype(np.float64))


def _inputs(seed, batch=2, pose_scale=0.5):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(batch, 10)).astype(np.float32), (pose_scale * rng.normal(size=(batch, 72))).astype(np.float32),
            (0.1 * rng.normal(size=(batch, 3))).astype(np.float32),
            (0.01 * rng.normal(size=(batch, len(TEMPLATE["vert_indices"]), 3))).astype(np.float32))


def test_rest_pose_returns_template():
    layer = SMPLG.from_arrays(TEMPLATE)
    vg = len(TEMPLATE["vert_indices"])
    out = layer(np.zeros((1, 10), np.float32), np.zeros((1, 72), np.float32), np.zeros((1, 3), np.float32),
                np.zeros((1, vg, 3), np.float32))
    np.testing.assert_allclose(np.asarray(out["body"])[0], TEMPLATE["v_template"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(np.asarray(out["garment"])[0], TEMPLATE["v_template"][TEMPLATE["vert_indices"]],
                               atol=1e-6, rtol=0)
    np.testing.assert_allclose(np.asarray(out["joints"])[0], TEMPLATE["J_regressor"] @ TEMPLATE["v_template"], atol=1e-6)


def test_random_pose_matches_numpy_lbs():
    layer = SMPLG.from_arrays(TEMPLATE)
    betas, pose, trans, offsets = _inputs(0)
    out = layer(betas, pose, trans, offsets)
    for b in range(2):
        garment, body = numpy_lbs(TEMPLATE, betas[b].astype(np.float64), pose[b].astype(np.float64),
                                  trans[b].astype(np.float64), offsets[b].astype(np.float64))
        np.testing.assert_allclose(np.asarray(out["garment"])[b], garment, atol=1e-5, rtol=0)
        np.testing.assert_allclose(np.asarray(out["body"])[b], body, atol=1e-5, rtol=0)
    assert np.abs(np.asarray(out["body"])[0] - TEMPLATE["v_template"]).max() > 0.05  # the pose does move it


def test_global_rotation_equivariance():
    layer = SMPLG.from_arrays(TEMPLATE)
    betas, pose, trans, offsets = _inputs(1)
    rot = Rotation.from_rotvec([0.3, -1.1, 0.7])
    rotated = pose.copy()
    rotated[:, :3] = (rot * Rotation.from_rotvec(pose[:, :3])).as_rotvec()
    base, turned = layer(betas, pose, trans, offsets), layer(betas, rotated, trans, offsets)
    root = np.asarray(base["joints"])[:, :1]  # the root joint stays; everything turns about it
    for key in ("garment", "body", "joints"):
        expected = np.einsum("ab,nvb->nva", rot.as_matrix(), np.asarray(base[key]) - root) + root
        np.testing.assert_allclose(np.asarray(turned[key]), expected, atol=2e-5, rtol=0)


def test_body_model_file_errors_name_file_and_key(tmp_path):
    path = str(tmp_path / "smpl_converted.npz")
    np.savez(path, **{k: TEMPLATE[k] for k in ("v_template", "shapedirs", "posedirs", "weights", "vert_indices")})
    with pytest.raises(SMPLFileError, match=r"smpl_converted\.npz: missing key 'J_regressor'"):
        SMPLG.from_npz(path)
    np.savez(path, **{**{k: TEMPLATE[k] for k in ("v_template", "shapedirs", "posedirs", "J_regressor", "vert_indices")},
                      "weights": TEMPLATE["weights"][:, :23]})
    with pytest.raises(SMPLFileError, match=r"smpl_converted\.npz: key 'weights' has shape"):
        SMPLG.from_npz(path)
    with pytest.raises(SMPLFileError, match="nowhere.npz"):
        SMPLG.from_npz(str(tmp_path / "nowhere.npz"))
