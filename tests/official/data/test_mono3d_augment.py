"""The KM3D input transform (official/data/mono3d_augment.py): exact flip of image, labels and P2, and the
crop affine folded into P2, checked against the numpy box geometry."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from official.data import mono3d_augment as aug
from official.data.keypoint_affine import apply_affine
from official.data.kitti_geometry import FLIP_PAIRS, alpha_from_rotation_y, box2d_from_3d, box_keypoints_2d

H, W, M = 96, 320, 6
SCALE = W / 1242.0
# KITTI's P2 scaled to a 320-px-wide image, P2[2, 3] kept (so the flip must use the general formula).
P2 = np.array(
    [
        [721.5377 * SCALE, 0.0, 609.5593 * SCALE, 44.85728 * SCALE],
        [0.0, 721.5377 * SCALE, 172.854 * H / 375.0, 0.2163791 * SCALE],
        [0.0, 0.0, 1.0, 0.002745884],
    ]
)


def _example(seed=0, count=4):
    rng = np.random.default_rng(seed)
    dims = np.zeros((M, 3), np.float32)
    locs = np.zeros((M, 3), np.float32)
    ry = np.zeros(M, np.float32)
    dims[:count] = rng.uniform([1.4, 0.5, 0.8], [1.8, 1.8, 4.2], (count, 3))
    z = rng.uniform(8, 30, count)
    locs[:count] = np.stack([rng.uniform(-0.3, 0.3, count) * z, np.full(count, 1.65), z], 1)
    ry[:count] = rng.uniform(-np.pi, np.pi, count)
    alpha = np.zeros(M, np.float32)
    alpha[:count] = alpha_from_rotation_y(ry[:count], locs[:count, 0], locs[:count, 2])
    boxes = np.zeros((M, 4), np.float32)
    boxes[:count] = box2d_from_3d(dims[:count], locs[:count], ry[:count], P2, (H, W))
    valid = np.arange(M) < count
    image = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    return {
        "image": tf.constant(image),
        "image_id": tf.constant("000007"),
        "image_size": tf.constant([H, W], tf.int32),
        "P2": tf.constant(P2, tf.float32),
        "gt_classes": tf.constant(np.where(valid, 0, -1), tf.int32),
        "gt_boxes2d": tf.constant(boxes),
        "gt_dimensions": tf.constant(dims),
        "gt_locations": tf.constant(locs),
        "gt_rotation_y": tf.constant(ry),
        "gt_alpha": tf.constant(alpha),
        "gt_truncated": tf.zeros([M]),
        "gt_occluded": tf.zeros([M], tf.int32),
        "gt_valid": tf.constant(valid),
        "num_objects": tf.constant(count, tf.int32),
    }


def _keypoints(ex, n):
    ex = {k: np.asarray(v) for k, v in ex.items()}
    return box_keypoints_2d(
        ex["gt_dimensions"][:n], ex["gt_locations"][:n], ex["gt_rotation_y"][:n], ex["P2"]
    )


def _mirrored(kp, width):
    out = kp.copy()
    out[..., 0] = width - 1 - out[..., 0]
    for a, b in FLIP_PAIRS:
        out[:, [a, b]] = out[:, [b, a]]
    return out


def test_flip_projects_onto_mirrored_image():
    ex = _example()
    out = aug.flip_example(ex)
    np.testing.assert_array_equal(out["image"].numpy(), ex["image"].numpy()[:, ::-1])
    original = _keypoints(ex, 4)
    flipped = _keypoints(out, 4)
    np.testing.assert_allclose(flipped, _mirrored(original, W), atol=1e-3)
    # labels stay self-consistent: alpha from the mirrored rotation_y and location, boxes mirrored
    loc = out["gt_locations"].numpy()[:4]
    alpha = alpha_from_rotation_y(out["gt_rotation_y"].numpy()[:4], loc[:, 0], loc[:, 2])
    np.testing.assert_allclose(np.cos(alpha - out["gt_alpha"].numpy()[:4]), 1.0, atol=1e-6)
    assert np.all(np.abs(out["gt_rotation_y"].numpy()) <= np.pi)
    box = ex["gt_boxes2d"].numpy()[:4]
    np.testing.assert_allclose(
        out["gt_boxes2d"].numpy()[:4],
        np.stack([W - 1 - box[:, 2], box[:, 1], W - 1 - box[:, 0], box[:, 3]], 1),
    )
    assert not out["gt_boxes2d"].numpy()[4:].any() and not out["gt_locations"].numpy()[4:].any()
    changed = {k for k in ex if not np.array_equal(np.asarray(out[k]), np.asarray(ex[k]))}
    assert changed == set(aug.FLIPPED_KEYS)  # mono3d_transform selects exactly these under tf.cond
    # flipping twice is the identity
    twice = aug.flip_example(out)
    for key in ("image", "P2", "gt_locations", "gt_boxes2d"):
        np.testing.assert_allclose(twice[key].numpy(), ex[key].numpy(), atol=1e-4)


@pytest.mark.parametrize(
    "center, scale", [((160.0, 48.0), 320.0), ((101.0, 60.0), 224.0), ((250.0, 30.0), 410.0)]
)
def test_affine_folded_into_p2(center, scale):
    ex = _example(1)
    input_size = (64, 192)
    out = aug.affine_example(ex, tf.constant(center), tf.constant(scale), input_size)
    a = out["input_affine"].numpy()
    np.testing.assert_allclose(_keypoints(out, 4), apply_affine(_keypoints(ex, 4), a), atol=1e-3)
    a_inv = out["input_affine_inv"].numpy()
    pts = np.array([[0.0, 0.0], [191.0, 63.0], [37.5, 12.25]])
    np.testing.assert_allclose(apply_affine(apply_affine(pts, a_inv), a), pts, atol=1e-4)
    # boxes through A and clipped to the input
    box = ex["gt_boxes2d"].numpy()[:4]
    corners = apply_affine(box.reshape(-1, 2), a).reshape(-1, 4)
    clipped = np.clip(corners, 0, [191, 63, 191, 63])
    valid = out["gt_valid"].numpy()[:4]
    np.testing.assert_allclose(out["gt_boxes2d"].numpy()[:4][valid], clipped[valid], atol=1e-3)
    assert not out["gt_valid"].numpy()[4:].any()


def test_affine_pixels_at_unit_zoom_are_a_crop():
    ex = _example(2)
    input_size = (40, 100)  # s = input width -> zoom 1; centre (150, 50) -> top-left (100, 30)
    out = aug.affine_example(ex, tf.constant([150.0, 50.0]), tf.constant(100.0), input_size)
    np.testing.assert_allclose(
        out["image"].numpy(), ex["image"].numpy()[30:70, 100:200].astype(np.float32), atol=1e-3
    )


def test_km3d_border():
    assert [int(aug.km3d_border(128, n)) for n in (1242, 375, 256, 200, 96)] == [128, 128, 64, 64, 32]


def test_training_transform_consistent_and_deterministic():
    ex = _example(3)
    input_size = (64, 192)
    original = _keypoints(ex, 4)
    seen_flip = set()
    for seed in range(8):
        out = aug.mono3d_transform(ex, input_size, training=True, seed=seed, color_jitter=0.3)
        flipped = bool(out["flipped"])
        seen_flip.add(flipped)
        source = _mirrored(original, W) if flipped else original
        np.testing.assert_allclose(
            _keypoints(out, 4), apply_affine(source, out["input_affine"].numpy()), atol=1e-3
        )
        assert out["image"].shape == (64, 192, 3) and out["image"].dtype == tf.float32
        assert out["image_size"].numpy().tolist() == [H, W]
        scale = 192.0 / out["input_affine"].numpy()[0, 0]
        assert np.isclose(scale / W, np.round(scale / W, 1), atol=1e-4) and 0.59 < scale / W < 1.31
        again = aug.mono3d_transform(ex, input_size, training=True, seed=seed, color_jitter=0.3)
        np.testing.assert_array_equal(out["image"].numpy(), again["image"].numpy())
    assert seen_flip == {True, False}


def test_eval_transform_and_dataset():
    ex = _example(4)
    ds = aug.mono3d_dataset(tf.data.Dataset.from_tensors(ex), training=False, input_size=(48, 160))
    out = next(iter(ds))
    # c = image centre, s = max(H, W): zoom 160 / 320 = 0.5, (160, 48) -> (80, 24)
    np.testing.assert_allclose(out["input_affine"].numpy(), [[0.5, 0, 0], [0, 0.5, 0]], atol=1e-6)
    assert not bool(out["flipped"])
    raw = aug.affine_example(ex, tf.constant([160.0, 48.0]), tf.constant(320.0), (48, 160))["image"]
    np.testing.assert_allclose(out["image"].numpy(), aug.normalize_image(raw).numpy(), atol=1e-5)
    mean = np.array(aug.IMAGENET_MEAN) * 255
    np.testing.assert_allclose(aug.normalize_image(tf.constant(mean[None, None])).numpy(), 0.0, atol=1e-5)
    train = aug.mono3d_dataset(
        tf.data.Dataset.from_tensors(ex).repeat(2), training=True, seed=5, input_size=(48, 160)
    )
    first = [o["input_affine"].numpy() for o in train]
    second = [o["input_affine"].numpy() for o in aug.mono3d_dataset(
        tf.data.Dataset.from_tensors(ex).repeat(2), training=True, seed=5, input_size=(48, 160))]  # fmt: skip
    np.testing.assert_array_equal(first, second)
