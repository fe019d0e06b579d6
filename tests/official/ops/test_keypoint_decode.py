"""Keypoint decoding (official/ops/keypoint_decode.py) against cv2 and a numpy statement of RSN's rule."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import tensorflow as tf

from official.ops import keypoint_decode as kd
from tests import helpers

COCO_FLIP_PAIRS = ((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16))


def _blob(h, w, x0, y0, sigma=2.0, peak=255.0):
    yy, xx = np.mgrid[0:h, 0:w]
    return peak * np.exp(-((xx - x0) ** 2 + (yy - y0) ** 2) / (2 * sigma**2))


def _cv2_sigma(k):
    """cv2.GaussianBlur's sigma argument that reproduces OpenCV <= 4's kernel for sigma 0 (RSN's era).

    OpenCV 5 tabulates a binomial kernel for ksize 9 (4.x computes sigma = 0.3 ((k - 1) / 2 - 1) + 0.8,
    1.7 for k = 9); up to 7 both use the same fixed tables, so sigma 0 is passed there.
    """
    return 0 if k <= 7 else 0.3 * ((k - 1) * 0.5 - 1) + 0.8


def _reference_peaks(hm, kernel_size=5, border=10, shift=0.25):
    """RSN's decode stated in numpy + cv2 (test.py get_results): hm (K, h, w) -> (K, 2) xy, (K,) scores."""
    k_count, h, w = hm.shape
    xy, scores = np.zeros((k_count, 2)), np.zeros(k_count)
    for k in range(k_count):
        pad = np.zeros((h + 2 * border, w + 2 * border))
        pad[border:-border, border:-border] = hm[k]
        pad = cv2.GaussianBlur(pad, (kernel_size, kernel_size), _cv2_sigma(kernel_size))
        y1, x1 = np.unravel_index(np.argmax(pad), pad.shape)
        pad[y1, x1] = 0
        y2, x2 = np.unravel_index(np.argmax(pad), pad.shape)
        fx, fy = float(x1 - border), float(y1 - border)
        length = np.hypot(x2 - x1, y2 - y1)
        if length > 1e-3:
            fx += shift * (x2 - x1) / length
            fy += shift * (y2 - y1) / length
        fx, fy = min(max(fx, 0.0), w - 1.0), min(max(fy, 0.0), h - 1.0)
        xy[k] = fx, fy
        scores[k] = hm[k, int(round(fy)), int(round(fx))] / 255 + 0.5
    return xy, scores


def _affine_inverse_reference(points, center, scale_px, input_size):
    """Crop -> image with the standard 3-point crop affine (center -> (W/2, H/2), width scale -> W)."""
    out_h, out_w = input_size
    c = np.asarray(center, np.float64)
    src = np.array([c, c + [0.0, -scale_px[0] / 2], c + [-scale_px[0] / 2, 0.0]], np.float32)
    d0 = np.array([out_w / 2, out_h / 2])
    dst = np.array([d0, d0 + [0.0, -out_w / 2], d0 + [-out_w / 2, 0.0]], np.float32)
    inv = cv2.invertAffineTransform(cv2.getAffineTransform(src, dst))
    return np.asarray(points, np.float64) @ inv[:, :2].T + inv[:, 2]


def _synthetic_heatmaps(seed=0, batch=2, h=64, w=48, k=17):
    rng = np.random.default_rng(seed)
    maps = np.zeros((batch, h, w, k))
    truth = rng.uniform([3, 3], [w - 4, h - 4], size=(batch, k, 2))
    for b in range(batch):
        for j in range(k):
            maps[b, :, :, j] = _blob(
                h, w, *truth[b, j], sigma=rng.uniform(1.5, 3.0), peak=rng.uniform(60, 255)
            )
    maps += rng.normal(0, 2.0, maps.shape)
    maps[0, :, :, 4] = -np.abs(rng.normal(5, 1, (h, w)))  # all negative: the zero frame wins (corner)
    maps[1, :, :, 2] = _blob(h, w, 0.3, h - 1.2) + rng.normal(0, 1, (h, w))  # peak on the corner
    return maps.astype(np.float32), truth


def test_gaussian_kernel_equals_cv2():
    for k, sigma in [(1, 0), (3, 0), (5, 0), (7, 0), (9, 0), (11, 0), (5, 1.3), (9, 2.5)]:
        ref = cv2.getGaussianKernel(k, sigma or _cv2_sigma(k), ktype=cv2.CV_64F).ravel()
        np.testing.assert_allclose(kd.gaussian_kernel_1d(k, sigma), ref, atol=1e-12, err_msg=f"k={k}")
    with pytest.raises(ValueError):
        kd.gaussian_kernel_1d(4)


def test_blur_equals_cv2_reflect101():
    x = np.random.default_rng(1).normal(size=(2, 12, 9, 3)).astype(np.float32)
    for k in (5, 9):
        got = np.asarray(kd.gaussian_blur(x, k))
        ref = np.stack(
            [
                np.stack([cv2.GaussianBlur(x[b, :, :, c], (k, k), _cv2_sigma(k)) for c in range(3)], -1)
                for b in range(2)
            ]
        )
        np.testing.assert_allclose(got, ref, atol=1e-5, err_msg=f"kernel {k}")


def test_subpixel_blob_and_delta():
    h, w = 64, 48
    maps = np.zeros((1, h, w, 3), np.float32)
    maps[0, :, :, 0] = _blob(h, w, 20.3, 30.1)  # 2nd max at (21, 30): x moves +0.25
    maps[0, 17, 11, 1] = 255.0  # delta: 4 tied neighbours after the blur, the first (row above) wins
    maps[0, 40, 5, 2], maps[0, 41, 6, 2] = 255.0, 200.0  # no blur: the 2nd max is diagonal
    coords, scores = kd.decode_peaks(maps[..., :2])
    coords, scores = np.asarray(coords), np.asarray(scores)
    np.testing.assert_allclose(coords[0, 0], [20.25, 30.0], atol=1e-6)
    assert np.all(np.abs(coords[0, 0] - [20.3, 30.1]) <= 0.25)
    np.testing.assert_allclose(coords[0, 1], [11.0, 16.75], atol=1e-6)
    np.testing.assert_allclose(scores[0], [maps[0, 30, 20, 0] / 255 + 0.5, 1.5], atol=1e-6)
    diag, _ = kd.decode_peaks(maps[..., 2:], kernel_size=1)
    step = 0.25 / np.sqrt(2.0)
    np.testing.assert_allclose(np.asarray(diag)[0, 0], [5 + step, 40 + step], atol=1e-6)


def test_decode_matches_rsn_reference():
    maps, truth = _synthetic_heatmaps()
    for kernel in (5, 9):
        coords, scores = kd.decode_peaks(maps, kernel_size=kernel)
        for b in range(maps.shape[0]):
            xy, sc = _reference_peaks(maps[b].transpose(2, 0, 1).astype(np.float64), kernel)
            np.testing.assert_allclose(np.asarray(coords)[b], xy, atol=1e-5)
            np.testing.assert_allclose(np.asarray(scores)[b], sc, atol=1e-5)
    coords = np.asarray(kd.decode_peaks(maps)[0])
    assert coords[0, 4].tolist() == [0.0, 0.0]  # all-negative channel: the padded corner, clamped
    blobs = np.ones(coords.shape[:2], bool)
    blobs[0, 4] = blobs[1, 2] = False
    assert np.max(np.abs(coords - truth)[blobs]) < 0.5


def test_heatmap_to_image_equals_crop_affine():
    rng = np.random.default_rng(2)
    input_size = (256, 192)
    center = np.array([[320.5, 241.0], [100.0, 80.0]])
    w = np.array([150.0, 61.3])
    scale = np.stack([w, w * 256 / 192], -1)  # aspect fitted like the crop
    coords = rng.uniform(0, 47, size=(2, 17, 2))
    got = np.asarray(kd.heatmap_to_image(coords, center, scale, input_size))
    for b in range(2):
        ref = _affine_inverse_reference(coords[b] * 4 + 2, center[b], scale[b], input_size)
        np.testing.assert_allclose(got[b], ref, atol=2e-3)
    # a planted heatmap pixel through the whole decoder
    maps = np.zeros((2, 64, 48, 17), np.float32)
    maps[0, 13, 29, 5] = maps[1, 50, 2, 5] = 255.0
    kps, _ = kd.decode_heatmaps(maps, center, scale, kernel_size=1, shift=0.0)
    for b, (x, y) in enumerate([(29, 13), (2, 50)]):
        ref = _affine_inverse_reference([[4 * x + 2, 4 * y + 2]], center[b], scale[b], input_size)[0]
        np.testing.assert_allclose(np.asarray(kps)[b, 5], ref, atol=2e-3)
    np.testing.assert_allclose(
        np.asarray(kps)[0, 5], [320.5 + (118 - 96) * 150 / 192, 241 + (54 - 128) * 200 / 256], atol=1e-3
    )


def test_flip_heatmaps():
    h, w = 16, 12
    maps = np.zeros((1, h, w, 17), np.float32)
    maps[0, :, :, 1] = _blob(h, w, 3, 5, 1.0)
    back = np.asarray(kd.flip_heatmaps(maps, COCO_FLIP_PAIRS))
    np.testing.assert_array_equal(back[0, :, :, 2], maps[0, :, ::-1, 1])  # left eye -> right eye, mirrored
    assert np.abs(back[0, :, :, 1]).max() == 0 and np.argmax(back[0, 5, :, 2]) == w - 1 - 3
    # a left-right symmetric person: pair partners mirrored, the other joints on the centre line
    rng = np.random.default_rng(3)
    sym = np.zeros((1, h, w, 17), np.float32)
    for j in range(17):
        sym[0, :, :, j] = _blob(h, w, (w - 1) / 2, rng.uniform(2, h - 3))
    for a, b in COCO_FLIP_PAIRS:
        sym[0, :, :, a] = _blob(h, w, rng.uniform(1, w - 2), rng.uniform(2, h - 3))
        sym[0, :, :, b] = sym[0, :, ::-1, a]
    np.testing.assert_allclose(np.asarray(kd.flip_heatmaps(sym, COCO_FLIP_PAIRS)), sym, atol=1e-6)
    # the ideal output of the mirrored crop decodes like the plain one when flip-averaged
    maps = _synthetic_heatmaps(seed=4)[0]
    flipped = np.asarray(kd.flip_heatmaps(maps, COCO_FLIP_PAIRS))
    center, scale = np.array([[96.0, 128.0]] * 2), np.array([[192.0, 256.0]] * 2)
    plain = kd.decode_heatmaps(maps, center, scale)
    avg = kd.decode_heatmaps(maps, center, scale, flipped_heatmaps=flipped, flip_pairs=COCO_FLIP_PAIRS)
    for p, q in zip(plain, avg, strict=True):
        np.testing.assert_allclose(np.asarray(q), np.asarray(p), atol=1e-5)


def test_tf_graph_with_dynamic_batch():
    maps = _synthetic_heatmaps(seed=5)[0]
    center, scale = (
        np.array([[50.0, 60.0], [70.0, 80.0]], np.float32),
        np.array([[90.0, 120.0]] * 2, np.float32),
    )
    fn = tf.function(
        lambda m, c, s: kd.decode_heatmaps(m, c, s, flipped_heatmaps=m, flip_pairs=COCO_FLIP_PAIRS),
        input_signature=[
            tf.TensorSpec([None, 64, 48, 17]),
            tf.TensorSpec([None, 2]),
            tf.TensorSpec([None, 2]),
        ],
    )
    eager = kd.decode_heatmaps(maps, center, scale, flipped_heatmaps=maps, flip_pairs=COCO_FLIP_PAIRS)
    for g, e in zip(fn(maps, center, scale), eager, strict=True):
        np.testing.assert_allclose(np.asarray(g), np.asarray(e), atol=1e-5)


_JAX_SCRIPT = """
import sys
import numpy as np
import jax
import keras
assert keras.backend.backend() == "jax"
from official.ops import keypoint_decode as kd
d = np.load(sys.argv[1])
pairs = [tuple(p) for p in d["pairs"]]
decode = jax.jit(lambda m, c, s, f: kd.decode_heatmaps(m, c, s, flipped_heatmaps=f, flip_pairs=pairs))
kps, scores = decode(d["maps"], d["center"], d["scale"], d["flipped"])
blur = jax.jit(lambda m: kd.gaussian_blur(m, 9))(d["maps"])
np.savez(sys.argv[2], kps=np.asarray(kps), scores=np.asarray(scores), blur=np.asarray(blur))
assert "tensorflow" not in sys.modules, "keypoint_decode imported tensorflow"
"""


@pytest.mark.jax
def test_jax_backend_parity(tmp_path):
    import jax  # noqa: F401  required (pyproject extra "jax"): a missing install fails, never skips

    maps = _synthetic_heatmaps(seed=6)[0]
    flipped = _synthetic_heatmaps(seed=7)[0]
    center, scale = (
        np.array([[50.0, 60.0], [70.0, 80.0]], np.float32),
        np.array([[90.0, 120.0]] * 2, np.float32),
    )
    got = helpers.run_jax_script(_JAX_SCRIPT, tmp_path, maps=maps, flipped=flipped, center=center, scale=scale, pairs=np.array(COCO_FLIP_PAIRS))
    kps, scores = kd.decode_heatmaps(
        maps, center, scale, flipped_heatmaps=flipped, flip_pairs=COCO_FLIP_PAIRS
    )
    np.testing.assert_allclose(got["kps"], np.asarray(kps), atol=1e-4)
    np.testing.assert_allclose(got["scores"], np.asarray(scores), atol=1e-5)
    np.testing.assert_allclose(got["blur"], np.asarray(kd.gaussian_blur(maps, 9)), atol=1e-4)
