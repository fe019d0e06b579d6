"""Skeleton tables (3DMPPE joint orders) and the synthetic pose / camera / scene generator."""

from __future__ import annotations

import math

import numpy as np
import pytest
from keras import ops

from official.data import humans3d, skeletons3d
from official.data.skeletons3d import H36M_17, MUCO_21, MUPOTS_17, SMPL_24
from official.ops import camera

# 3DMPPE_POSENET_RELEASE data/Human36M/Human36M.py (without the appended Thorax) and data/MuCo/MuCo.py.
H36M_NAMES = ("Pelvis", "R_Hip", "R_Knee", "R_Ankle", "L_Hip", "L_Knee", "L_Ankle", "Torso", "Neck", "Nose",
              "Head", "L_Shoulder", "L_Elbow", "L_Wrist", "R_Shoulder", "R_Elbow", "R_Wrist")
MUCO_NAMES = ("Head_top", "Thorax", "R_Shoulder", "R_Elbow", "R_Wrist", "L_Shoulder", "L_Elbow", "L_Wrist",
              "R_Hip", "R_Knee", "R_Ankle", "L_Hip", "L_Knee", "L_Ankle", "Pelvis", "Spine", "Head", "R_Hand",
              "L_Hand", "R_Toe", "L_Toe")


def _np(x):
    return np.asarray(ops.convert_to_numpy(x), np.float64)


def test_joint_orders_are_3dmppe():
    assert H36M_17.joint_names == H36M_NAMES and H36M_17.root == 0
    assert MUCO_21.joint_names == MUCO_NAMES and MUCO_21.root == 14 == MUCO_NAMES.index("Pelvis")
    assert MUPOTS_17.joint_names == MUCO_NAMES[:17] and MUPOTS_17.root == 14
    assert skeletons3d.MUPOTS_EVAL_17 == tuple(range(17))
    assert H36M_17.limbs[:3] == ((0, 7), (7, 8), (8, 9)) and len(H36M_17.limbs) == 16
    assert MUCO_21.limbs[8] == (10, 19) and len(MUCO_21.limbs) == 20 and len(MUPOTS_17.limbs) == 16
    assert SMPL_24.parents == (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)
    assert skeletons3d.COCO_FEET_23.joint_names[17:] == (
        "left_big_toe", "left_small_toe", "left_heel", "right_big_toe", "right_small_toe", "right_heel")
    for skel in skeletons3d.SKELETONS.values():
        # limbs are the kinematic tree's edges; flip pairs join a left and a right joint of the same name
        tree = {frozenset((p, c)) for c, p in enumerate(skel.parents) if p >= 0}
        assert {frozenset(limb) for limb in skel.limbs} == tree, skel.name
        for a, b in skel.flip_pairs:
            names = sorted(n.lower().replace("left", "l").replace("right", "r") for n in
                           (skel.joint_names[a], skel.joint_names[b]))
            assert names[0][1:] == names[1][1:] and {names[0][0], names[1][0]} == {"l", "r"}, names
        perm = skel.flip_permutation
        assert (perm[perm] == np.arange(skel.num_joints)).all()
    with pytest.raises(ValueError, match="skeleton: unknown 'h36m'"):
        skeletons3d.get_skeleton("h36m")


@pytest.mark.parametrize("skel", list(skeletons3d.SKELETONS.values()), ids=lambda s: s.name)
def test_bone_lengths_equal_the_table(skel):
    rng = np.random.default_rng(1)
    for _ in range(5):
        pose = humans3d.random_pose(skel, rng)
        np.testing.assert_array_equal(pose[skel.root], 0.0)
        for j, p in enumerate(skel.parents):
            if p >= 0:
                assert np.linalg.norm(pose[j] - pose[p]) == pytest.approx(skel.bone_lengths_mm[j], abs=1e-9)
    assert H36M_17.bone_lengths_mm[H36M_17.index("L_Knee")] == 443.0  # the fixed table, not rescaled


def _angle(a, b):
    cos = np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))
    return math.degrees(math.acos(np.clip(cos, -1.0, 1.0)))


def test_joint_angle_limits_hold_and_are_used():
    """The angle between a bone and its parent bone differs from the rest pose's by at most the limit
    (a local rotation of angle t moves a direction by at most t); the limit is reached, not just kept."""
    rng = np.random.default_rng(2)
    rest = H36M_17.rest_pose()
    worst = 0.0
    for _ in range(40):
        pose = humans3d.random_pose(H36M_17, rng, max_angle_deg=30.0)
        for j, p in enumerate(H36M_17.parents):
            g = H36M_17.parents[p] if p >= 0 else -1
            if g < 0:
                continue
            change = abs(_angle(pose[j] - pose[p], pose[p] - pose[g]) - _angle(rest[j] - rest[p], rest[p] - rest[g]))
            worst = max(worst, change)
    assert 20.0 < worst <= 30.0 + 1e-6
    # No joint rotation: the pose is the rest pose turned as a whole (heading + tilt), so distances stay.
    still = humans3d.random_pose(H36M_17, rng, max_angle_deg=0.0)
    dist = lambda x: np.linalg.norm(x[:, None] - x[None], axis=-1)  # noqa: E731
    np.testing.assert_allclose(dist(still), dist(rest), atol=1e-9)
    assert np.abs(still - rest).max() > 1.0  # ... but turned


