"""Writes "poses", a synthetic COCO person_keypoints set of stick figures, to train tiny pose models on CPU.

    python -m tools.make_poses --out data/poses --train 1000 --val 100 --size 128 --seed 0

Layout: OUT/{train,val}/<12-digit image id>.jpg and OUT/annotations/person_keypoints_{train,val}.json,
readable by pycocotools and `official.data.coco_keypoints.load_coco_keypoints`. Category 1 "person" with
COCO's 17 keypoint names (order of `keypoint_constants.COCO_KEYPOINT_NAMES`) and 19-limb skeleton.

Each image holds 1 to --max_persons stick figures (--min_height to --max_height of the image side tall)
on a low-saturation texture: a filled torso, a head disc with eye, ear and nose dots, thick arms and legs
with random joint angles, random lean, rotation, scale and position. Figures are drawn in saturated
colours, so limbs stand out from any background. Per person the torso, the person's left side and the
right side get three different hues (hue h, h + 60 deg, h - 60 deg): crossing limbs can be traced.

Left and right: which side gets which shade is random, so the colour does NOT tell the side. As in
photos, the side follows from the figure's facing: a front-view figure (face dots drawn) has its left
limbs on the image right; a back-view figure (--back_fraction; mirrored, head drawn as dark hair, no
face: nose and eyes unlabelled, v=0) has them on the image left. A colour code (say left = warm) would
break the horizontal-flip augmentation and flip test of top-down pose training: the flip swaps the
left/right labels but not the colours. With the facing cue a flipped figure is again a valid figure.

Labels follow the pixels exactly: every drawn pixel carries a (person, part) label, and a keypoint is
v=2 when the label at its pixel is its own part (shoulder, elbow and wrist belong to the arm, ...),
v=1 when something else is drawn there (an occluder: a box or ellipse of another texture drawn over
part of a person, --occlusion_fraction of persons; another person; the figure's own other limb), and
v=0 with x = y = 0 when it lies outside the image (--truncate_fraction of persons may cross the border)
or is not labelled (face of a back view). Keypoints are 0-based pixel coordinates (pixel centres at
integers). bbox = the extent of all the person's drawn pixels (limb thickness included, occluded parts
too, like COCO's amodal keypoint labels) clipped to the image; area = bbox w * h (COCO's segment areas
are ~half of that for real people, so OKS here is a little more lenient). Each image is drawn from its
own generator seeded by (seed, split, index): a seed gives identical files, image i does not depend on
the count. Extra annotation fields (ignored by COCO tools; used by tests): figure_view ("front" or
"back") and figure_colors (RGB of torso, left, right, face, hair).
"""

from __future__ import annotations

import colorsys
import dataclasses
import io
import json
import math
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from absl import flags
from PIL import Image, ImageDraw

from official.core.errors import BadValueError
from official.data.keypoint_constants import COCO_KEYPOINT_NAMES
from tools import _cli

# COCO person_keypoints_*.json categories[0].skeleton (1-based keypoint ids).
COCO_SKELETON = (
    (16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12), (7, 13), (6, 7), (6, 8), (7, 9),
    (8, 10), (9, 11), (2, 3), (1, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7),
)
CATEGORY = {
    "id": 1, "name": "person", "supercategory": "person",
    "keypoints": list(COCO_KEYPOINT_NAMES), "skeleton": [list(p) for p in COCO_SKELETON],
}
SPLITS = ("train", "val")
_IMAGE_ID_BASE = {"train": 1, "val": 1_000_001}  # disjoint ids across splits
_ANN_ID_BASE = {"train": 1, "val": 10_000_001}
# Drawn parts; every pixel of a figure belongs to one. Keypoints belong to the part drawn at them.
PARTS = ("torso", "head", "nose", "left_eye", "right_eye", "left_ear", "right_ear",
         "left_arm", "right_arm", "left_leg", "right_leg")


