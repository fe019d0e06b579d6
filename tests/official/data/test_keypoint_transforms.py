"""Top-down keypoint transforms: the crop affine against RSN's three-point construction (cv2), its
inverse, the TF warp against exact bilinear sampling, flips, half-body selection and cv2-exact targets."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import tensorflow as tf
from scipy import ndimage

from official.data import keypoint_affine as ka
from official.data import keypoint_augment as kaug
from official.data import keypoint_targets as kt
from official.data.keypoint_constants import COCO, COCO_SIGMAS, MPII


def three_point_affine(center, scale_w, rotation, out_h, out_w):
    """RSN's construction written out: centre -> crop centre, centre + rotated 'up' half-width vector ->
    straight up, and a third point perpendicular to both, solved by cv2.getAffineTransform."""
    r = np.deg2rad(rotation)
    up = np.array([0.0, -scale_w / 2.0])
    src_dir = np.array([up[0] * np.cos(r) - up[1] * np.sin(r), up[0] * np.sin(r) + up[1] * np.cos(r)])
    src = np.zeros((3, 2))
    dst = np.zeros((3, 2))
    src[0], src[1] = center, np.asarray(center) + src_dir
    dst[0] = [out_w / 2.0, out_h / 2.0]
    dst[1] = dst[0] + np.array([0.0, -out_w / 2.0])
    for pts in (src, dst):
        d = pts[0] - pts[1]
        pts[2] = pts[1] + np.array([-d[1], d[0]])
    return cv2.getAffineTransform(src.astype(np.float32), dst.astype(np.float32))


CASES = [
    ((120.5, 80.25), (96.0, 128.0), 0.0),
    ((33.0, 310.0), (40.0, 53.3), 37.0),
    ((400.0, 12.0), (150.0, 200.0), -44.5),
]


@pytest.mark.parametrize("center,scale,rotation", CASES)
def test_crop_affine_matches_three_point_construction(center, scale, rotation):
    got = ka.crop_affine(center, scale, rotation, (256, 192))
    want = three_point_affine(center, scale[0], rotation, 256, 192)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-3)
    np.testing.assert_allclose(
        ka.crop_affine_tf(center, scale, rotation, (256, 192)).numpy(), got, rtol=1e-5, atol=1e-4
    )
    # centre -> (W/2, H/2); a point scale_w/2 "up" along the rotated axis -> the top edge's middle.
    np.testing.assert_allclose(ka.apply_affine(center, got), [96.0, 128.0], atol=1e-9)


def test_affine_round_trip_numpy_and_tf():
    rng = np.random.default_rng(0)
    pts = rng.uniform(-50, 650, size=(40, 2))
    for center, scale, rotation in CASES:
        m = ka.crop_affine(center, scale, rotation, (256, 192))
        back = ka.apply_affine(ka.apply_affine(pts, m), ka.invert_affine(m))
        np.testing.assert_allclose(back, pts, atol=1e-9)
        m_tf = ka.crop_affine_tf(center, scale, rotation, (256, 192))
        back_tf = ka.apply_affine_tf(ka.apply_affine_tf(pts, m_tf), ka.invert_affine_tf(m_tf)).numpy()
        np.testing.assert_allclose(back_tf, pts, atol=1e-4)


def test_box_to_center_scale_fits_aspect_ratio():
    center, scale = ka.box_to_center_scale([10.0, 20.0, 30.0, 80.0], 0.75, extension=(1.09, 1.135))
    np.testing.assert_allclose(center, [25.0, 60.0])
    np.testing.assert_allclose(scale, [80 * 1.135 * 0.75, 80 * 1.135])  # tall box: width grows
    _, wide = ka.box_to_center_scale([0.0, 0.0, 100.0, 40.0], 0.75)
    np.testing.assert_allclose(wide, [100.0, 100.0 / 0.75])
    np.testing.assert_allclose(
        ka.fit_aspect_ratio_tf(tf.constant([[100.0, 40.0], [30.0, 80.0]]), 0.75).numpy(),
        [[100.0, 133.33333], [60.0, 80.0]],
        rtol=1e-6,
    )


def test_eval_box_extension_like_rsn():
    # RSN attribute.py TEST: COCO x (1 + 0.01 * 9) in width, x (1 + 0.015 * 9) in height; MPII x 1.25.
    for size, cfg, want in (
        ((100.0, 40.0), kaug.COCO_AUGMENT, (109.0, 109.0 / 0.75)),
        ((30.0, 80.0), kaug.COCO_AUGMENT, (90.8 * 0.75, 90.8)),
        ((50.0, 50.0), kaug.MPII_AUGMENT, (62.5, 62.5 / 0.75)),
    ):
        center, scale = kaug.person_box([3.0, 4.0], size, cfg, 0.75)
        np.testing.assert_allclose(scale.numpy(), want, rtol=1e-6)
        np.testing.assert_allclose(center.numpy(), [3.0, 4.0])


def test_train_box_extension_ranges():
    ratios = np.array(
        [
            kaug.extend_box([10.0, 10.0], kaug.COCO_AUGMENT, True, tf.constant([s, 9])).numpy() / 10
            for s in range(64)
        ]
    )
    # width x 1.05 x (1 + U * 0.6), height x 1.05 x (1 + U * 0.8)  (RSN attribute.py COCO.TRAIN)
    assert ratios[:, 0].min() >= 1.05 - 1e-6 and ratios[:, 0].max() <= 1.05 * 1.6 + 1e-6
    assert ratios[:, 1].min() >= 1.05 - 1e-6 and ratios[:, 1].max() <= 1.05 * 1.8 + 1e-6
    assert ratios[:, 0].max() > 1.05 * 1.5 and ratios[:, 1].max() > 1.05 * 1.7
    np.testing.assert_allclose(
        kaug.extend_box([10.0, 20.0], kaug.MPII_AUGMENT, True, 1).numpy(), [12.5, 25.0]
    )


def test_warp_is_exact_bilinear_and_agrees_with_cv2():
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:50, 0:40]
    image = np.stack([2 * xx + 3 * yy, 255 - 4 * yy, 100 + 40 * np.sin(xx / 5.0)], -1).astype(np.float32)
    image += rng.uniform(0, 4, image.shape).astype(np.float32)
    m = ka.crop_affine((21.3, 24.8), (30.0, 40.0), 23.0, (32, 24))
    got = ka.warp_affine(tf.constant(image), tf.constant(m, tf.float32), (32, 24)).numpy()
    inv = ka.invert_affine(m)
    oy, ox = np.mgrid[0:32, 0:24].astype(np.float64)
    sx = inv[0, 0] * ox + inv[0, 1] * oy + inv[0, 2]
    sy = inv[1, 0] * ox + inv[1, 1] * oy + inv[1, 2]
    want = np.stack(
        [
            ndimage.map_coordinates(image[..., c], [sy, sx], order=1, mode="grid-constant", cval=0.0)
            for c in range(3)
        ],
        -1,
    )
    np.testing.assert_allclose(got, want, atol=2e-3)
    # cv2 (RSN) samples on a 1/32-pixel grid: same picture up to that rounding.
    ref = cv2.warpAffine(image, m, (24, 32), flags=cv2.INTER_LINEAR)
    assert np.abs(got - ref).mean() < 0.5


def test_flip_keypoints_mirrors_and_swaps_pairs():
    kp = np.zeros((17, 3), np.float32)
    kp[:, 0] = np.arange(17) * 3.0 + 1.0
    kp[:, 1] = np.arange(17) * 2.0
    kp[:, 2] = np.arange(17) % 3
    flipped = kaug.flip_keypoints(kp, 100, COCO).numpy()
    # left shoulder (5) at x=16 becomes the right shoulder (6) at x = 100 - 1 - 16 (RSN flip_joints).
    np.testing.assert_allclose(flipped[6], [100 - 1 - kp[5, 0], kp[5, 1], kp[5, 2]])
    np.testing.assert_allclose(flipped[5], [100 - 1 - kp[6, 0], kp[6, 1], kp[6, 2]])
    np.testing.assert_allclose(flipped[0], [100 - 1 - kp[0, 0], kp[0, 1], kp[0, 2]])  # nose has no pair
    np.testing.assert_allclose(kaug.flip_keypoints(flipped, 100, COCO).numpy(), kp)
    mpii = np.concatenate([np.arange(32, dtype=np.float32).reshape(16, 2), np.ones((16, 1), np.float32)], 1)
    np.testing.assert_allclose(
        kaug.flip_keypoints(kaug.flip_keypoints(mpii, 64, MPII), 64, MPII).numpy(), mpii
    )
    assert kaug.flip_keypoints(mpii, 64, MPII).numpy()[5, 0] == 64 - 1 - mpii[0, 0]  # r_ankle <-> l_ankle


def test_keypoint_constants():
    assert COCO.flip_pairs == tuple((i, i + 1) for i in range(1, 17, 2))
    assert MPII.flip_pairs == ((0, 5), (1, 4), (2, 3), (10, 15), (11, 14), (12, 13))
    assert all(COCO.flip_index[COCO.flip_index[i]] == i for i in range(17))
    # RSN attribute.py half-body sets: COCO upper 0-12 (hips count as upper), MPII upper 7-15.
    assert COCO.upper_body_ids == tuple(range(13)) and COCO.is_upper_body.count(False) == 4
    assert MPII.upper_body_ids == tuple(range(7, 16)) and MPII.lower_body_ids == tuple(range(7))
    from pycocotools.cocoeval import Params

    np.testing.assert_allclose(COCO_SIGMAS, Params(iouType="keypoints").kpt_oks_sigmas, rtol=0, atol=1e-12)
    assert COCO.names[5] == "left_shoulder" and COCO.names[6] == "right_shoulder"
    assert MPII.names[9] == "head_top" and MPII.num_keypoints == 16


def _half_body_person(upper_n, lower_n):
    """Keypoints with the first `upper_n` upper-body and `lower_n` lower-body joints labeled."""
    rng = np.random.default_rng(upper_n * 10 + lower_n)
    kp = np.zeros((17, 3), np.float32)
    kp[:, :2] = rng.uniform(10, 90, (17, 2))
    upper = [i for i in range(17) if COCO.is_upper_body[i]]
    lower = [i for i in range(17) if not COCO.is_upper_body[i]]
    kp[upper[:upper_n], 2] = 2
    kp[lower[:lower_n], 2] = 1
    return kp


def test_half_body_selects_one_joint_set_like_rsn():
    upper_set = np.array(COCO.is_upper_body)
    cfg = kaug.COCO_AUGMENT
    kp = _half_body_person(8, 4)
    chosen = set()
    for s in range(24):
        center, scale, ok, sel = (
            t.numpy() for t in kaug.half_body_box(kp, COCO, cfg, 0.75, tf.constant([s, 7]))
        )
        assert ok
        labeled = kp[:, 2] > 0
        assert (sel <= (labeled & upper_set)).all() or (sel <= (labeled & ~upper_set)).all()
        assert sel.sum() in (8, 4)
        chosen.add(int(sel.sum()))
        pts = kp[sel, :2]
        np.testing.assert_allclose(center, (pts.min(0) + pts.max(0)) / 2, rtol=1e-6)
        extent = pts.max(0) - pts.min(0)
        assert scale[0] >= extent[0] - 1e-4 and scale[1] >= extent[1] - 1e-4
        assert scale[0] <= max(extent[0] * 1.6, extent[1] * 1.8 * 0.75) + 1e-3
        np.testing.assert_allclose(scale[0] / scale[1], 0.75, rtol=1e-6)
    assert chosen == {8, 4}, "both halves must be drawn over 24 seeds"
    # RSN's rule: upper if the coin says so and it has > 3 joints; else lower if it has > 3; else upper,
    # which must have >= 3 joints. (upper count, lower count) -> (chosen set, ok), whatever the coin.
    for upper_n, lower_n, want_set, want_ok in (
        (8, 3, "upper", True),
        (3, 4, "lower", True),
        (3, 2, "upper", True),
        (2, 2, "upper", False),
    ):
        kp = _half_body_person(upper_n, lower_n)
        want_sel = (kp[:, 2] > 0) & (upper_set if want_set == "upper" else ~upper_set)
        for s in range(8):
            _, _, ok, sel = kaug.half_body_box(kp, COCO, cfg, 0.75, tf.constant([s, 1]))
            np.testing.assert_array_equal(sel.numpy(), want_sel)
            assert bool(ok.numpy()) == want_ok


def test_augment_person_is_seeded_and_within_ranges():
    image = tf.zeros([60, 50, 3], tf.uint8)
    kp = _half_body_person(13, 4)
    runs = [
        kaug.augment_person(
            image, [25.0, 30.0], [20.0, 40.0], kp, COCO, kaug.COCO_AUGMENT, 0.75, tf.constant([s, 0])
        )
        for s in range(40)
    ]
    again = kaug.augment_person(
        image, [25.0, 30.0], [20.0, 40.0], kp, COCO, kaug.COCO_AUGMENT, 0.75, tf.constant([5, 0])
    )
    for key in ("center", "scale", "rotation", "keypoints"):
        np.testing.assert_array_equal(runs[5][key].numpy(), again[key].numpy())
    rot = np.array([r["rotation"].numpy() for r in runs])
    flips = np.array([r["flipped"].numpy() for r in runs])
    assert (np.abs(rot) <= 45).all() and 5 < (rot == 0).sum() < 35 and 5 < flips.sum() < 35
    for r in runs:
        if r["flipped"]:  # flipped centre: W - 1 - x
            if not r["half_body"]:
                assert r["center"].numpy()[0] == pytest.approx(50 - 1 - 25.0)
        if not r["half_body"]:
            w, h = r["scale"].numpy()
            # 40 px tall box: x1.05 x (1 + U*0.8), aspect-fitted, then x0.8 x U(0.75, 1.25).
            assert 40 * 1.05 * 0.8 * 0.75 - 1e-3 <= h <= 40 * 1.05 * 1.8 * 0.8 * 1.25 + 1e-3
            assert w == pytest.approx(h * 0.75, rel=1e-5)
    assert any(r["half_body"].numpy() for r in runs)


def test_gaussian_kernels_equal_cv2():
    for ks in range(1, 24, 2):
        np.testing.assert_array_equal(
            kt.gaussian_kernel_1d(ks), cv2.getGaussianKernel(ks, 0, ktype=cv2.CV_32F).ravel()
        )


def rsn_reference_heatmaps(kp, input_size, heatmap_size, kernels):
    """RSN generate_heatmap, channels last: impulse at int(coordinate), cv2.GaussianBlur, max -> 255."""
    out = np.zeros((len(kernels), heatmap_size[0], heatmap_size[1], kp.shape[0]), np.float32)
    for n, ks in enumerate(kernels):
        for i in range(kp.shape[0]):
            if kp[i, 2] < 1:
                continue
            hm = np.zeros(heatmap_size, np.float32)
            hm[
                int(kp[i, 1] * heatmap_size[0] / input_size[0]),
                int(kp[i, 0] * heatmap_size[1] / input_size[1]),
            ] = 1
            hm = cv2.GaussianBlur(hm, (ks, ks), 0)
            out[n, :, :, i] = hm / (hm.max() / 255)
    return out


def test_targets_equal_cv2_reference():
    rng = np.random.default_rng(3)
    kp = np.zeros((17, 3), np.float32)
    kp[:, 0] = rng.uniform(0, 191, 17)
    kp[:, 1] = rng.uniform(0, 255, 17)
    kp[:, 2] = rng.integers(0, 3, 17)
    kp[:4] = [[0, 0, 2], [191, 255, 1], [2.5, 130, 2], [100, 253.9, 2]]  # borders: reflect-101 folding
    got = kt.render_heatmaps(kp, (256, 192), (64, 48)).numpy()
    want = rsn_reference_heatmaps(kp, (256, 192), (64, 48), (15, 11, 9, 7, 5))
    assert got.shape == (5, 64, 48, 17)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
    drawn = kp[:, 2] >= 1
    np.testing.assert_allclose(got.max(axis=(1, 2))[:, drawn], 255.0, rtol=1e-6)
    assert (got[..., ~drawn] == 0).all()
    unit = kt.render_heatmaps(kp, (256, 192), (64, 48), kernels=(7,), peak=1.0).numpy()
    np.testing.assert_allclose(unit[0], want[3] / 255.0, rtol=1e-5, atol=1e-6)


def test_crop_validity():
    kp = tf.constant(
        [[0, 0, 2], [191, 255, 1], [-0.01, 5, 2], [5, 255.5, 1], [50, 50, 0], [192, 3, 2]], tf.float32
    )
    np.testing.assert_array_equal(kt.crop_validity(kp, (256, 192)).numpy(), [2, 1, 0, 0, 0, 0])
