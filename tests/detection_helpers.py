"""A CPN that detects what the test paints: hand-set weights, so detection outputs can be checked.

A randomly initialised tiny CPN emits no detection at all (every grouping score is below 0.2), so
tests of what happens to detections after the network (mapping to original pixels, the flip test,
soft-NMS, export) would run their assertions over empty arrays. `plant_corner_detector` sets every
weight of a DLA-34 CPN by hand so that:

- the network carries the image's red channel (channel 0) and green channel (channel 1) unchanged in
  position down to the stride-4 map: every conv is the identity on channels 0 and 1 at its centre
  tap (zero elsewhere), BatchNorm is the identity, and the coarser DLA levels, the neck's upsampled
  projections and the cascade corner pools' pooled branch are switched off (their convs are zero), so
  only the finest path (stride-2 centre taps + max-pool residuals) reaches the heads;
- a pure-red block (255, 0, 0) covering input pixels [4i, 4i+3] x [4j, 4j+3] is then a top-left corner
  of class `PLANTED_CLASS` at cell (i, j) with score exactly 1, a pure-green block a bottom-right
  corner, and nothing else scores: black pixels normalise below zero and the ReLUs remove them;
- the background of the top-left heatmap is class 0 and of the bottom-right heatmap class 1 (logit
  -50, the planted class -60 elsewhere), so the only same-class (valid) corner pair is a planted red
  corner with a planted green corner to its right and below;
- offsets are zero, every proposal passes the grouping classifier (logit +5) and the region score is
  0.5, so a planted pair comes out with fused score (1 + 0.5) (0.5 + 0.5) - 0.25 = 1.25 and its box is
  exactly (4 x_red, 4 y_red, 4 x_green, 4 y_green) in input pixels.

A pair whose green block is left of its red block is invalid in the image but valid in the mirrored
view of the flip test: it must come back at the mirrored position. `corner_image` paints the blocks
in ORIGINAL image pixels for a given resize factor; `expected_box` is the independent arithmetic of
where a detection must come out (input pixels, original pixels, or from the mirrored view).

`SCENE` is a ready-made set of three COCO-format images (landscape, mirrored-only pair, portrait) for
task-level tests: `write_scene` writes them with their expected boxes as the ground truth,
`scene_experiment` is the tiny-CPN experiment reading them, `check_scene_results` compares COCO results.
"""

from __future__ import annotations

import io
import json
import os
from typing import Any

import numpy as np

STRIDE = 4  # CPN's output stride (the heads run on the stride-4 map)
PLANTED_CLASS = 2  # class index the planted corners carry; 0 / 1 are the tl / br background classes
PLANTED_SCORE = 1.25  # (s_c + 0.5) (s_r + 0.5) - 0.25 with s_c = 1, s_r = 0.5
RED = (255, 0, 0)
GREEN = (0, 255, 0)

_BACKGROUND_LOGIT = -50.0  # sigmoid = 2e-22: ranks above the planted class elsewhere (-60)
_OTHER_LOGIT = -60.0
_GAIN = 20.0  # heat logit per unit of carried signal (a full block carries ~7.6: logit ~ +90)


def _zeroed(layer: str) -> bool:
    """Layers whose kernel is set to zero: the paths that would spread or mix positions."""
    return (
        "_proj" in layer  # DLA-up / IDA-up projections of the coarser levels
        or "_up" in layer  # their upsampling kernels
        or layer.endswith("_merge_conv")  # the corner pools' pooled branch (the 1x1 shortcut stays)
        or "_off_" in layer  # offset heads: corners sit at the cell's top-left
        or layer.endswith("cls_reduce")  # grouping / region classifiers: constant logits (biases)
    )