def _part_of(name: str) -> int:
    """Index in PARTS of the part a keypoint is drawn with (face dots are their own parts)."""
    if name in PARTS:
        return PARTS.index(name)
    side, joint = name.split("_")
    return PARTS.index(f"{side}_{'arm' if joint in ('shoulder', 'elbow', 'wrist') else 'leg'}")


KEYPOINT_PART = tuple(_part_of(n) for n in COCO_KEYPOINT_NAMES)
OCCLUDER = 1_000_000  # label of occluder pixels (person parts are 1 + person * len(PARTS) + part)
MIN_SIZE, MAX_SIZE = 64, 4096
MIN_IN_IMAGE = 8  # a truncated person keeps at least this many keypoints inside the image
MIN_VISIBLE = 5  # an occluder is only kept if every person keeps this many v=2 keypoints
# Figure proportions in units of the figure height (head top to ankles, standing straight).
NECK, SHOULDER, HIP, HEAD_UP, HEAD_R = 0.33, 0.13, 0.09, 0.12, 0.085
UPPER_ARM, FOREARM, THIGH, SHIN, LIMB_WIDTH = 0.17, 0.16, 0.23, 0.22, 0.055


@dataclasses.dataclass
class Figure:
    """One stick figure. Angles in radians; arm/leg angles are (raise from hanging down, outward
    positive; bend at elbow/knee), listed (left, right)."""

    height: float  # pixels
    hip: tuple[float, float]  # hip centre (x, y) in pixels
    rotation: float  # whole figure, clockwise on screen
    lean: float  # upper body relative to the legs
    arms: tuple[tuple[float, float], tuple[float, float]]
    legs: tuple[tuple[float, float], tuple[float, float]]
    view: str = "front"  # "front": the person's left on the image right; "back": mirrored, no face
    yaw: float = 0.0  # -1..1, face features shifted sideways
    colors: dict[str, tuple[int, int, int]] = dataclasses.field(default_factory=dict)
    left_on_top: tuple[bool, bool] = (True, True)  # draw order of (arms, legs)


def _hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
    r, g, b = (int(round(255 * c)) for c in colorsys.hsv_to_rgb(h % 1.0, s, v))
    return r, g, b


def random_colors(rng: np.random.Generator) -> dict[str, tuple[int, int, int]]:
    """Saturated torso/left/right hues 60 degrees apart (which side is +60 is random), dark face dots."""
    h = rng.random()
    shades = [h + 1 / 6, h - 1 / 6]
    if rng.random() < 0.5:
        shades.reverse()
    sat = lambda: rng.uniform(0.65, 1.0)  # noqa: E731
    val = lambda: rng.uniform(0.6, 1.0)  # noqa: E731
    return {
        "torso": _hsv(h, sat(), val()),
        "left": _hsv(shades[0], sat(), val()),
        "right": _hsv(shades[1], sat(), val()),
        "face": _hsv(0.0, 0.0, rng.uniform(0.0, 0.2)),  # near-black dots
        "hair": _hsv(rng.uniform(0.0, 0.12), rng.uniform(0.4, 0.8), rng.uniform(0.15, 0.35)),
    }


def _limb_pair(
    rng: np.random.Generator, max_raise: float, max_bend: float, min_raise: float
) -> tuple[tuple[float, float], tuple[float, float]]:
    """(left, right) x (raise, bend) angles."""
    left = (rng.uniform(min_raise, max_raise), rng.uniform(-max_bend, max_bend))
    return left, (rng.uniform(min_raise, max_raise), rng.uniform(-max_bend, max_bend))


