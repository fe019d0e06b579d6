"""Box utilities: IoU against hand-computed values, coder round trip and known deltas, clipping."""

import numpy as np

from official.ops import box_ops


def test_iou_hand_values():
    a = np.array([[0, 0, 10, 10], [5, 5, 15, 15]], np.float32)
    b = np.array([[0, 0, 10, 10], [10, 10, 20, 20], [0, 0, 5, 10]], np.float32)
    got = np.asarray(box_ops.iou_matrix(a, b))
    want = np.array([[1.0, 0.0, 0.5], [25 / 175, 25 / 175, 0.0]])
    np.testing.assert_allclose(got, want, atol=1e-6)
    # "+1" convention: [0,0,10,10] is 11x11 and touches [10,10,20,20] in one pixel.
    legacy = np.asarray(box_ops.iou_matrix(a, b, legacy=True))
    np.testing.assert_allclose(legacy[0, 1], 1 / (121 + 121 - 1), atol=1e-7)
    np.testing.assert_allclose(legacy[0, 2], 66 / 121, atol=1e-6)


def test_iou_batched_and_empty_union():
    a = np.zeros((2, 3, 4), np.float32)
    b = np.zeros((2, 5, 4), np.float32)
    out = np.asarray(box_ops.iou_matrix(a, b))
    assert out.shape == (2, 3, 5) and np.all(out == 0)


def test_coder_known_deltas_and_round_trip():
    anchors = np.array([[0, 0, 10, 20]], np.float32)
    boxes = np.array([[2, 4, 12, 24]], np.float32)  # shifted by (2, 4), same size
    d = np.asarray(box_ops.encode_boxes(boxes, anchors, weights=(1, 1, 1, 1)))
    np.testing.assert_allclose(d, [[0.2, 0.2, 0.0, 0.0]], atol=1e-6)
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 50, (20, 2))
    anchors = np.concatenate([xy, xy + rng.uniform(5, 30, (20, 2))], 1).astype(np.float32)
    xy2 = rng.uniform(0, 50, (20, 2))
    boxes = np.concatenate([xy2, xy2 + rng.uniform(5, 30, (20, 2))], 1).astype(np.float32)
    back = np.asarray(box_ops.decode_boxes(box_ops.encode_boxes(boxes, anchors), anchors))
    np.testing.assert_allclose(back, boxes, atol=1e-3)


def test_clip_flip_and_formats():
    boxes = np.array([[[-3, 2, 40, 50]], [[5, -1, 8, 70]]], np.float32)
    clipped = np.asarray(box_ops.clip_boxes(boxes, np.array([30, 60], np.float32), np.array([32, 10], np.float32)))
    np.testing.assert_array_equal(clipped, [[[0, 2, 32, 30]], [[5, 0, 8, 60]]])
    np.testing.assert_array_equal(np.asarray(box_ops.flip_horizontal(np.array([[1, 2, 4, 6]], np.float32), 10.0)), [[6, 2, 9, 6]])
    xywh = np.asarray(box_ops.xyxy_to_xywh(np.array([[1, 2, 4, 6]], np.float32)))
    np.testing.assert_array_equal(xywh, [[1, 2, 3, 4]])
    np.testing.assert_array_equal(np.asarray(box_ops.xywh_to_xyxy(xywh)), [[1, 2, 4, 6]])
    np.testing.assert_allclose(np.asarray(box_ops.box_area(np.array([[0, 0, 2, 3]], np.float32), legacy=True)), [12])
