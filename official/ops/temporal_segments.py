"""1-D temporal segments: IoU, (soft-)NMS, multi-scale anchors and their encode/decode (keras.ops).

Segments are `(..., 2)` = (start, end) on one time axis (seconds, or steps of a resampled feature
sequence); anchors are (center, width) pairs. Used by one-stage temporal detectors (AherNet, SSAD-style)
and by any method that post-processes segments (BMN/BSN-style proposals).

- `segment_iou(a, b)`: pairwise tIoU `(..., N, 2) x (..., M, 2) -> (..., N, M)`, the ActivityNet
  definition (intersection clipped at 0 over the sum of lengths minus the intersection; 0 where the
  union is 0).
- `segment_nms`: greedy hard or soft NMS with padded outputs. A segment is the box [s, 0, e, 1], whose 2-D
  IoU with another such box equals the 1-D IoU exactly, so the zoo's one NMS loop (`official.ops.nms`)
  serves; the exporter needs only stock TF ops.
- `multiscale_anchors`: SSD-style 1-D anchors, centers (i + offset) * step on every layer, widths
  step * scale, ordered layer-major, then position, then scale (the order of the heads' reshape).
- `encode_segments` / `decode_segments`: (cy - y_a) / t_a / s_c and log(t / t_a) / s_t, with the prior
  scaling (0.1, 0.1) of SSD and AherNet (aher_common.py).
- `match_anchors`: each anchor's best ground truth by IoU (anchors clipped to [0, T - 1] as in AherNet's
  tf_aher_bboxes_encode_layer), its encoded offsets, and the IoU target (-1 where no overlap).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from keras import ops

from official.ops import nms as nms_lib

PRIOR_SCALING = (0.1, 0.1)  # (center, length) of SSD / AherNet encodings


def segment_length(segments):
    """(..., 2) -> (...) end - start."""
    return segments[..., 1] - segments[..., 0]


def segment_iou(a, b):
    """Pairwise tIoU of (..., N, 2) and (..., M, 2) -> (..., N, M); 0 where the union is 0."""
    a = ops.convert_to_tensor(a)
    b = ops.convert_to_tensor(b)
    start = ops.maximum(a[..., :, None, 0], b[..., None, :, 0])
    end = ops.minimum(a[..., :, None, 1], b[..., None, :, 1])
    inter = ops.maximum(end - start, 0.0)
    union = segment_length(a)[..., :, None] + segment_length(b)[..., None, :] - inter
    return ops.where(union > 0, inter / ops.where(union > 0, union, 1.0), 0.0)


def segments_to_boxes(segments):
    """(..., 2) (start, end) -> (..., 4) boxes x1, y1, x2, y2 = (start, 0, end, 1) (unit height)."""
    zeros = ops.zeros_like(segments[..., :1])
    return ops.concatenate([segments[..., :1], zeros, segments[..., 1:], zeros + 1.0], axis=-1)


def segment_nms(
    segments,
    scores,
    max_output_size: int,
    iou_threshold: float = 0.5,
    score_threshold: float = float("-inf"),
    classes=None,
    method: str = "hard",
    sigma: float = 0.5,
    valid=None,
) -> dict:
    """Greedy 1-D NMS over a batch: segments (B, N, 2), scores (B, N) -> padded picks.

    `method` is "hard" (drop IoU > iou_threshold), "linear" (score *= 1 - IoU above it) or
    "gaussian" (score *= exp(-IoU^2 / sigma)); soft methods drop scores below `score_threshold`.
    Returns segments (B, M, 2), scores, classes, indices (-1 padding), valid, num_detections.
    """
    out = nms_lib.soft_nms(
        segments_to_boxes(ops.cast(segments, "float32")),
        scores,
        max_output_size,
        classes=classes,
        method=method,
        iou_threshold=iou_threshold,
        sigma=sigma,
        score_threshold=score_threshold,
        legacy=False,
        valid=valid,
    )
    boxes = out.pop("boxes")
    out["segments"] = ops.stack([boxes[..., 0], boxes[..., 2]], axis=-1)
    return out


def multiscale_anchors(
    layer_lengths: Sequence[int],
    steps: Sequence[float],
    scales: Sequence[float] = (1.0, 1.260, 1.587),
    offset: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """Anchor centers and widths, each (A,), A = sum(layer_lengths) * len(scales).

    Layer l has `layer_lengths[l]` positions with centers (i + offset) * steps[l] and widths
    steps[l] * scale; AherNet: lengths 128..1, steps 4..512, scales 2^0, 2^(1/3), 2^(2/3) -> 765.
    """
    if len(layer_lengths) != len(steps):
        raise ValueError(f"multiscale_anchors: {len(layer_lengths)} layer lengths but {len(steps)} steps")
    centers, widths = [], []
    for length, step in zip(layer_lengths, steps, strict=True):
        c = (np.arange(length, dtype=np.float64) + offset) * step
        w = np.asarray(scales, np.float64) * step
        centers.append(np.repeat(c, len(scales)))
        widths.append(np.tile(w, length))
    return np.concatenate(centers).astype(np.float32), np.concatenate(widths).astype(np.float32)


def encode_segments(segments, anchor_centers, anchor_widths, prior_scaling=PRIOR_SCALING):
    """(..., A, 2) segments matched to A anchors -> (..., A, 2) offsets (cy', t')."""
    cy = (segments[..., 0] + segments[..., 1]) * 0.5
    t = ops.maximum(segment_length(segments), 1e-12)
    d_cy = (cy - anchor_centers) / anchor_widths / prior_scaling[0]
    d_t = ops.log(t / anchor_widths) / prior_scaling[1]
    return ops.stack([d_cy, d_t], axis=-1)


def decode_segments(offsets, anchor_centers, anchor_widths, prior_scaling=PRIOR_SCALING):
    """(..., A, 2) offsets (cy', t') -> (..., A, 2) segments (start, end) in the anchors' unit."""
    cy = anchor_centers + offsets[..., 0] * anchor_widths * prior_scaling[0]
    t = anchor_widths * ops.exp(offsets[..., 1] * prior_scaling[1])
    return ops.stack([cy - 0.5 * t, cy + 0.5 * t], axis=-1)


