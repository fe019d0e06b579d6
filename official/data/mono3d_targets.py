"""RTM3D / KM3D training targets of one frame in TensorFlow (runs inside tf.data; the data layer, so the
model package stays TensorFlow-free for JAX).

KM3D datasets/sample/car_pose.py, on a frame already warped into the network input (the 2D boxes
and P2 transformed with it, official/data/mono3d_augment.py), at output stride 4:
- the 2D box in output cells, clipped to the map; objects with an empty clipped box are dropped;
- the centre heatmap: a CornerNet Gaussian of radius max(0, int(gaussian_radius(ceil h, ceil w))) at the
  integer 2D-box centre (`ind`, sub-cell `reg`), size `wh` = (w, h) in cells;
- the 9 keypoints projected with P2: `hps` = keypoint - centre cell for all 9 (`hps_mask` 1 for all);
  keypoints inside the map (and in front of the camera) get a Gaussian of the same radius on their
  `hm_hp` channel, a sub-cell `hp_offset` at `hp_ind`; an object with none of them visible keeps its
  keypoint offsets but not its 2D-size/offset regression (`reg_mask` 0);
- `dim` = (h, w, l) metres, `location`, `rotation_y`, and the 2-bin orientation of alpha: bin 1
  (centred on -pi/2) when alpha < pi/6 or > 5pi/6, residual alpha + pi/2; bin 2 (centred on pi/2)
  when alpha > -pi/6 or < -5pi/6, residual alpha - pi/2; near 0 and pi both bins are set;
- `P2` (input pixels) travels along for the location loss.
Per-object rows are padded to `max_objects` (KM3D max_objs 32); keypoint rows to 9 x max_objects.
"""

from __future__ import annotations

import math

import tensorflow as tf

from official.data.corner_targets import draw_gaussians, gaussian_radius

NUM_KEYPOINTS = 9
_X = (0.5, 0.5, -0.5, -0.5, 0.5, 0.5, -0.5, -0.5, 0.0)  # official/data/kitti_geometry.py corner order
_Y = (0.0, 0.0, 0.0, 0.0, -1.0, -1.0, -1.0, -1.0, -0.5)
_Z = (0.5, -0.5, -0.5, 0.5, 0.5, -0.5, -0.5, 0.5, 0.0)


def project_keypoints(dimensions: tf.Tensor, locations: tf.Tensor, rotation_y: tf.Tensor, P2: tf.Tensor):
    """(N, 3) (h, w, l), (N, 3), (N,), (3, 4) -> (N, 9, 2) pixels and (N, 9) depths."""
    h, w, length = dimensions[:, 0:1], dimensions[:, 1:2], dimensions[:, 2:3]
    x, y, z = tf.constant(_X) * length, tf.constant(_Y) * h, tf.constant(_Z) * w  # (N, 9)
    c, s = tf.cos(rotation_y)[:, None], tf.sin(rotation_y)[:, None]
    points = tf.stack([c * x + s * z, y, -s * x + c * z], -1) + locations[:, None, :]
    hom = tf.concat([points, tf.ones_like(points[..., :1])], -1)
    uvw = tf.einsum("nkj,ij->nki", hom, tf.cast(P2, tf.float32))
    depth = uvw[..., 2]
    return uvw[..., :2] / tf.where(tf.abs(depth) < 1e-6, 1e-6, depth)[..., None], depth


