"""Corner-detector training targets (CornerNet / CPN), drawn in the tf.data pipeline.

For every object the top-left and bottom-right corners are mapped to the stride-R output grid; the
cell gets a Gaussian bump of the object's class whose radius is CornerNet's `gaussian_radius` (the
radius by which both corners may move while the box keeps IoU >= min_overlap with the original;
written with CornerNet's `/ 2` in all three roots, which is what the released models were trained
with), sigma = diameter / 6, overlapping bumps combined with max. The sub-cell remainder of each
corner is the offset target; cell indices are flattened as y * W + x. Per-object rows are padded to
`max_boxes` with a mask, so batches have fixed shapes.

Corners follow CornerNet's sampler: coordinates are clipped to [0, S - 1] before scaling (so a box
touching the right edge maps to the last cell), boxes that become empty are dropped, and the
ground-truth boxes handed to the proposal stage are the integer corner cells (xtl, ytl, xbr, ybr).
"""

from __future__ import annotations

import tensorflow as tf


def gaussian_radius(height: tf.Tensor, width: tf.Tensor, min_overlap: float = 0.7) -> tf.Tensor:
    """CornerNet's radius for boxes of (height, width) output cells (elementwise, float32)."""
    h = tf.cast(height, tf.float32)
    w = tf.cast(width, tf.float32)
    b1 = h + w
    c1 = w * h * (1 - min_overlap) / (1 + min_overlap)
    r1 = (b1 + tf.sqrt(b1 * b1 - 4.0 * c1)) / 2.0
    b2 = 2.0 * (h + w)
    c2 = (1 - min_overlap) * w * h
    r2 = (b2 + tf.sqrt(b2 * b2 - 16.0 * c2)) / 2.0
    a3 = 4.0 * min_overlap
    b3 = -2.0 * min_overlap * (h + w)
    c3 = (min_overlap - 1) * w * h
    r3 = (b3 + tf.sqrt(b3 * b3 - 4.0 * a3 * c3)) / 2.0
    return tf.minimum(tf.minimum(r1, r2), r3)


def draw_gaussians(
    centers: tf.Tensor,
    radii: tf.Tensor,
    classes: tf.Tensor,
    mask: tf.Tensor,
    height: int,
    width: int,
    num_classes: int,
) -> tf.Tensor:
    """Max-combined Gaussian bumps -> (height, width, num_classes) float32.

    centers: (N, 2) int (x, y) cells; radii: (N,) int; classes: (N,) int; mask: (N,) bool.
    A bump covers |dx|, |dy| <= radius with exp(-(dx^2 + dy^2) / (2 sigma^2)), sigma = (2r + 1) / 6.
    """
    radii = tf.cast(radii, tf.float32)
    sigma = (2.0 * radii + 1.0) / 6.0
    denom = (2.0 * sigma * sigma)[:, None]

    def axis_profile(center: tf.Tensor, size: int) -> tf.Tensor:
        d = tf.range(size, dtype=tf.float32)[None, :] - tf.cast(center, tf.float32)[:, None]
        inside = tf.abs(d) <= radii[:, None]
        return tf.where(inside, tf.exp(-(d * d) / denom), 0.0)

    ex = axis_profile(centers[:, 0], width)  # (N, W)
    ey = axis_profile(centers[:, 1], height)  # (N, H)
    bumps = ey[:, :, None] * ex[:, None, :]  # (N, H, W)
    segment = tf.where(tf.cast(mask, tf.bool), tf.cast(classes, tf.int32), num_classes)
    per_class = tf.math.unsorted_segment_max(bumps, segment, num_classes + 1)[:num_classes]
    return tf.transpose(tf.maximum(per_class, 0.0), [1, 2, 0])


def encode_corner_targets(
    boxes: tf.Tensor,
    classes: tf.Tensor,
    input_size: int,
    output_size: int,
    num_classes: int,
    max_boxes: int = 128,
    min_overlap: float = 0.7,
) -> dict[str, tf.Tensor]:
    """Targets of one image.

    Args:
      boxes: (N, 4) float (x1, y1, x2, y2) in input pixels of the S x S network input (no crowd).
      classes: (N,) int contiguous class indices.
      input_size, output_size: S and the output grid side (S / stride).
      num_classes: heatmap channels.
      max_boxes: rows of the per-object tensors (CornerNet's max_tag_len = 128); extra boxes are
        dropped from the rows but still drawn on the heatmaps.

    Returns:
      tl_heatmap, br_heatmap (out, out, C); tl_indices, br_indices (max,) int32; tl_offsets,
      br_offsets (max, 2); gt_boxes (max, 4) float32 integer cells; gt_classes (max,) int32 (-1 pad);
      box_mask (max,) float32.
    """
    boxes = tf.clip_by_value(tf.cast(boxes, tf.float32), 0.0, float(input_size - 1))
    keep = (boxes[:, 2] - boxes[:, 0] > 0) & (boxes[:, 3] - boxes[:, 1] > 0)
    boxes = tf.boolean_mask(boxes, keep)
    classes = tf.boolean_mask(tf.cast(classes, tf.int32), keep)
    ratio = output_size / input_size
    scaled = boxes * ratio
    cells = tf.floor(scaled)
    offsets = scaled - cells
    cells_i = tf.cast(cells, tf.int32)
    box_w = tf.math.ceil((boxes[:, 2] - boxes[:, 0]) * ratio)
    box_h = tf.math.ceil((boxes[:, 3] - boxes[:, 1]) * ratio)
    radii = tf.maximum(tf.floor(gaussian_radius(box_h, box_w, min_overlap)), 0.0)
    all_rows = tf.ones_like(classes, tf.bool)
    tl_heat = draw_gaussians(cells_i[:, 0:2], radii, classes, all_rows, output_size, output_size, num_classes)
    br_heat = draw_gaussians(cells_i[:, 2:4], radii, classes, all_rows, output_size, output_size, num_classes)

    n = tf.minimum(tf.shape(classes)[0], max_boxes)

    def rows(x: tf.Tensor, value) -> tf.Tensor:
        rest = [[0, 0]] * (len(x.shape) - 1)
        x = tf.pad(x[:n], [[0, max_boxes - n]] + rest, constant_values=value)
        return tf.ensure_shape(x, [max_boxes] + x.shape[1:].as_list())

    tl_index = cells_i[:, 1] * output_size + cells_i[:, 0]
    br_index = cells_i[:, 3] * output_size + cells_i[:, 2]
    return {
        "tl_heatmap": tl_heat,
        "br_heatmap": br_heat,
        "tl_indices": rows(tl_index, 0),
        "br_indices": rows(br_index, 0),
        "tl_offsets": rows(offsets[:, 0:2], 0.0),
        "br_offsets": rows(offsets[:, 2:4], 0.0),
        "gt_boxes": rows(cells, 0.0),
        "gt_classes": rows(classes, -1),
        "box_mask": tf.sequence_mask(n, max_boxes, tf.float32),
    }
