"""Synthetic TIDE inputs: small adversarial cases for parity tests, COCO-sized JSON for the benchmark.

`random_case` draws boxes on a 5-pixel grid (so IoUs hit 0.5 and 0.1 exactly), scores on a coarse grid
(ties), duplicates, wrong classes, crowd / whole-image / wildcard ignore regions, images without ground
truth, predictions on unknown images and a class that only predictions use. A `Case` replays itself
onto any class with tidecv's `Data` methods, so the same inputs reach this package and the reference.
`coco_like` writes the COCO-val-sized input (5,000 images, ~36k objects, 100 detections per image).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils


@dataclasses.dataclass
class Case:
    """Ground-truth and prediction calls in order, replayable onto tidecv-compatible `Data` classes."""

    max_dets: int
    images: list[Any]  # add_image order
    gt_ops: list[tuple[str, Any, Any, Any, Any]]  # (kind "gt"|"ignore", image, class, box, mask)
    pred_ops: list[tuple[Any, Any, float, Any, Any]]  # (image, class, score, box, mask)

    def build(self, data_cls: Any) -> tuple[Any, Any]:
        gt, preds = data_cls("gt", max_dets=self.max_dets), data_cls("preds")
        for img in self.images:
            gt.add_image(img, f"img{img}")
        for kind, img, cls, box, mask in self.gt_ops:
            if kind == "gt":
                gt.add_ground_truth(img, cls, box, mask)
            else:
                gt.add_ignore_region(img, cls, box, mask)
        for img, cls, score, box, mask in self.pred_ops:
            preds.add_detection(img, cls, score, box, mask)
        return gt, preds


def _rect_mask(box: list[float], size: int, ellipse: bool) -> dict[str, Any]:
    x, y, w, h = (int(v) for v in box)
    m = np.zeros((size, size), dtype=np.uint8, order="F")
    if ellipse and w > 2 and h > 2:
        yy, xx = np.mgrid[0:size, 0:size]
        m[((xx + 0.5 - x - w / 2) / (w / 2)) ** 2 + ((yy + 0.5 - y - h / 2) / (h / 2)) ** 2 <= 1] = 1
    else:
        m[y:y + h, x:x + w] = 1
    rle = mask_utils.encode(m)
    rle["counts"] = rle["counts"].decode("ascii")
    return rle


def random_case(seed: int, mode: str = "bbox", n_images: int = 10, n_classes: int = 3) -> Case:
    """A small randomised case rich in ties, boundaries and ignore regions (see module docstring)."""
    rng = np.random.default_rng(seed)
    size = 200 if mode == "bbox" else 60
    grid = 5 if mode == "bbox" else 2

    def box() -> list[float]:
        w, h = (rng.integers(2, 21, 2) * grid).tolist()
        x, y = (rng.integers(0, (size - max(w, h)) // grid + 1, 2) * grid).tolist()
        return [float(x), float(y), float(w), float(h)]

    def geom(b: list[float]) -> tuple[Any, Any]:
        if mode == "bbox":
            return b, None
        rle = _rect_mask(b, size, ellipse=bool(rng.random() < 0.3))
        return [float(v) for v in mask_utils.toBbox(rle)], rle

    def score() -> float:
        return float(rng.choice([0.1, 0.25, 0.5, 0.75, 0.9, 1.0])) if rng.random() < 0.5 else float(rng.random())

    images = list(range(n_images))
    rng.shuffle(images)
    gt_ops, pred_ops = [], []
    classes = list(range(1, n_classes + 1))
    for img in images:
        objects = []
        for _ in range(int(rng.integers(0, 7))):
            b, c = box(), int(rng.choice(classes))
            g = geom(b)
            objects.append((b, c))
            gt_ops.append(("gt", img, c, *g))
        if rng.random() < 0.2:
            g = geom(box())
            gt_ops.append(("ignore", img, int(rng.choice(classes + [-1])), *g))
        if rng.random() < 0.1:
            gt_ops.append(("ignore", img, int(rng.choice(classes + [-1])), None, None))
        if rng.random() < 0.05:
            gt_ops.append(("ignore", img, None, None, None))
        for b, c in objects:
            for _ in range(int(rng.integers(0, 4))):
                kind = rng.random()
                if kind < 0.3:
                    nb = list(b)
                else:
                    dx, dy = (rng.integers(-4, 5, 2) * grid).tolist()
                    nb = [b[0] + dx, b[1] + dy, b[2], b[3]]
                    if kind > 0.8:
                        nb[2], nb[3] = max(grid, nb[2] + dx), max(grid, nb[3] - dy)
                nb = [min(max(0.0, nb[0]), size - nb[2]), min(max(0.0, nb[1]), size - nb[3]), nb[2], nb[3]]
                pc = c if rng.random() < 0.75 else int(rng.choice(classes + [n_classes + 1]))
                pred_ops.append((img, pc, score(), *geom(nb)))
        for _ in range(int(rng.integers(0, 4))):
            pred_ops.append((img, int(rng.choice(classes)), score(), *geom(box())))
    if rng.random() < 0.5:
        pred_ops.append((10_000, 1, 0.5, *geom(box())))  # image unknown to the ground truth: dropped
    order = rng.permutation(len(pred_ops))
    pred_ops = [pred_ops[i] for i in order]
    max_dets = int(rng.choice([100, 100, 5, 3]))
    return Case(max_dets=max_dets, images=images, gt_ops=gt_ops, pred_ops=pred_ops)


def coco_like(seed: int = 0, n_images: int = 5000, n_classes: int = 80, gt_per_image: float = 7.2,
              dets_per_image: int = 100, crowd_rate: float = 0.01) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(COCO instances dict, COCO results list) shaped like COCO val2017 and a typical detector's output."""
    rng = np.random.default_rng(seed)
    width, height = 640, 480
    images = [{"id": i + 1, "file_name": f"{i + 1:012d}.jpg", "width": width, "height": height} for i in range(n_images)]
    categories = [{"id": c + 1, "name": f"class_{c + 1}"} for c in range(n_classes)]
    annotations, results = [], []
    ann_id = 1
    for img in images:
        n_gt = int(rng.poisson(gt_per_image))
        w = np.clip(np.exp(rng.normal(4.0, 0.9, n_gt)), 4, width - 1)
        h = np.clip(w * np.exp(rng.normal(0, 0.4, n_gt)), 4, height - 1)
        x, y = rng.random(n_gt) * (width - w), rng.random(n_gt) * (height - h)
        gt_boxes = np.round(np.stack([x, y, w, h], 1), 2)
        gt_cls = rng.integers(1, n_classes + 1, n_gt)
        for b, c in zip(gt_boxes.tolist(), gt_cls.tolist(), strict=True):
            x0, y0, bw, bh = b
            annotations.append({
                "id": ann_id, "image_id": img["id"], "category_id": c, "bbox": b, "area": bw * bh,
                "iscrowd": int(rng.random() < crowd_rate),
                "segmentation": [[x0, y0, x0 + bw, y0, x0 + bw, y0 + bh, x0, y0 + bh]],
            })
            ann_id += 1
        dets = []
        for b, c in zip(gt_boxes, gt_cls.tolist(), strict=True):
            for _ in range(int(rng.poisson(2.5))):
                jitter = rng.normal(0, rng.choice([0.05, 0.15, 0.4]), 4) * np.r_[b[2:], b[2:]]
                nb = np.maximum(b + jitter, [0, 0, 1, 1])
                pc = c if rng.random() < 0.85 else int(rng.integers(1, n_classes + 1))
                dets.append((nb, pc, float(np.clip(rng.beta(4, 2), 0, 1))))
        while len(dets) < dets_per_image:
            bw = float(np.clip(np.exp(rng.normal(3.8, 1.0)), 2, width - 1))
            bh = float(np.clip(bw * np.exp(rng.normal(0, 0.5)), 2, height - 1))
            nb = np.array([rng.random() * (width - bw), rng.random() * (height - bh), bw, bh])
            dets.append((nb, int(rng.integers(1, n_classes + 1)), float(rng.beta(1.2, 5))))
        dets.sort(key=lambda d: -d[2])
        for nb, pc, s in dets[:dets_per_image]:
            results.append({"image_id": img["id"], "category_id": pc, "bbox": np.round(nb, 2).tolist(),
                            "score": round(s, 3)})
    return {"images": images, "annotations": annotations, "categories": categories}, results
