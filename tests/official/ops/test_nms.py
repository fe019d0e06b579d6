"""NMS / soft-NMS against straightforward numpy transcriptions and tf.image.non_max_suppression."""

import math

import numpy as np
import pytest

from official.ops.nms import non_max_suppression, soft_nms


def _iou(a, b, one):
    iw = min(a[2], b[2]) - max(a[0], b[0]) + one
    ih = min(a[3], b[3]) - max(a[1], b[1]) + one
    if iw <= 0 or ih <= 0:
        return 0.0, False
    inter = iw * ih
    ua = (a[2] - a[0] + one) * (a[3] - a[1] + one) + (b[2] - b[0] + one) * (b[3] - b[1] + one) - inter
    return inter / ua, True


def numpy_soft_nms(boxes, scores, classes, method, nt, sigma, thresh, merge_exp=None, mweights=None, one=1.0):
    """Per-class soft-NMS run to the end (CornerNet's loop), then all picks sorted by final score."""
    picks = []
    for c in np.unique(classes):
        idx = [i for i in range(len(scores)) if classes[i] == c and scores[i] >= thresh]
        cur = {i: float(scores[i]) for i in idx}
        while cur:
            i = max(cur, key=lambda k: (cur[k], -k))
            s = cur.pop(i)
            box = boxes[i].astype(np.float64)
            wsum = np.array([mweights[i, 0]] * 2 + [mweights[i, 1]] * 2) if merge_exp is not None else None
            acc = box * wsum if merge_exp is not None else None
            for j in list(cur):
                ov, overlaps = _iou(boxes[i], boxes[j], one)
                if not overlaps:
                    continue
                if method == "hard":
                    w = 0.0 if ov > nt else 1.0
                elif method == "linear":
                    w = 1.0 - ov if ov > nt else 1.0
                else:
                    w = math.exp(-(ov * ov) / sigma)
                if merge_exp is not None:
                    mw = (1.0 - w) ** merge_exp
                    cw = np.array([mweights[j, 0]] * 2 + [mweights[j, 1]] * 2) * mw
                    acc = acc + boxes[j] * cw
                    wsum = wsum + cw
                cur[j] *= w
                if cur[j] < thresh or w <= 0:
                    del cur[j]
            if merge_exp is not None:
                box = acc / wsum
            picks.append((s, i, box, c))
    picks.sort(key=lambda t: -t[0])
    return picks


def random_boxes(rng, n, size=50.0):
    xy = rng.uniform(0, size, (n, 2))
    wh = rng.uniform(4, 20, (n, 2))
    return np.concatenate([xy, xy + wh], 1).astype(np.float32)


@pytest.mark.parametrize("method", ["hard", "linear", "gaussian"])
def test_soft_nms_matches_reference(method):
    rng = np.random.default_rng(7)
    n, m = 60, 25
    boxes = random_boxes(rng, n)
    scores = rng.uniform(0.01, 1.0, n).astype(np.float32)
    classes = rng.integers(0, 3, n).astype(np.int32)
    out = soft_nms(boxes[None], scores[None], m, classes=classes[None], method=method, iou_threshold=0.3, sigma=0.5, score_threshold=0.001)
    ref = numpy_soft_nms(boxes, scores, classes, method, 0.3, 0.5, 0.001)[:m]
    k = len(ref)
    assert int(np.asarray(out["num_detections"])[0]) == min(k, m)
    np.testing.assert_allclose(np.asarray(out["scores"])[0, :k], [r[0] for r in ref], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(np.asarray(out["indices"])[0, :k], [r[1] for r in ref])
    np.testing.assert_array_equal(np.asarray(out["classes"])[0, :k], [r[3] for r in ref])


def test_soft_nms_merge_matches_reference():
    rng = np.random.default_rng(11)
    n, m = 40, 15
    boxes = random_boxes(rng, n, size=30.0)
    scores = rng.uniform(0.05, 1.0, n).astype(np.float32)
    classes = rng.integers(0, 2, n).astype(np.int32)
    mweights = rng.uniform(0.1, 1.0, (n, 2)).astype(np.float32)
    out = soft_nms(boxes[None], scores[None], m, classes=classes[None], method="gaussian", sigma=0.5,
                   merge_weight_exp=10.0, merge_weights=mweights[None])
    ref = numpy_soft_nms(boxes, scores, classes, "gaussian", 0.5, 0.5, 0.001, merge_exp=10.0, mweights=mweights)[:m]
    np.testing.assert_array_equal(np.asarray(out["indices"])[0], [r[1] for r in ref])
    np.testing.assert_allclose(np.asarray(out["boxes"])[0], np.stack([r[2] for r in ref]), rtol=1e-4, atol=1e-3)


def test_hard_nms_matches_tensorflow_and_pads():
    import tensorflow as tf

    rng = np.random.default_rng(3)
    boxes = random_boxes(rng, 80)
    scores = rng.uniform(0, 1, 80).astype(np.float32)
    want = tf.image.non_max_suppression(boxes[:, [1, 0, 3, 2]], scores, 100, iou_threshold=0.4).numpy()
    out = non_max_suppression(boxes[None], scores[None], 100, iou_threshold=0.4)
    k = len(want)
    assert k < 100 and int(np.asarray(out["num_detections"])[0]) == k
    np.testing.assert_array_equal(np.asarray(out["indices"])[0, :k], want)
    assert not np.asarray(out["valid"])[0, k:].any() and (np.asarray(out["indices"])[0, k:] == -1).all()


def test_batch_independence_and_invalid_rows():
    boxes = np.array([[[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]]] * 2, np.float32)
    scores = np.array([[0.9, 0.8, 0.7], [0.9, 0.8, 0.7]], np.float32)
    valid = np.array([[True, True, True], [False, True, True]])
    out = non_max_suppression(boxes, scores, 3, iou_threshold=0.5, valid=valid)
    np.testing.assert_array_equal(np.asarray(out["indices"]), [[0, 2, -1], [1, 2, -1]])
    with pytest.raises(ValueError, match="method"):
        soft_nms(boxes, scores, 2, method="cubic")