def random_figure(rng: np.random.Generator, height: float, back_fraction: float) -> Figure:
    """A plausible random pose (hip at the origin; `place` moves it)."""
    return Figure(
        height=height,
        hip=(0.0, 0.0),
        rotation=rng.uniform(-0.3, 0.3),
        lean=rng.uniform(-0.25, 0.25),
        arms=_limb_pair(rng, 2.9, 2.2, -0.3),  # arms from slightly inward to above the head
        legs=_limb_pair(rng, 0.7, 0.9, -0.2),
        view="back" if rng.random() < back_fraction else "front",
        yaw=rng.uniform(-1.0, 1.0),
        colors=random_colors(rng),
        left_on_top=(bool(rng.random() < 0.5), bool(rng.random() < 0.5)),
    )


def _rot(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s], [s, c]])


def skeleton(fig: Figure) -> dict[str, Any]:
    """Image-pixel positions of the 17 keypoints (`keypoints`, [17, 2] in COCO order) plus `neck`,
    `head` (centre) and the drawing sizes `head_radius`, `width`.

    Built in a frame where y points down, the hip centre is the origin, the unit is the figure height
    and the person's LEFT is +x (a front view); a back view mirrors x; then rotated, scaled, moved.
    """
    up_r = _rot(fig.lean)
    down = lambda a, s: np.array([s * math.sin(a), math.cos(a)])  # noqa: E731  (raise a, outward = s)
    p: dict[str, np.ndarray] = {}
    p["neck"] = up_r @ [0.0, -NECK]
    p["head"] = p["neck"] + up_r @ [0.0, -HEAD_UP]
    sides = zip(("left", "right"), (1.0, -1.0), fig.arms, fig.legs, strict=True)
    for side, s, (arm, bend), (leg, knee) in sides:
        p[f"{side}_shoulder"] = p["neck"] + up_r @ [s * SHOULDER, 0.02]
        p[f"{side}_elbow"] = p[f"{side}_shoulder"] + UPPER_ARM * (up_r @ down(arm, s))
        p[f"{side}_wrist"] = p[f"{side}_elbow"] + FOREARM * (up_r @ down(arm + bend, s))
        p[f"{side}_hip"] = np.array([s * HIP, 0.0])
        p[f"{side}_knee"] = p[f"{side}_hip"] + THIGH * down(leg, s)
        p[f"{side}_ankle"] = p[f"{side}_knee"] + SHIN * down(leg + knee, s)
        # Face: eyes above the head centre, ears at its edge; yaw slides eyes and nose sideways.
        p[f"{side}_eye"] = p["head"] + HEAD_R * (up_r @ [s * 0.4 + 0.3 * fig.yaw, -0.2])
        p[f"{side}_ear"] = p["head"] + HEAD_R * (up_r @ [s * 0.95, 0.0])
    p["nose"] = p["head"] + HEAD_R * (up_r @ [0.3 * fig.yaw, 0.25])
    mirror = np.array([-1.0 if fig.view == "back" else 1.0, 1.0])
    to_image = lambda v: fig.height * (_rot(fig.rotation) @ (mirror * v)) + np.asarray(fig.hip)  # noqa: E731
    return {
        # Rounded as written to the JSON, so drawing, visibility and the file use the same numbers.
        "keypoints": np.round(np.stack([to_image(p[n]) for n in COCO_KEYPOINT_NAMES]), 2),
        "neck": to_image(p["neck"]),
        "head": to_image(p["head"]),
        "head_radius": HEAD_R * fig.height,
        "width": max(2.0, LIMB_WIDTH * fig.height),
    }


def _capsule(layer: np.ndarray, a: np.ndarray, b: np.ndarray, radius: float, label: int) -> None:
    """Sets `label` on the pixels whose centre lies within `radius` of the segment a-b (a disc when
    a == b). Exact in the keypoint convention (pixel centres at integers), unlike PIL, which truncates
    float coordinates: a keypoint's own disc always covers its rounded pixel (radius >= 1)."""
    size = layer.shape[0]
    x0, y0 = (max(0, math.floor(min(a[i], b[i]) - radius)) for i in (0, 1))
    x1, y1 = (min(size - 1, math.ceil(max(a[i], b[i]) + radius)) for i in (0, 1))
    if x1 < x0 or y1 < y0:
        return
    yy, xx = np.mgrid[y0 : y1 + 1, x0 : x1 + 1].astype(np.float64)
    d = np.asarray(b, np.float64) - a
    length2 = float(d @ d)
    t = np.clip(((xx - a[0]) * d[0] + (yy - a[1]) * d[1]) / length2, 0, 1) if length2 > 0 else 0.0
    dist2 = (xx - a[0] - t * d[0]) ** 2 + (yy - a[1] - t * d[1]) ** 2
    layer[y0 : y1 + 1, x0 : x1 + 1][dist2 <= radius**2] = label