def match_anchors(
    gt_segments,
    gt_valid,
    anchor_centers,
    anchor_widths,
    temporal_length: float,
    prior_scaling=PRIOR_SCALING,
) -> dict:
    """Each anchor's best ground truth (AherNet/SSD matching; thresholds are applied by the loss).

    Args:
      gt_segments: (B, G, 2) in the anchors' unit (steps of the resampled sequence).
      gt_valid: (B, G) bool, False for padding rows.
      anchor_centers, anchor_widths: (A,).
      temporal_length: T; anchors are clipped to [0, T - 1] before the IoU, as in the official code.

    Returns dict: iou (B, A) best IoU (0 if none), index (B, A) int32 of that ground truth,
    offsets (B, A, 2) its encoding against the (unclipped) anchor, iou_target (B, A) = iou, -1 where 0.
    """
    gt_segments = ops.cast(gt_segments, "float32")
    anchor_centers = ops.cast(anchor_centers, "float32")
    anchor_widths = ops.cast(anchor_widths, "float32")
    start = ops.maximum(anchor_centers - 0.5 * anchor_widths, 0.0)
    end = ops.minimum(anchor_centers + 0.5 * anchor_widths, float(temporal_length) - 1.0)
    clipped = ops.stack([start, end], axis=-1)  # (A, 2)
    iou = segment_iou(clipped[None], gt_segments)  # (B, A, G)
    iou = ops.where(ops.cast(gt_valid, "bool")[:, None, :], iou, 0.0)
    best = ops.max(iou, axis=-1)
    index = ops.cast(ops.argmax(iou, axis=-1), "int32")  # first maximum, like the strict ">" update
    matched = ops.take_along_axis(gt_segments, ops.repeat(index[..., None], 2, axis=-1), axis=1)
    # anchors without any overlap keep the official default box (0, 1); their offsets are masked out.
    default = ops.convert_to_tensor(np.array([0.0, 1.0], np.float32))
    matched = ops.where((best > 0)[..., None], matched, default)
    offsets = encode_segments(matched, anchor_centers, anchor_widths, prior_scaling)
    return {
        "iou": best,
        "index": index,
        "offsets": offsets,
        "iou_target": ops.where(best > 0, best, -1.0),
    }