def multibin_targets(alpha: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(N,) alpha -> (N, 2) int32 bin flags and (N, 2) residuals (KM3D car_pose.py)."""
    pi = math.pi
    bin1 = (alpha < pi / 6.0) | (alpha > 5.0 * pi / 6.0)
    bin2 = (alpha > -pi / 6.0) | (alpha < -5.0 * pi / 6.0)
    bins = tf.cast(tf.stack([bin1, bin2], -1), tf.int32)
    residuals = tf.stack([tf.where(bin1, alpha + 0.5 * pi, 0.0), tf.where(bin2, alpha - 0.5 * pi, 0.0)], -1)
    return bins, residuals


def encode_targets(
    frame: dict,
    input_size: tuple[int, int],
    num_classes: int,
    stride: int = 4,
    max_objects: int = 32,
) -> dict[str, tf.Tensor]:
    """Targets of one warped frame (keys of official/data/kitti.py, in input pixels) -> loss inputs."""
    out_h, out_w = input_size[0] // stride, input_size[1] // stride
    classes = tf.cast(frame["gt_classes"], tf.int32)[:max_objects]
    boxes = tf.cast(frame["gt_boxes2d"], tf.float32)[:max_objects] / float(stride)
    boxes = tf.clip_by_value(boxes, 0.0, [out_w - 1.0, out_h - 1.0, out_w - 1.0, out_h - 1.0])
    dims = tf.cast(frame["gt_dimensions"], tf.float32)[:max_objects]
    locs = tf.cast(frame["gt_locations"], tf.float32)[:max_objects]
    ry = tf.cast(frame["gt_rotation_y"], tf.float32)[:max_objects]
    alpha = tf.cast(frame["gt_alpha"], tf.float32)[:max_objects]
    P2 = tf.cast(frame["P2"], tf.float32)
    bw, bh = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    keep = tf.cast(frame["gt_valid"], tf.bool)[:max_objects] & (bw > 0) & (bh > 0) & (classes >= 0)
    radius = tf.maximum(0.0, tf.floor(gaussian_radius(tf.math.ceil(bh), tf.math.ceil(bw))))
    center = tf.stack([(boxes[:, 0] + boxes[:, 2]) / 2.0, (boxes[:, 1] + boxes[:, 3]) / 2.0], -1)
    center_int = tf.floor(center)

    kps, depth = project_keypoints(dims, locs, ry, P2)
    kps = kps / float(stride)  # (N, 9, 2) output cells
    visible = (depth > 0) & (kps[..., 0] >= 0) & (kps[..., 0] < out_w) & (kps[..., 1] >= 0) & (kps[..., 1] < out_h)
    visible &= keep[:, None]
    kps_int = tf.floor(tf.where(visible[..., None], kps, 0.0))
    any_visible = tf.reduce_any(visible, axis=1)
    n = tf.shape(classes)[0]
    ci = tf.cast(center_int, tf.int32)
    hm = draw_gaussians(ci, radius, classes, keep, out_h, out_w, num_classes)
    joint_ids = tf.tile(tf.range(NUM_KEYPOINTS)[None], [n, 1])
    hm_hp = draw_gaussians(
        tf.reshape(tf.cast(kps_int, tf.int32), [-1, 2]), tf.repeat(radius, NUM_KEYPOINTS),
        tf.reshape(joint_ids, [-1]), tf.reshape(visible, [-1]), out_h, out_w, NUM_KEYPOINTS,
    )  # fmt: skip
    bins, residuals = multibin_targets(alpha)
    keep_f = tf.cast(keep, tf.float32)
    hp_int = tf.cast(kps_int, tf.int32)
    rows = {
        "ind": tf.where(keep, ci[:, 1] * out_w + ci[:, 0], 0),
        "reg_mask": keep_f * tf.cast(any_visible, tf.float32),
        "reg": (center - center_int) * keep_f[:, None],
        "wh": tf.stack([bw, bh], -1) * keep_f[:, None],
        "hps": tf.reshape((kps - center_int[:, None, :]) * keep_f[:, None, None], [-1, 2 * NUM_KEYPOINTS]),
        "hps_mask": tf.tile(keep_f[:, None], [1, 2 * NUM_KEYPOINTS]),
        "dim": dims * keep_f[:, None],
        "location": locs * keep_f[:, None],
        "rotation_y": ry * keep_f,
        "rotbin": bins * tf.cast(keep, tf.int32)[:, None],
        "rotres": residuals * keep_f[:, None],
        "rot_mask": keep_f,
    }
    pad = max_objects - n
    out = {k: tf.pad(v, [[0, pad]] + [[0, 0]] * (len(v.shape) - 1)) for k, v in rows.items()}
    visible_f = tf.cast(visible, tf.float32)
    kp_rows = {
        "hp_ind": tf.reshape(tf.where(visible, hp_int[..., 1] * out_w + hp_int[..., 0], 0), [-1]),
        "hp_mask": tf.reshape(visible_f, [-1]),
        "hp_offset": tf.reshape((kps - kps_int) * visible_f[..., None], [-1, 2]),
    }
    kp_pad = NUM_KEYPOINTS * pad
    out.update({k: tf.pad(v, [[0, kp_pad]] + [[0, 0]] * (len(v.shape) - 1)) for k, v in kp_rows.items()})
    for key, value in out.items():
        value.set_shape([max_objects * (NUM_KEYPOINTS if key.startswith("hp_") else 1)] + value.shape.as_list()[1:])
    out.update({"hm": hm, "hm_hp": hm_hp, "P2": P2})
    return out