def draw_figure(size: int, fig: Figure, label_base: int) -> np.ndarray:
    """int32 [size, size] layer: 0 where the figure is not drawn, else label_base + part index.

    Order (later on top): torso and neck, legs, head, ears, face dots, arms (which arm or leg is in
    front is random); each limb is a chain of thick segments with a disc at every joint."""
    sk = skeleton(fig)
    kp = {n: sk["keypoints"][i] for i, n in enumerate(COCO_KEYPOINT_NAMES)}
    w, r = sk["width"], sk["head_radius"]
    part = {name: label_base + i for i, name in enumerate(PARTS)}
    torso = Image.new("I", (size, size), 0)
    quad = [kp["left_shoulder"], kp["right_shoulder"], kp["right_hip"], kp["left_hip"]]
    ImageDraw.Draw(torso).polygon([tuple(q) for q in quad], fill=part["torso"])
    layer = np.array(torso, np.int32)
    _capsule(layer, sk["neck"], sk["head"], w / 2, part["torso"])

    def chain(names: tuple[str, str, str], label: int, width: float) -> None:
        for a, b in zip(names[:-1], names[1:], strict=True):
            _capsule(layer, kp[a], kp[b], width / 2, label)
        for n in names:
            _capsule(layer, kp[n], kp[n], 0.6 * width, label)

    legs = ["left", "right"] if not fig.left_on_top[1] else ["right", "left"]
    for side in legs:
        chain((f"{side}_hip", f"{side}_knee", f"{side}_ankle"), part[f"{side}_leg"], 1.15 * w)
    _capsule(layer, sk["head"], sk["head"], r, part["head"])
    dots = ["left_ear", "right_ear"] + (["left_eye", "right_eye", "nose"] if fig.view == "front" else [])
    for name in dots:
        radius = max(1.0, (0.25 if name.endswith("ear") else 0.17) * r)
        _capsule(layer, kp[name], kp[name], radius, part[name])
    arms = ["left", "right"] if not fig.left_on_top[0] else ["right", "left"]
    for side in arms:
        chain((f"{side}_shoulder", f"{side}_elbow", f"{side}_wrist"), part[f"{side}_arm"], w)
    return layer


def part_colors(fig: Figure) -> list[tuple[int, int, int]]:
    """RGB of each part in PARTS order."""
    c = fig.colors
    head = c["torso"] if fig.view == "front" else c["hair"]
    return [c["torso"], head, c["face"], c["face"], c["face"], c["left"], c["right"],
            c["left"], c["right"], c["left"], c["right"]]


