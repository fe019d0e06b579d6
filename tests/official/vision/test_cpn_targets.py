"""Corner heatmap targets against a numpy transcription of CornerNet's radius and Gaussian drawing."""

import math

import numpy as np
import tensorflow as tf

from official.data.corner_targets import encode_corner_targets, gaussian_radius


def np_radius(h, w, min_overlap=0.7):
    b1 = h + w
    c1 = w * h * (1 - min_overlap) / (1 + min_overlap)
    r1 = (b1 + math.sqrt(b1**2 - 4 * c1)) / 2
    b2 = 2 * (h + w)
    c2 = (1 - min_overlap) * w * h
    r2 = (b2 + math.sqrt(b2**2 - 16 * c2)) / 2
    a3 = 4 * min_overlap
    b3 = -2 * min_overlap * (h + w)
    c3 = (min_overlap - 1) * w * h
    r3 = (b3 + math.sqrt(b3**2 - 4 * a3 * c3)) / 2
    return min(r1, r2, r3)


def np_draw(heat, x, y, r):
    d = 2 * r + 1
    sigma = d / 6
    m = (d - 1) / 2
    yy, xx = np.ogrid[-m : m + 1, -m : m + 1]
    g = np.exp(-(xx * xx + yy * yy) / (2 * sigma * sigma))
    g[g < np.finfo(g.dtype).eps * g.max()] = 0
    H, W = heat.shape
    left, right = min(x, r), min(W - x, r + 1)
    top, bottom = min(y, r), min(H - y, r + 1)
    heat[y - top : y + bottom, x - left : x + right] = np.maximum(
        heat[y - top : y + bottom, x - left : x + right], g[r - top : r + bottom, r - left : r + right]
    )


def reference(boxes, classes, S, out, C):
    tl = np.zeros((C, out, out))
    br = np.zeros((C, out, out))
    boxes = np.clip(boxes.astype(np.float64), 0, S - 1)
    rows = []
    for (x1, y1, x2, y2), c in zip(boxes, classes, strict=True):
        if x2 - x1 <= 0 or y2 - y1 <= 0:
            continue
        r = out / S
        fx1, fy1, fx2, fy2 = x1 * r, y1 * r, x2 * r, y2 * r
        rad = max(0, int(np_radius(math.ceil((y2 - y1) * r), math.ceil((x2 - x1) * r))))
        np_draw(tl[c], int(fx1), int(fy1), rad)
        np_draw(br[c], int(fx2), int(fy2), rad)
        rows.append((int(fy1) * out + int(fx1), int(fy2) * out + int(fx2), fx1 - int(fx1), fy1 - int(fy1), c))
    return tl.transpose(1, 2, 0), br.transpose(1, 2, 0), rows


def test_radius_matches_cornernet():
    hs = np.array([1, 3, 10, 37, 128], np.float32)
    ws = np.array([2, 3, 50, 12, 128], np.float32)
    got = gaussian_radius(hs, ws).numpy()
    np.testing.assert_allclose(got, [np_radius(h, w) for h, w in zip(hs, ws, strict=True)], rtol=1e-5)


def test_heatmaps_offsets_and_indices_match_reference():
    S, out, C = 511, 128, 4
    boxes = np.array(
        [[10.3, 20.7, 200.1, 180.9], [300, 40, 510, 500], [50, 60, 70, 64], [0, 0, 511, 511], [100, 100, 100, 130]],
        np.float32,
    )
    classes = np.array([1, 3, 1, 0, 2], np.int32)
    t = encode_corner_targets(tf.constant(boxes), tf.constant(classes), S, out, C, max_boxes=8)
    tl, br, rows = reference(boxes, classes, S, out, C)
    np.testing.assert_allclose(t["tl_heatmap"].numpy(), tl, atol=1e-6)
    np.testing.assert_allclose(t["br_heatmap"].numpy(), br, atol=1e-6)
    assert t["tl_heatmap"].shape == (out, out, C)
    k = len(rows)  # the zero-width box is dropped
    assert k == 4
    np.testing.assert_array_equal(t["box_mask"].numpy(), [1] * k + [0] * (8 - k))
    np.testing.assert_array_equal(t["tl_indices"].numpy()[:k], [r[0] for r in rows])
    np.testing.assert_array_equal(t["br_indices"].numpy()[:k], [r[1] for r in rows])
    np.testing.assert_allclose(t["tl_offsets"].numpy()[:k], [[r[2], r[3]] for r in rows], atol=1e-5)
    np.testing.assert_array_equal(t["gt_classes"].numpy(), [1, 3, 1, 0, -1, -1, -1, -1])
    # every object has exactly one peak of value 1 at its corner cell
    for i in range(k):
        idx, c = int(t["tl_indices"][i]), int(t["gt_classes"][i])
        assert t["tl_heatmap"].numpy()[idx // out, idx % out, c] == 1.0
