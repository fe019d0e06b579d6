"""Card checks 5 (camera round trip on the Human3.6M-layout fixture, through the task's crop labels) and 6
(MPJPE / PA-MPJPE of the task's evaluation: zero for GT, similarity-invariant PA, scipy's Procrustes)."""

from __future__ import annotations

import json
import os

import numpy as np
from scipy.linalg import orthogonal_procrustes

from official.evaluation import pose3d
from official.ops.camera import world_to_camera
from research.three_d.partaware_pose import losses
from research.three_d.partaware_pose.task import PartAwarePoseTask
from tests.research.three_d.partaware_pose.pa_fixtures import micro_config


def _batch(root, training=False):
    task = PartAwarePoseTask(micro_config(root))
    images, labels = next(iter(task.build_inputs(task.config.eval_data, training, 16)))
    return task, np.asarray(images), np.asarray(labels)


def test_camera_round_trip_on_the_fixture(h36m_dir):
    task, images, labels = _batch(h36m_dir)
    assert images.shape == (16, 32, 32, 3) and labels.shape == (16, 17, losses.LABEL_WIDTH)
    # GT camera joints of the labels = the JSON's world joints through the JSON camera (3DMPPE world2cam)
    ann = os.path.join(h36m_dir, "annotations")
    cams = json.load(open(os.path.join(ann, "Human36M_subject1_camera.json")))
    world = json.load(open(os.path.join(ann, "Human36M_subject1_joint_3d.json")))
    records = task.records(task.config.eval_data)
    for n in range(4):
        meta = {k: int(records.metadata[k][n]) for k in ("cam_idx", "action_idx", "subaction_idx", "frame_idx")}
        cam = cams[str(meta["cam_idx"])]
        xyz = np.asarray(world[str(meta["action_idx"])][str(meta["subaction_idx"])][str(meta["frame_idx"])])
        want = np.asarray(world_to_camera(xyz, np.asarray(cam["R"]), np.asarray(cam["t"])))
        np.testing.assert_allclose(labels[n, :, 5:8], want, atol=1e-3)
    # targets (heatmap px, depth bins) -> image px -> back-projection with the GT root depth = camera joints
    back = np.asarray(losses.joints_to_camera(labels, labels[..., :3], 8, 2000.0))
    np.testing.assert_allclose(back, labels[..., 5:8], atol=1e-3)
    assert labels[..., 3].mean() > 0.9  # joints inside the crop and visible


def test_augmented_labels_stay_consistent(h36m_dir):
    """Scale, rotation and flip (with the left/right swap) keep targets and camera joints of one example."""
    _, _, labels = _batch(h36m_dir, training=True)
    back = np.asarray(losses.joints_to_camera(labels, labels[..., :3], 8, 2000.0))
    inside = labels[..., 3] > 0
    assert inside.mean() > 0.5
    np.testing.assert_allclose(back[inside], labels[..., 5:8][inside], atol=1e-2)


def _kabsch_reference(pred, gt):
    """Similarity Procrustes with scipy.linalg.orthogonal_procrustes (reflections removed) -> PA-MPJPE."""
    errors = []
    for p, g in zip(pred, gt, strict=True):
        pc, gc = p - p.mean(0), g - g.mean(0)
        r, _ = orthogonal_procrustes(pc, gc)
        if np.linalg.det(r) < 0:
            u, s, vt = np.linalg.svd(pc.T @ gc)
            u[:, -1] *= -1
            r = u @ vt
        scale = np.trace((pc @ r).T @ gc) / np.trace(pc.T @ pc)
        errors.append(np.linalg.norm(scale * pc @ r + g.mean(0) - g, axis=-1).mean())
    return float(np.mean(errors))


def test_task_metrics(h36m_dir):
    task, images, labels = _batch(h36m_dir)
    scores = task._scores(lambda x: labels[..., :3], [(images, labels)], None)
    assert scores["mpjpe"] < 1e-3 and scores["pa_mpjpe"] < 1e-3 and scores["examples"] == 16
    metric = losses.MPJPE(8, 2000.0)
    rng = np.random.default_rng(0)
    noisy = labels[..., :3] + rng.normal(0, 0.3, labels[..., :3].shape).astype("float32")
    metric.update_state(labels, noisy)
    pred = np.asarray(losses.joints_to_camera(labels, noisy, 8, 2000.0)).astype(np.float64)
    gt = labels[..., 5:8].astype(np.float64)
    assert abs(float(metric.result()) - pose3d.mpjpe(pred, gt, root=0)) < 1e-2
    assert abs(task._scores(lambda x: noisy, [(images, labels)], None)["mpjpe"] - float(metric.result())) < 1e-2
    # PA-MPJPE: invariant to a random similarity of the prediction, equal to the scipy reference
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.linalg.det(q))
    moved = 1.7 * pred @ q.T + rng.normal(size=3) * 100
    assert abs(pose3d.pa_mpjpe(moved, gt) - pose3d.pa_mpjpe(pred, gt)) < 1e-6
    assert abs(pose3d.pa_mpjpe(pred, gt) - _kabsch_reference(pred, gt)) < 1e-6