def texture(size: int, rng: np.random.Generator) -> np.ndarray:
    """Low-saturation background (float32 [size, size, 3], 0-255): a smooth grey field with a slight
    tint, oriented stripes, a few grey shapes as clutter, and pixel noise."""
    cells = int(rng.integers(3, 7))
    grid = rng.uniform(40, 215, (cells, cells, 1)) + rng.normal(0, 10, (cells, cells, 3))
    img = Image.fromarray(np.clip(grid, 0, 255).astype(np.uint8)).resize((size, size), Image.BILINEAR)
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(2, 7))):
        grey = rng.uniform(30, 225)
        fill = tuple(int(np.clip(grey + d, 0, 255)) for d in rng.normal(0, 8, 3))
        x0, y0 = rng.uniform(-0.1, 1.0, 2) * size
        x1, y1 = np.array([x0, y0]) + rng.uniform(0.05, 0.4, 2) * size
        kind = int(rng.integers(0, 3))
        if kind == 0:
            draw.rectangle([x0, y0, x1, y1], fill=fill)
        elif kind == 1:
            draw.ellipse([x0, y0, x1, y1], fill=fill)
        else:
            draw.line([x0, y0, x1, y1], fill=fill, width=max(1, int(rng.uniform(0.01, 0.05) * size)))
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    theta, period = rng.uniform(0, math.pi), rng.uniform(6, 24) * size / 128
    stripes = 10.0 * np.sin(2 * math.pi * (xx * math.cos(theta) + yy * math.sin(theta)) / period)
    return np.asarray(img, np.float32) + stripes[..., None] + rng.normal(0, 4, (size, size, 3))


