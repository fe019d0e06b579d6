"""Threshold-independent preparation: which predictions take part, in which order, and all IoUs.

Everything a TIDE run needs that does not depend on the IoU threshold is computed once here and
shared by every threshold of `evaluate_range`:
- predictions on images outside the ground truth are dropped; per image they are sorted by score
  (descending, ties in insertion order) and cut to the ground truth's `max_dets`;
- the IoU of every (prediction, ground truth) pair of the same image, stored flat and prediction-major
  (pairs of one prediction are contiguous, ground truths in insertion order);
- the crowd IoU of every (prediction, ignore region) pair and whether the region's class applies.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from official.evaluation.tide.data import Data, DataArrays
from official.evaluation.tide.errors import TideInputError
from official.evaluation.tide.iou import box_iou_pairs, mask_iou_block, segment_ranges

BOX_MODES = ("bbox", "box")
MASK_MODES = ("mask", "segm")


def canonical_mode(mode: str) -> str:
    """'bbox' or 'mask' (tidecv's TIDE.BOX / TIDE.MASK); 'box' and 'segm' are accepted too."""
    if mode in BOX_MODES:
        return "bbox"
    if mode in MASK_MODES:
        return "mask"
    raise ValueError(f"mode must be 'box' ('bbox') or 'mask', got {mode!r}")


@dataclasses.dataclass
class Prepared:
    """Flat arrays for one (ground truth, predictions, mode, class filter) combination."""

    mode: str
    gt_arrays: DataArrays
    pred_arrays: DataArrays
    class_ids: list[Any]  # raw class id per class code
    n_images: int
    # predictions kept, ordered by (image order, rank); "processing order" = position in these arrays
    p_src: np.ndarray  # index into the predictions Data
    p_img: np.ndarray
    p_cls: np.ndarray
    p_score: np.ndarray
    p_rank: np.ndarray
    # ground truth that is not an ignore region, ordered by (image order, insertion)
    g_src: np.ndarray  # index into the ground-truth Data
    g_img: np.ndarray
    g_cls: np.ndarray
    g_count: np.ndarray  # per image
    # (prediction, ground truth) pairs, prediction-major
    pair_start: np.ndarray  # per prediction
    pair_count: np.ndarray  # per prediction (= ground truths in its image)
    pair_gt: np.ndarray
    pair_iou: np.ndarray
    pair_same: np.ndarray  # same class
    # (prediction, ignore region) pairs
    crowd_pred: np.ndarray
    crowd_iou: np.ndarray
    crowd_applies: np.ndarray  # region class equals the prediction's or is -1

    @property
    def num_classes(self) -> int:
        return len(self.class_ids)


def _geometry_check(arrays: DataArrays, rows: np.ndarray, mode: str, name: str, what: str) -> None:
    if mode == "bbox":
        missing = rows[~arrays.has_box[rows]]
    else:
        missing = np.array([i for i in rows.tolist() if arrays.mask[i] is None], dtype=np.int64)
    if len(missing):
        field = "box" if mode == "bbox" else "mask"
        raise TideInputError(f"{name}: {what} {int(missing[0])} has no {field} for mode {mode!r}")


def _is_wildcard(class_id: Any) -> bool:
    try:
        return bool(class_id == -1)
    except (TypeError, ValueError):
        return False


def _lookup(keys: list[Any], index: dict[Any, int]) -> np.ndarray:
    """index[key] per key (-1 if absent); vectorised when keys and the index are plain integers.

    `index` maps each key to its insertion position (0, 1, ...), so a key's value is its table slot.
    """
    table = list(index)
    if table and keys and type(keys[0]) is int and all(type(k) is int for k in table):
        try:
            arr, table_arr = np.asarray(keys), np.asarray(table)
        except (OverflowError, ValueError, TypeError):
            arr = table_arr = np.zeros(0, dtype=object)
        if arr.dtype.kind == "i" and table_arr.dtype.kind == "i" and arr.ndim == 1:
            sorter = np.argsort(table_arr, kind="stable")
            found = sorter[np.minimum(np.searchsorted(table_arr, arr, sorter=sorter), len(table) - 1)]
            return np.where(table_arr[found] == arr, found, -1).astype(np.int64)
    return np.fromiter((index.get(k, -1) for k in keys), dtype=np.int64, count=len(keys))


def prepare(gt: Data, preds: Data, mode: str, drop_ignored_classes: bool = False) -> Prepared:
    """Builds the flat arrays; `drop_ignored_classes` mirrors tidecv's AP-only runs, which drop
    predictions of classes ignored for a whole image before the max_dets cut."""
    mode = canonical_mode(mode)
    ga, pa = gt.arrays(), preds.arrays()
    image_index = {img: i for i, img in enumerate(gt.images)}
    n_images = len(image_index)
    class_index: dict[Any, int] = {}
    for c in gt.classes:
        class_index.setdefault(c, len(class_index))
    for c in dict.fromkeys(ga.cls):
        class_index.setdefault(c, len(class_index))
    for c in dict.fromkeys(pa.cls):
        class_index.setdefault(c, len(class_index))
    n_cls = len(class_index)

    # ---- ground truth and ignore regions
    g_all_img = _lookup(ga.image, image_index)
    g_all_cls = _lookup(ga.cls, class_index)
    real = np.flatnonzero(~ga.ignore)
    real = real[np.argsort(g_all_img[real], kind="stable")]
    _geometry_check(ga, real, mode, gt.name, "ground truth")
    g_img, g_cls = g_all_img[real], g_all_cls[real]
    g_count = np.bincount(g_img, minlength=n_images)
    g_start = np.zeros(n_images, dtype=np.int64)
    np.cumsum(g_count[:-1], out=g_start[1:])
    regions = np.flatnonzero(ga.ignore)
    r_whole = np.array([not ga.has_box[r] and ga.mask[r] is None for r in regions.tolist()], dtype=bool)

    # ---- predictions: on known images, optionally not of an image-wide ignored class
    p_all_img = _lookup(pa.image, image_index)
    p_all_cls = _lookup(pa.cls, class_index)
    keep = p_all_img >= 0
    if drop_ignored_classes and len(regions):
        named = regions[r_whole & np.array([ga.cls[r] is not None for r in regions.tolist()], dtype=bool)]
        ignored_keys = np.setdiff1d(g_all_img[named] * n_cls + g_all_cls[named], g_img * n_cls + g_cls)
        keep &= ~np.isin(p_all_img * n_cls + p_all_cls, ignored_keys)
    cand = np.flatnonzero(keep)
    order = cand[np.lexsort((cand, -pa.score[cand], p_all_img[cand]))]
    counts = np.bincount(p_all_img[order], minlength=n_images)
    _, rank = segment_ranges(counts)
    top = rank < gt.max_dets
    p_src, p_rank = order[top], rank[top]
    _geometry_check(pa, p_src, mode, preds.name, "detection")
    p_img, p_cls, p_score = p_all_img[p_src], p_all_cls[p_src], pa.score[p_src]
    p_count = np.bincount(p_img, minlength=n_images)
    p_start = np.zeros(n_images, dtype=np.int64)
    np.cumsum(p_count[:-1], out=p_start[1:])

    # ---- (prediction, ground truth) pairs
    pair_count = g_count[p_img]
    pair_start, within = segment_ranges(pair_count)
    pair_pred = np.repeat(np.arange(len(p_src)), pair_count)
    pair_gt = g_start[p_img][pair_pred] + within
    pair_same = p_cls[pair_pred] == g_cls[pair_gt]
    if mode == "bbox":
        pair_iou = box_iou_pairs(pa.box[p_src[pair_pred]], ga.box[real[pair_gt]])
    else:
        pair_iou = np.zeros(len(pair_gt))
        for img in np.flatnonzero((p_count > 0) & (g_count > 0)).tolist():
            ps, gs = p_start[img], g_start[img]
            dets = [pa.mask[i] for i in p_src[ps:ps + p_count[img]].tolist()]
            gts = [ga.mask[i] for i in real[gs:gs + g_count[img]].tolist()]
            lo = pair_start[ps]
            pair_iou[lo:lo + len(dets) * len(gts)] = mask_iou_block(dets, gts).ravel()

    # ---- (prediction, ignore region) pairs; regions without this mode's geometry are skipped
    has_geom = ga.has_box[regions] if mode == "bbox" else np.array(
        [ga.mask[r] is not None for r in regions.tolist()], dtype=bool)
    usable = r_whole | has_geom
    regions_used, whole_used = regions[usable], r_whole[usable]
    r_img = g_all_img[regions_used]
    c_count = p_count[r_img]
    _, c_within = segment_ranges(c_count)
    c_region = np.repeat(np.arange(len(regions_used)), c_count)
    crowd_pred = p_start[r_img][c_region] + c_within
    crowd_iou = np.ones(len(crowd_pred))
    geo = ~whole_used[c_region]
    if mode == "bbox":
        crowd_iou[geo] = box_iou_pairs(pa.box[p_src[crowd_pred[geo]]], ga.box[regions_used[c_region[geo]]], crowd=True)
    else:
        starts, _ = segment_ranges(c_count)
        for k in np.flatnonzero(~whole_used & (c_count > 0)).tolist():
            ps = p_start[r_img[k]]
            dets = [pa.mask[i] for i in p_src[ps:ps + c_count[k]].tolist()]
            crowd_iou[starts[k]:starts[k] + c_count[k]] = mask_iou_block(dets, [ga.mask[regions_used[k]]], crowd=True)[:, 0]
    wild = np.array([_is_wildcard(ga.cls[r]) for r in regions_used.tolist()], dtype=bool)
    crowd_applies = (g_all_cls[regions_used][c_region] == p_cls[crowd_pred]) | wild[c_region]

    return Prepared(
        mode=mode, gt_arrays=ga, pred_arrays=pa, class_ids=list(class_index), n_images=n_images,
        p_src=p_src, p_img=p_img, p_cls=p_cls, p_score=p_score, p_rank=p_rank,
        g_src=real, g_img=g_img, g_cls=g_cls, g_count=g_count,
        pair_start=pair_start, pair_count=pair_count, pair_gt=pair_gt, pair_iou=pair_iou, pair_same=pair_same,
        crowd_pred=crowd_pred, crowd_iou=crowd_iou, crowd_applies=crowd_applies,
    )