def test_scene_geometry_is_consistent():
    """keypoints_img = project(keypoints_cam) with the image's f, c; keypoints_cam = world_to_camera of
    the world joints; the camera centre t maps to the origin; roots in range, in the image, 500 mm apart."""
    rng = np.random.default_rng(3)
    for _ in range(3):
        sc = humans3d.scene(rng, MUCO_21, people=(3, 3), image_size=(96, 96))
        assert sc["image"].shape == (96, 96, 3) and sc["image"].dtype == np.uint8
        assert abs(sc["f"][0] / sc["f"][1] - 1) <= 0.021 and sc["f"][0] != sc["f"][1]
        assert 1500 * 96 / 512 * 0.9 <= sc["f"][0] <= 1500 * 96 / 512 * 1.1
        # the camera centre (camera_to_world of the origin) is 1-2 m above the world origin (y down)
        centre = _np(camera.camera_to_world(np.zeros(3), sc["R"], sc["t"]))
        assert -2000 <= centre[1] <= -1000 and np.abs(centre[[0, 2]]).max() < 1e-9
        roots = []
        for person in sc["people"]:
            cam = person["keypoints_cam"]
            np.testing.assert_allclose(person["keypoints_img"], _np(camera.project(cam, sc["f"], sc["c"])),
                                       atol=1e-9)
            np.testing.assert_allclose(cam, _np(camera.world_to_camera(person["keypoints_world"], sc["R"], sc["t"])),
                                       atol=1e-9)
            root = cam[MUCO_21.root]
            assert 2000 <= root[2] <= 8000
            u, v = person["keypoints_img"][MUCO_21.root]
            assert 0.1 * 96 - 1e-6 <= u <= 0.9 * 96 + 1e-6 and 0.1 * 96 - 1e-6 <= v <= 0.9 * 96 + 1e-6
            x, y, w, h = person["bbox"]
            assert w > 0 and h > 0 and x <= u <= x + w and y <= v <= y + h
            roots.append(root)
        assert len(roots) == 3
        assert min(np.linalg.norm(a - b) for i, a in enumerate(roots) for b in roots[i + 1:]) >= 500


def test_people_stand_upright_in_the_image():
    """World y is down and cameras pitch only a little: with no joint rotation, the head top is above the
    pelvis, which is above the ankles, in every image (a camera rotation with a flipped axis fails)."""
    rng = np.random.default_rng(4)
    for _ in range(3):
        sc = humans3d.scene(rng, MUCO_21, people=(2, 2), image_size=(64, 64), max_angle_deg=0.0)
        for person in sc["people"]:
            v = person["keypoints_img"][:, 1]
            assert v[MUCO_21.index("Head_top")] < v[MUCO_21.root] < min(v[10], v[13])
    # look_at (the Human3.6M cameras): the target is on the optical axis, world down is image down
    position = np.array([3000.0, -1500.0, -3000.0])
    rot = humans3d.look_at(position, [0.0, -900.0, 0.0])
    t = humans3d.camera_translation(rot, position)
    np.testing.assert_allclose(_np(camera.world_to_camera(position, rot, t)), 0.0, atol=1e-9)
    target = _np(camera.world_to_camera(np.array([0.0, -900.0, 0.0]), rot, t))
    np.testing.assert_allclose(target[:2], 0.0, atol=1e-9)
    assert target[2] > 0 and rot[1, 1] > 0.9 and abs(np.linalg.det(rot) - 1) < 1e-12


def test_painter_order_and_visibility():
    """Two people on the same pixels: the nearer one is drawn on top and its joints are the visible ones,
    whichever order they are listed in."""
    joints = H36M_17.rest_pose()[:, :2] / 30.0 + 32.0  # all 17 inside the 64 x 64 image
    colors = [(255, 0, 0), (0, 0, 255)]
    for near in (0, 1):
        depths = [np.full(17, 3000.0 if p == near else 6000.0) for p in range(2)]
        image, labels = humans3d.render_people((64, 64), [joints, joints], H36M_17, colors, depths, [2.0, 2.0],
                                               return_labels=True)
        u, v = np.round(joints[0]).astype(int)
        assert labels[v, u] == near + 1
        np.testing.assert_array_equal(image[v, u], colors[near])  # flat limb at the root depth: unshaded
        assert humans3d.visibility(joints, labels, near).all()
        assert not humans3d.visibility(joints, labels, 1 - near).any()
    # Outside the image: not visible.
    assert humans3d.visibility(joints + 100.0, labels, near).sum() == 0


def test_a_seed_gives_the_same_scene():
    a = humans3d.scene(np.random.default_rng(7), H36M_17, image_size=(64, 64))
    b = humans3d.scene(np.random.default_rng(7), H36M_17, image_size=(64, 64))
    c = humans3d.scene(np.random.default_rng(8), H36M_17, image_size=(64, 64))
    np.testing.assert_array_equal(a["image"], b["image"])
    np.testing.assert_array_equal(a["people"][0]["keypoints_cam"], b["people"][0]["keypoints_cam"])
    assert not np.array_equal(a["image"], c["image"])