def plant_corner_detector(model: Any) -> Any:
    """Sets every weight of a DLA-34 CPN (see the module docstring); returns the model."""
    if getattr(model, "backbone", "dla34") != "dla34" or model.num_classes < 3:
        raise ValueError("plant_corner_detector: needs a DLA-34 CPN with at least 3 classes")
    for v in model.weights:
        layer, kind = v.path.split("/")[-2:]
        shape = tuple(v.shape)
        value = np.zeros(shape, np.float32)
        if kind in ("gamma", "moving_variance"):
            value[:] = 1.0
        elif kind == "kernel" and len(shape) == 4 and not _zeroed(layer):
            kh, kw, cin, cout = shape
            if layer.endswith("_heat_out"):
                value[0, 0, 0 if "_tl_" in layer else 1, PLANTED_CLASS] = _GAIN  # tl <- red, br <- green
            else:
                for c in range(min(2, cin, cout)):
                    value[kh // 2, kw // 2, c, c] = 1.0
        elif kind == "bias" and layer.endswith("_heat_out"):
            value[:] = _OTHER_LOGIT
            value[0 if "_tl_" in layer else 1] = _BACKGROUND_LOGIT
        elif kind == "bias" and layer.endswith("grouping_cls_logits"):
            value[:] = 5.0
        v.assign(value)
    return model


def corner_image(
    height: int,
    width: int,
    pairs: list[tuple[tuple[int, int], tuple[int, int]]],
    factor: float,
) -> np.ndarray:
    """An (height, width, 3) uint8 black image with a red block at each pair's first cell and a green
    block at its second; cells (x, y) on the stride-4 grid of the network input, `factor` = input /
    original size (the eval resize). A block covers original pixels [c, c + S / factor) with
    c = STRIDE * cell / factor, which bilinear resizing maps exactly onto the cell's 4 x 4 input pixels
    (`factor` must make STRIDE / factor an integer)."""
    step = STRIDE / factor
    if abs(step - round(step)) > 1e-9:
        raise ValueError(f"corner_image: STRIDE / factor = {step} must be an integer")
    step = int(round(step))
    image = np.zeros((height, width, 3), np.uint8)
    for corners in pairs:
        for (x, y), colour in zip(corners, (RED, GREEN), strict=True):
            image[y * step : (y + 1) * step, x * step : (x + 1) * step] = colour
    return image


def expected_box(pair: tuple[tuple[int, int], tuple[int, int]], input_size: int, factor: float = 1.0,
                 mirrored: bool = False) -> np.ndarray:
    """Where a planted pair's detection must come out: (x1, y1, x2, y2) in ORIGINAL pixels (input
    pixels for factor 1). `mirrored`: the pair is seen only in the flip test's mirrored view, whose
    corners are the mirrored cells; mapped back, the box is x -> input_size - x of the mirrored box."""
    (tx, ty), (bx, by) = pair
    if mirrored:
        cells = input_size // STRIDE
        if tx + bx == cells - 1:  # the box would be its own mirror image: a missing flip-back would pass
            raise ValueError(f"expected_box: pair {pair} is mirror-symmetric; choose one off the centre")
        mx1, mx2 = (cells - 1 - tx) * STRIDE, (cells - 1 - bx) * STRIDE  # red / green in the mirror
        box = np.array([input_size - mx2, ty * STRIDE, input_size - mx1, by * STRIDE], np.float64)
    else:
        box = np.array([tx, ty, bx, by], np.float64) * STRIDE
    return box / factor


def write_coco_split(root: str, split: str, images: list[np.ndarray], boxes: list[list[np.ndarray]],
                     category_ids: tuple[int, ...] = (1, 3, 7)) -> str:
    """Writes ROOT/<split>/*.png and ROOT/annotations/instances_<split>.json (COCO instances, every
    box of class index PLANTED_CLASS); returns the JSON path."""
    os.makedirs(os.path.join(root, split), exist_ok=True)
    os.makedirs(os.path.join(root, "annotations"), exist_ok=True)
    from PIL import Image

    entries, anns = [], []
    for i, (pixels, image_boxes) in enumerate(zip(images, boxes, strict=True)):
        name = f"{i + 1:012d}.png"
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, format="PNG")
        with open(os.path.join(root, split, name), "wb") as f:
            f.write(buf.getvalue())
        entries.append({"id": i + 1, "file_name": name, "height": int(pixels.shape[0]), "width": int(pixels.shape[1])})
        for box in image_boxes:
            x1, y1, x2, y2 = (float(v) for v in box)
            anns.append({"id": len(anns) + 1, "image_id": i + 1, "category_id": category_ids[PLANTED_CLASS],
                         "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1), "iscrowd": 0,
                         "segmentation": [[x1, y1, x2, y1, x2, y2, x1, y2]]})
    categories = [{"id": c, "name": f"class{c}", "supercategory": "shape"} for c in category_ids]
    path = os.path.join(root, "annotations", f"instances_{split}.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"images": entries, "annotations": anns, "categories": categories}, f)
    return path


# --- a ready-made COCO scene -------------------------------------------------------------------

SCENE_INPUT = 64  # network input side
SCENE_FACTOR = 0.4  # a 160 px long side is resized to 64: one cell = 10 original pixels
SCENE_MAX_DETECTIONS = 10
CATEGORY_IDS = (1, 3, 7)  # COCO category ids of class indices 0, 1, 2 (the planted class -> 7)
# (height, width, pairs seen in the image, pairs seen only in the flip test's mirrored view). Two pairs
# of one class in one image would also pair with each other (in one of the two views), so one each.
SCENE = (
    (120, 160, [((9, 1), (13, 5))], []),  # landscape: padded at the bottom
    (120, 160, [], [((13, 2), (8, 8))]),  # green left of red: only the mirror pairs them
    (160, 120, [((1, 2), (10, 14))], []),  # portrait: padded on the right
)


def scene_expected(index: int) -> np.ndarray:
    """(n, 4) boxes in original pixels that image `index` (0-based; COCO id index + 1) must give."""
    _, _, pairs, mirrored = SCENE[index]
    boxes = [expected_box(p, SCENE_INPUT, SCENE_FACTOR) for p in pairs]
    boxes += [expected_box(p, SCENE_INPUT, SCENE_FACTOR, mirrored=True) for p in mirrored]
    return np.array(boxes, np.float64).reshape(-1, 4)


def write_scene(root: str, split: str = "val") -> str:
    """Writes the SCENE images and their expected boxes (as ground truth) in COCO format; returns the JSON."""
    pixels = [corner_image(h, w, pairs + mirrored, SCENE_FACTOR) for h, w, pairs, mirrored in SCENE]
    return write_coco_split(root, split, pixels, [scene_expected(i) for i in range(len(SCENE))], CATEGORY_IDS)


def scene_experiment(root: str, annotations: str, flip_test: bool = True, extra: str = "") -> Any:
    """The tiny-CPN shapes experiment reading the scene (train and eval), input 64, flip test on, 10
    detections per image (the scene has one; soft-NMS runs one loop step per output row)."""
    from official.core import config as config_lib

    override = (f"train_data.path={root}/val,train_data.annotations={annotations},eval_data.path={root}/val,"
                f"eval_data.annotations={annotations},model.flip_test={str(flip_test).lower()},"
                f"model.max_detections={SCENE_MAX_DETECTIONS}")
    cfg = config_lib.resolve("cpn_dla34tiny_shapes", [], override + ("," + extra if extra else ""))
    assert cfg.eval_data.image_size == SCENE_INPUT == cfg.model.input_size
    return cfg


def check_scene_results(results: list[dict], what: str) -> None:
    """COCO results of the scene == the independently computed boxes, category 7, score 1.25 (exactly
    one result per planted pair: nothing else may come out)."""
    for index in range(len(SCENE)):
        mine = [r for r in results if r["image_id"] == index + 1]
        want = scene_expected(index)
        assert len(mine) == len(want), f"{what}: image {index + 1} has {len(mine)} detections, expected {len(want)}"
        got = np.array([[x, y, x + w, y + h] for x, y, w, h in (r["bbox"] for r in mine)]).reshape(-1, 4)
        np.testing.assert_allclose(got, want, atol=1e-3, err_msg=f"{what}: boxes of image {index + 1} (original pixels)")
        assert all(r["category_id"] == CATEGORY_IDS[PLANTED_CLASS] for r in mine)
        np.testing.assert_allclose([r["score"] for r in mine], PLANTED_SCORE, atol=1e-4)


def check_scene_serving(out: dict, what: str) -> None:
    """serving_default outputs (boxes, classes, scores, num_detections) of the scene's encoded images."""
    for index in range(len(SCENE)):
        want = scene_expected(index)
        n = int(out["num_detections"][index])
        assert n == len(want), f"{what}: image {index + 1} has {n} detections, expected {len(want)}"
        np.testing.assert_allclose(out["boxes"][index, :n], want, atol=1e-3,
                                   err_msg=f"{what}: boxes of image {index + 1} (original pixels)")
        assert np.all(out["classes"][index, :n] == CATEGORY_IDS[PLANTED_CLASS])
        np.testing.assert_allclose(out["scores"][index, :n], PLANTED_SCORE, atol=1e-4)
        assert np.all(out["scores"][index, n:] == 0) and np.all(out["boxes"][index, n:] == 0)
