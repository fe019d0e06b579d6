"""Spec card checks 1 (integral regression through HMOR's crop mapping) and 2 (back-projection round
trip, RootNet k), on HMOR's geometry (research/three_d/hmor/geometry.py) and its pose-head decoder."""

import keras
import numpy as np
import tensorflow as tf

from research.three_d.hmor import geometry
from research.three_d.hmor.model import SoftArgmax3D
from tests.research.three_d.hmor.hmor_fixtures import scenes

J, D, S = 3, 8, 16  # joints, depth bins, heatmap side


def one_hot_volume(points, logit=60.0):
    """(J, 3) integer voxels (x, y, z) -> (1, S, S, J*D) logits with one hot voxel per joint."""
    v = np.zeros((1, S, S, J * D), np.float32)
    for j, (x, y, z) in enumerate(points):
        v[0, y, x, j * D + z] = logit
    return v


def gaussian_volume(centres, sigma=1.0):
    """(1, S, S, J*D) log-Gaussian blobs (mass far from the border, so shifts move the mean exactly)."""
    y, x, z = np.meshgrid(np.arange(S), np.arange(S), np.arange(D), indexing="ij")
    v = np.zeros((1, S, S, J * D), np.float32)
    for j, (cx, cy, cz) in enumerate(centres):
        v[0, :, :, j * D:(j + 1) * D] = -((x - cx) ** 2 + (y - cy) ** 2 + (z - cz) ** 2) / (2 * sigma**2)
    return v


def test_check1_one_hot_voxel_decodes_exactly_and_is_translation_equivariant():
    points = np.array([[3, 5, 1], [10, 2, 6], [15, 15, 7]])
    decode = SoftArgmax3D(J, D)
    got = np.asarray(decode(one_hot_volume(points)))[0]
    np.testing.assert_allclose(got, points, atol=1e-4)
    blobs = gaussian_volume(np.array([[7, 7, 3], [8, 6, 4], [6, 8, 4]]))
    soft = np.asarray(decode(blobs))[0]
    np.testing.assert_allclose(soft, [[7, 7, 3], [8, 6, 4], [6, 8, 4]], atol=1e-3)
    shifted = np.asarray(decode(np.roll(blobs, (1, 2), axis=(1, 2))))[0]  # y by 1, x by 2
    np.testing.assert_allclose(shifted - soft, [[2.0, 1.0, 0.0]] * J, atol=1e-3)
    volume = tf.Variable(blobs)
    with tf.GradientTape() as tape:
        x = decode(volume)[0, 0, 0]
    grad = tape.gradient(x, volume).numpy()
    assert np.abs(grad).max() > 1e-3  # differentiable: the x of joint 0 moves with the logits


def test_check1_decoded_voxel_maps_to_the_crop_pixel_and_root_relative_depth():
    """A one-hot voxel (x, y, z) of a crop decodes to u = x1 + (x + 0.5) side / S and 3DMPPE's depth."""
    boxes = np.array([[[20.0, 10.0, 40.0, 50.0]]], np.float32)  # w 20, h 40 -> square side 50 (x 1.25)
    crops = np.asarray(geometry.crop_boxes(boxes, 1.25))
    np.testing.assert_allclose(crops[0, 0], [5.0, 5.0, 55.0, 55.0])
    points = np.array([[0, 0, 0], [15, 7, 4], [8, 15, 7]])
    hm = np.asarray(SoftArgmax3D(J, D)(one_hot_volume(points)))[None]  # (1, 1, J, 3)
    focal, center = np.array([[100.0, 120.0]], np.float32), np.array([[30.0, 28.0]], np.float32)
    out = geometry.lift(hm, np.array([[4000.0]], np.float32), crops, focal, center, S, D, 2000.0)
    uv = np.asarray(out["joints_img"])[0, 0]
    np.testing.assert_allclose(uv[:, 0], 5.0 + (points[:, 0] + 0.5) * 50.0 / S, atol=1e-3)
    np.testing.assert_allclose(uv[:, 1], 5.0 + (points[:, 1] + 0.5) * 50.0 / S, atol=1e-3)
    np.testing.assert_allclose(np.asarray(out["z_rel"])[0, 0], (points[:, 2] / D * 2 - 1) * 1000.0, atol=1e-2)


def test_check2_back_projection_round_trip_and_rootnet_k():
    """GT joints -> (u, v, Z) -> heatmap voxels of the GT crop -> lift returns the joints to 1e-3 mm."""
    scene = scenes(3, 1)[0]
    cam = np.stack([p["keypoints_cam"] for p in scene["people"]]).astype(np.float64)  # (P, J, 3)
    img = np.stack([p["keypoints_img"] for p in scene["people"]]).astype(np.float64)
    box = np.stack([p["bbox"] for p in scene["people"]]).astype(np.float64)
    boxes = np.concatenate([box[:, :2], box[:, :2] + box[:, 2:]], -1)[None]
    focal, center = np.asarray(scene["f"])[None], np.asarray(scene["c"])[None]
    root = 14
    crops = geometry.crop_boxes(boxes, 1.25)
    hm = geometry.image_to_heatmap(img[None], crops, 64)
    z_rel = cam[..., 2] - cam[:, root:root + 1, 2]
    from official.ops import integral_decode

    z_bins = integral_decode.mm_to_depth_bins(z_rel, 64, 2000.0)
    voxels = np.concatenate([np.asarray(hm), np.asarray(z_bins)[None, ..., None]], -1)
    out = geometry.lift(voxels, cam[None, :, root, 2], crops, focal, center, 64, 64, 2000.0)
    # float32 model maths at Z ~ 2-8 m: 1e-3 mm is below float32's resolution there, so the check that
    # holds to 1e-3 mm is the float64 camera round trip; the float32 lift holds to a few 1e-3 mm
    np.testing.assert_allclose(np.asarray(out["joints_cam"])[0], cam, atol=5e-3 * 8)
    from official.ops import camera

    back = np.asarray(camera.back_project(img, cam[..., 2], focal[0], center[0]))
    np.testing.assert_allclose(back, cam, atol=1e-3)
    c = np.asarray(crops)[0]
    side = np.maximum(box[:, 2], box[:, 3]) * 1.25
    np.testing.assert_allclose(c[:, 2] - c[:, 0], side, rtol=1e-5)
    k = np.asarray(geometry.crop_k(focal, crops))[0]
    np.testing.assert_allclose(k, np.sqrt(focal[0, 0] * focal[0, 1] * 2000.0 * 2000.0 / (side * side)), rtol=1e-5)
    assert keras.backend.backend() == "tensorflow"
