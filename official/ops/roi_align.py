"""RoIAlign (Mask R-CNN) as a bilinear gather in keras.ops, with fixed shapes for XLA and TFLite.

Each of the output_size x output_size bins of a box averages `sampling_ratio`^2 bilinear samples
placed at the centres of a regular sub-grid. Three box conventions are supported because detectors
were trained with different ones:
- "aligned"  (torchvision aligned=True, detectron2 ROIAlignV2): pixel centres at +0.5, so the box
  is shifted by -0.5 and may be smaller than one feature cell;
- "legacy"   (torchvision aligned=False, Detectron): no shift, boxes at least 1x1;
- "mmdet_v1" (mmdetection v1 / CPN's roi_align kernel): no shift, x2/y2 + 1 (inclusive pixel
  ends), sizes clamped at 0.
The sampling rule is the common one: a sample outside (-1, size) contributes 0, coordinates are
clamped to [0, size - 1]. The adaptive sampling ratio (ceil(box/bins), data-dependent) is not
supported: it has no fixed shape; pass the ratio the model was trained with.

The gather runs once per sample offset and corner (4 * ratio^2 gathers of (B, N, P, P, C)), so the
peak memory is one pooled tensor, not ratio^2 * 4 of them.
"""

from __future__ import annotations

from keras import ops

MODES = ("aligned", "legacy", "mmdet_v1")


def _axis_samples(start, size, bins: int, ratio: int, offset: int, extent: int):
    """Sample coordinates along one axis for sub-sample `offset`, clamped, plus corner weights.

    start, size: (B, N) box start and extent in feature cells. Returns low/high int32 indices and
    low/high weights, each (B, N, bins), with the weights zeroed where the sample is out of range.
    """
    bin_size = size / bins
    centers = ops.arange(bins, dtype="float32")[None, None, :]
    coord = start[..., None] + centers * bin_size[..., None] + (offset + 0.5) * bin_size[..., None] / ratio
    inside = ops.logical_and(coord >= -1.0, coord <= float(extent))
    coord = ops.maximum(coord, 0.0)
    low = ops.floor(coord)
    at_end = low >= extent - 1
    low = ops.where(at_end, float(extent - 1), low)
    high = ops.where(at_end, low, low + 1.0)
    coord = ops.where(at_end, low, coord)
    frac = coord - low
    valid = ops.cast(inside, "float32")
    return (
        ops.cast(low, "int32"),
        ops.cast(high, "int32"),
        (1.0 - frac) * valid,
        frac * valid,
    )


def roi_align(
    features,
    boxes,
    output_size: int | tuple[int, int] = 7,
    spatial_scale: float = 1.0,
    sampling_ratio: int = 2,
    mode: str = "legacy",
):
    """Pools `boxes` from `features`.

    Args:
      features: (batch, height, width, channels).
      boxes: (batch, num_boxes, 4) as (x1, y1, x2, y2) in input coordinates; multiplied by
        `spatial_scale` to reach feature cells.
      output_size: bins per side (int) or (bins_h, bins_w).
      spatial_scale: feature cells per input unit (1 / stride).
      sampling_ratio: samples per bin per axis (> 0).
      mode: "aligned" | "legacy" | "mmdet_v1" (see the module docstring).

    Returns:
      (batch, num_boxes, bins_h, bins_w, channels), in the features' dtype.
    """
    if mode not in MODES:
        raise ValueError(f"roi_align: mode must be one of {MODES}, got {mode!r}")
    if sampling_ratio <= 0:
        raise ValueError(f"roi_align: sampling_ratio must be > 0 (adaptive sampling has no fixed shape), got {sampling_ratio}")
    ph, pw = (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)
    _, height, width, channels = features.shape
    if height is None or width is None or channels is None:
        raise ValueError(f"roi_align: features need static height, width and channels, got {tuple(features.shape)}")
    dtype = features.dtype
    batch = ops.shape(features)[0]
    num = ops.shape(boxes)[1]
    boxes = ops.cast(boxes, "float32") * spatial_scale
    x1, y1, x2, y2 = boxes[..., 0], boxes[..., 1], boxes[..., 2], boxes[..., 3]
    if mode == "aligned":
        x1, y1, x2, y2 = x1 - 0.5, y1 - 0.5, x2 - 0.5, y2 - 0.5
        w, h = x2 - x1, y2 - y1
    elif mode == "legacy":
        w, h = ops.maximum(x2 - x1, 1.0), ops.maximum(y2 - y1, 1.0)
    else:  # mmdet_v1: inclusive ends
        w = ops.maximum((x2 + spatial_scale) - x1, 0.0)
        h = ops.maximum((y2 + spatial_scale) - y1, 0.0)

    flat = ops.reshape(features, (-1, channels))
    base = (ops.arange(batch, dtype="int32") * (height * width))[:, None, None, None]
    out = None
    for iy in range(sampling_ratio):
        y_lo, y_hi, wy_lo, wy_hi = _axis_samples(y1, h, ph, sampling_ratio, iy, height)
        for ix in range(sampling_ratio):
            x_lo, x_hi, wx_lo, wx_hi = _axis_samples(x1, w, pw, sampling_ratio, ix, width)
            for ys, wys in ((y_lo, wy_lo), (y_hi, wy_hi)):
                for xs, wxs in ((x_lo, wx_lo), (x_hi, wx_hi)):
                    index = base + ys[:, :, :, None] * width + xs[:, :, None, :]  # (B, N, ph, pw)
                    values = ops.take(flat, ops.reshape(index, (-1,)), axis=0)
                    values = ops.reshape(values, (batch, num, ph, pw, channels))
                    weight = ops.cast(wys[:, :, :, None, None] * wxs[:, :, None, :, None], dtype)
                    term = values * weight
                    out = term if out is None else out + term
    return out / ops.cast(sampling_ratio * sampling_ratio, dtype)