def _extent(fig: Figure) -> np.ndarray:
    """Approximate [x0, y0, x1, y1] of the drawn figure (keypoints and head disc, limb width added)."""
    sk = skeleton(fig)
    pts = np.concatenate([sk["keypoints"], sk["head"][None]])
    pad = max(sk["width"], sk["head_radius"])
    return np.concatenate([pts.min(0) - pad, pts.max(0) + pad])


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _place(size: int, rng: np.random.Generator, count: int, opts: dict[str, float]) -> list[Figure]:
    """Up to `count` figures whose extents overlap little (IoU < 0.3); at least one."""
    figures: list[Figure] = []
    boxes: list[np.ndarray] = []
    for _ in range(count):
        for attempt in range(30):
            height = rng.uniform(opts["min_height"], opts["max_height"]) * size * 0.93 ** (attempt // 5)
            fig = random_figure(rng, height, opts["back_fraction"])
            box = _extent(fig)
            slack = 0.3 * height if rng.random() < opts["truncate_fraction"] else -1.0
            lo, hi = -box[:2] - slack, size - 1 - box[2:] + slack
            if (hi < lo).any():
                continue
            hip_x, hip_y = rng.uniform(lo, hi)
            fig.hip = (float(hip_x), float(hip_y))
            box = _extent(fig)
            xy = skeleton(fig)["keypoints"]
            inside = ((xy >= 0) & (xy <= size - 1)).all(1)
            if inside.sum() < MIN_IN_IMAGE or any(_iou(box, b) >= 0.3 for b in boxes):
                continue
            figures.append(fig)
            boxes.append(box)
            break
    if not figures:  # 30 failed attempts: a centred, fully visible figure
        fig = random_figure(rng, opts["min_height"] * size, opts["back_fraction"])
        fig.rotation, fig.lean, fig.arms = 0.0, 0.0, ((0.3, 0.0), (0.3, 0.0))
        fig.legs = ((0.1, 0.0), (0.1, 0.0))
        fig.hip = (size / 2, size / 2 + 0.05 * fig.height)
        figures.append(fig)
    return figures


def visibility(fig: Figure, index: int, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """COCO (x, y) [17, 2] and v [17]: 2 where the figure's own part is drawn at the keypoint pixel,
    1 where something else is, 0 (x = y = 0) outside the image or not labelled (back-view face)."""
    size = labels.shape[0]
    xy = skeleton(fig)["keypoints"]
    v = np.zeros(len(xy), np.int64)
    inside = ((xy >= 0) & (xy <= size - 1)).all(1)
    for k in np.flatnonzero(inside):
        if fig.view == "back" and COCO_KEYPOINT_NAMES[k] in ("nose", "left_eye", "right_eye"):
            continue
        x, y = (math.floor(c + 0.5) for c in xy[k])  # the pixel whose centre is nearest
        v[k] = 2 if labels[y, x] == 1 + index * len(PARTS) + KEYPOINT_PART[k] else 1
    return np.where(v[:, None] > 0, xy, 0.0), v


@dataclasses.dataclass
class Rendered:
    """One image: `pixels` uint8 [S, S, 3]; `background` the texture without figures or occluders;
    `labels` int32 [S, S] (0 background, OCCLUDER, else 1 + person * len(PARTS) + part); `figures`;
    `persons` the COCO fields of each figure (bbox, area, keypoints, num_keypoints)."""

    pixels: np.ndarray
    background: np.ndarray
    labels: np.ndarray
    figures: list[Figure]
    persons: list[dict[str, Any]]


def render_figures(size: int, figures: list[Figure], rng: np.random.Generator,
                   occlusion_fraction: float = 0.0) -> Rendered:
    """Draws `figures` (in order, later ones on top) on a random texture, adds occluders, labels them."""
    background = texture(size, rng)
    labels = np.zeros((size, size), np.int32)
    masks = []
    for i, fig in enumerate(figures):
        layer = draw_figure(size, fig, 1 + i * len(PARTS))
        labels = np.where(layer > 0, layer, labels)
        masks.append(layer > 0)
    occluder_pixels = background.copy()
    for fig in figures:
        if rng.random() >= occlusion_fraction:
            continue
        xy = skeleton(fig)["keypoints"]
        inside = np.flatnonzero(((xy >= 0) & (xy <= size - 1)).all(1))
        for _attempt in range(10):  # a box or ellipse of another texture around one of its keypoints
            c = xy[rng.choice(inside)] + rng.normal(0, 0.05 * fig.height, 2)
            half = rng.uniform(0.08, 0.2, 2) * fig.height
            mask_img = Image.new("L", (size, size), 0)
            shape = [c[0] - half[0], c[1] - half[1], c[0] + half[0], c[1] + half[1]]
            draw = ImageDraw.Draw(mask_img)
            draw.rectangle(shape, fill=1) if rng.random() < 0.5 else draw.ellipse(shape, fill=1)
            mask = np.asarray(mask_img, bool)
            trial = np.where(mask, OCCLUDER, labels)
            if all((visibility(f, j, trial)[1] == 2).sum() >= MIN_VISIBLE for j, f in enumerate(figures)):
                labels = trial
                occluder_pixels = np.where(mask[..., None], texture(size, rng), occluder_pixels)
                break
    pixels = np.where((labels == OCCLUDER)[..., None], occluder_pixels, background)
    palette = np.zeros((len(figures) * len(PARTS) + 1, 3), np.float32)
    for i, fig in enumerate(figures):
        palette[1 + i * len(PARTS): 1 + (i + 1) * len(PARTS)] = part_colors(fig)
    drawn = (labels > 0) & (labels != OCCLUDER)
    pixels[drawn] = palette[labels[drawn]] + rng.normal(0, 3, (int(drawn.sum()), 3))
    persons = []
    for i, (fig, mask) in enumerate(zip(figures, masks, strict=True)):
        xy, v = visibility(fig, i, labels)
        ys, xs = np.nonzero(mask)
        x0, y0 = float(xs.min()), float(ys.min())
        bbox = [x0, y0, float(xs.max() + 1 - x0), float(ys.max() + 1 - y0)]
        keypoints = []
        for (x, y), vis in zip(xy, v, strict=True):
            keypoints += [round(float(x), 2), round(float(y), 2), int(vis)]
        persons.append({
            "bbox": bbox, "area": bbox[2] * bbox[3], "keypoints": keypoints,
            "num_keypoints": int((v > 0).sum()),
            "figure_view": fig.view, "figure_colors": {k: list(c) for k, c in fig.colors.items()},
        })
    return Rendered(np.clip(np.rint(pixels), 0, 255).astype(np.uint8), np.clip(np.rint(background), 0, 255)
                    .astype(np.uint8), labels, figures, persons)


def render_image(size: int, rng: np.random.Generator, max_persons: int = 2, min_height: float = 0.4,
                 max_height: float = 0.9, occlusion_fraction: float = 0.3, back_fraction: float = 0.1,
                 truncate_fraction: float = 0.15) -> Rendered:
    """One random image with 1 to max_persons figures (what `write_poses` writes for each index)."""
    count = int(rng.integers(1, max_persons + 1))
    opts = dict(min_height=min_height, max_height=max_height, back_fraction=back_fraction,
                truncate_fraction=truncate_fraction)
    return render_figures(size, _place(size, rng, count, opts), rng, occlusion_fraction)


def _atomic_write(path: str, data: bytes) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def image_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The generator image `index` of `split` is drawn from."""
    return np.random.default_rng([seed, SPLITS.index(split), index])


def write_split(out_dir: str, split: str, num_images: int, size: int = 128, seed: int = 0,
                image_format: str = "jpg", progress: Callable[[str, int, int], None] | None = None,
                **render_args: Any) -> tuple[str, dict[str, int]]:
    """Writes OUT/<split>/ images and OUT/annotations/person_keypoints_<split>.json; returns the JSON
    path and counts (images, persons, keypoints per v)."""
    image_dir = os.path.join(out_dir, split)
    os.makedirs(image_dir, exist_ok=True)
    os.makedirs(os.path.join(out_dir, "annotations"), exist_ok=True)
    images, annotations = [], []
    counts = {"images": num_images, "persons": 0, "v0": 0, "v1": 0, "v2": 0}
    for i in range(num_images):
        rendered = render_image(size, image_rng(seed, split, i), **render_args)
        image_id = _IMAGE_ID_BASE[split] + i
        file_name = f"{image_id:012d}.{image_format}"
        buf = io.BytesIO()
        if image_format == "jpg":
            Image.fromarray(rendered.pixels).save(buf, format="JPEG", quality=95)
        else:
            Image.fromarray(rendered.pixels).save(buf, format="PNG")
        _atomic_write(os.path.join(image_dir, file_name), buf.getvalue())
        images.append({"id": image_id, "file_name": file_name, "width": size, "height": size})
        for person in rendered.persons:
            annotations.append({"id": _ANN_ID_BASE[split] + len(annotations), "image_id": image_id,
                                "category_id": 1, "iscrowd": 0, **person})
            for v in person["keypoints"][2::3]:
                counts[f"v{v}"] += 1
        if progress is not None:
            progress(split, i + 1, num_images)
    counts["persons"] = len(annotations)
    coco = {
        "info": {"description": f"synthetic stick-figure poses, split {split}, seed {seed}, size {size}",
                 "version": "1.0"},
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": [dict(CATEGORY)],
    }
    json_path = os.path.join(out_dir, "annotations", f"person_keypoints_{split}.json")
    _atomic_write(json_path, json.dumps(coco).encode("utf-8"))
    return json_path, counts


def write_poses(
    out_dir: str, num_train: int, num_val: int, size: int = 128, seed: int = 0, image_format: str = "jpg",
    max_persons: int = 2, min_height: float = 0.4, max_height: float = 0.9, occlusion_fraction: float = 0.3,
    back_fraction: float = 0.1, truncate_fraction: float = 0.15,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, tuple[str, str, dict[str, int]]]:
    """Writes both splits; returns {split: (JSON path, image folder, counts)} for non-empty splits."""
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise BadValueError(f"size: stick figures need images of {MIN_SIZE}-{MAX_SIZE} px, got {size}")
    if num_train < 0 or num_val < 0 or num_train + num_val == 0:
        raise BadValueError(
            f"train, val: image counts must be >= 0 and not both 0, got {num_train}, {num_val}"
        )
    if not 1 <= max_persons <= 4:
        raise BadValueError(f"max_persons: expected 1-4, got {max_persons}")
    if not 0.2 <= min_height <= max_height <= 1.0:
        raise BadValueError(
            "min_height, max_height: need 0.2 <= min_height <= max_height <= 1, "
            f"got {min_height}, {max_height}"
        )
    for name, value in (("occlusion_fraction", occlusion_fraction), ("back_fraction", back_fraction),
                        ("truncate_fraction", truncate_fraction)):
        if not 0.0 <= value <= 1.0:
            raise BadValueError(f"{name}: expected a fraction in 0-1, got {value}")
    if image_format not in ("jpg", "png"):
        raise BadValueError(f"image_format: expected jpg or png, got {image_format!r}")
    render_args = dict(max_persons=max_persons, min_height=min_height, max_height=max_height,
                       occlusion_fraction=occlusion_fraction, back_fraction=back_fraction,
                       truncate_fraction=truncate_fraction)
    out = {}
    for split, count in zip(SPLITS, (num_train, num_val), strict=True):
        if count > 0:
            json_path, counts = write_split(
                out_dir, split, count, size, seed, image_format, progress, **render_args
            )
            out[split] = (json_path, os.path.join(out_dir, split), counts)
    return out


FLAGS = flags.FLAGS


def define_flags() -> None:
    """Registers the CLI flags (only when run as a program, so importing this module for its
    functions never clashes with other tools' flags of the same name)."""
    flags.DEFINE_string("out", "data/poses", "Output folder (train/, val/, annotations/ are created in it).")
    flags.DEFINE_integer("train", 1000, "Number of training images.")
    flags.DEFINE_integer("val", 100, "Number of validation images.")
    flags.DEFINE_integer("size", 128, f"Image side in pixels ({MIN_SIZE}-{MAX_SIZE}).")
    flags.DEFINE_integer("seed", 0, "Random seed; the same seed writes identical files.")
    flags.DEFINE_enum("format", "jpg", ["jpg", "png"], "Image file format (png is lossless).")
    flags.DEFINE_integer("max_persons", 2, "Persons per image: 1 to this many (1-4).")
    flags.DEFINE_float("min_height", 0.4, "Smallest figure height as a fraction of the image side.")
    flags.DEFINE_float("max_height", 0.9, "Largest figure height as a fraction of the image side.")
    flags.DEFINE_float("occlusion_fraction", 0.3,
                       "Fraction of persons with an occluder (a textured box or ellipse) over part of them; "
                       "keypoints under it get v=1.")
    flags.DEFINE_float("back_fraction", 0.1,
                       "Fraction of persons seen from behind (mirrored: left limbs on the image left; "
                       "no face, nose and eyes v=0).")
    flags.DEFINE_float("truncate_fraction", 0.15,
                       "Fraction of persons that may cross the image border (keypoints outside get v=0).")


def main(argv: list[str]) -> None:
    del argv
    tty = sys.stderr.isatty()

    def progress(split: str, done: int, total: int) -> None:
        if tty and (done == total or done % 50 == 0):
            print(f"\r{split}: {done}/{total} images", end="\n" if done == total else "", file=sys.stderr,
                  flush=True)

    start = time.time()
    written = write_poses(
        FLAGS.out, FLAGS.train, FLAGS.val, FLAGS.size, FLAGS.seed, FLAGS.format, FLAGS.max_persons,
        FLAGS.min_height, FLAGS.max_height, FLAGS.occlusion_fraction, FLAGS.back_fraction,
        FLAGS.truncate_fraction, progress,
    )
    for split, (json_path, image_dir, c) in written.items():
        total = max(1, c["v0"] + c["v1"] + c["v2"])
        print(f"{split}: {c['images']} images, {c['persons']} persons, keypoints "
              f"{100 * c['v2'] / total:.0f}% visible / {100 * c['v1'] / total:.0f}% occluded / "
              f"{100 * c['v0'] / total:.0f}% unlabelled "
              f"-> {json_path} ({image_dir})")
    print(f"wrote {FLAGS.out} in {time.time() - start:.1f} s")


if __name__ == "__main__":
    define_flags()
    _cli.run(main, tensorflow=False)
