"""tools/make_shapes: real COCO format, boxes/masks/pixels that agree, determinism and speed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from tools.make_shapes import write_shapes

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    root = tmp_path_factory.mktemp("shapes")
    json_path, image_dir = write_shapes(
        str(root), num_train=100, num_val=0, size=64, seed=0, image_format="png"
    )["train"]
    with open(json_path) as f:
        return json.load(f), image_dir, json_path


def _files(root: str) -> dict[str, bytes]:
    out = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, root)] = f.read()
    return out


def test_deterministic_for_a_seed(tmp_path):
    write_shapes(str(tmp_path / "a"), 6, 3, size=64, seed=5)
    write_shapes(str(tmp_path / "b"), 6, 3, size=64, seed=5)
    write_shapes(str(tmp_path / "c"), 6, 3, size=64, seed=6)
    a, b, c = (_files(str(tmp_path / x)) for x in "abc")
    assert sorted(a) == sorted(b) == sorted(c)
    assert len(a) == 6 + 3 + 2  # images + two JSON files, no temp files left
    assert a == b
    assert a["annotations/instances_train.json"] != c["annotations/instances_train.json"]
    # Image i does not depend on how many images are written.
    write_shapes(str(tmp_path / "d"), 2, 0, size=64, seed=5)
    d = _files(str(tmp_path / "d"))
    assert d["train/000000000002.jpg"] == a["train/000000000002.jpg"]


def test_real_coco_format(shapes):
    data, image_dir, json_path = shapes
    assert {c["id"]: c["name"] for c in data["categories"]} == {1: "circle", 3: "square", 7: "triangle"}
    coco = COCO(json_path)  # pycocotools indexes it without complaint
    assert len(coco.getImgIds()) == 100
    ids = [a["id"] for a in data["annotations"]]
    assert len(ids) == len(set(ids))
    for img in data["images"]:
        assert os.path.isfile(os.path.join(image_dir, img["file_name"]))
        assert (img["width"], img["height"]) == (64, 64)
    crowd = [a for a in data["annotations"] if a["iscrowd"]]
    assert crowd, "the fixture should hold crowd regions"
    for a in crowd:
        assert isinstance(a["segmentation"], dict) and isinstance(a["segmentation"]["counts"], list)
    normal = [a for a in data["annotations"] if not a["iscrowd"]]
    assert all(isinstance(a["segmentation"], list) for a in normal)
    with_boxes = {a["image_id"] for a in data["annotations"]}
    assert len(with_boxes) < 100, "some images should have no objects"


def test_boxes_masks_and_pixels_agree(shapes):
    data, image_dir, _ = shapes
    files = {img["id"]: img["file_name"] for img in data["images"]}
    sizes, overlaps = [], 0
    by_image: dict[int, list] = {}
    for a in data["annotations"]:
        by_image.setdefault(a["image_id"], []).append(a)
        rle = (
            mask_utils.merge(mask_utils.frPyObjects(a["segmentation"], 64, 64))
            if not a["iscrowd"]
            else (mask_utils.frPyObjects(a["segmentation"], 64, 64))
        )
        mask = mask_utils.decode(rle).astype(bool)
        ys, xs = np.nonzero(mask)
        # bbox = the extent of the segmentation's pixels, area = their count.
        assert a["bbox"] == [xs.min(), ys.min(), xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min()]
        assert a["area"] == mask.sum()
        pixels = np.asarray(Image.open(os.path.join(image_dir, files[a["image_id"]])), np.float32)
        # The drawn pixels are the annotation's colour (plus small noise) exactly on the mask.
        assert np.abs(pixels[mask] - np.array(a["shape_color"])).mean() < 8
        if not a["iscrowd"]:
            sizes.append(max(a["bbox"][2], a["bbox"][3]))
    for anns in by_image.values():
        for i, p in enumerate(anns):
            for q in anns[i + 1 :]:
                iw = min(p["bbox"][0] + p["bbox"][2], q["bbox"][0] + q["bbox"][2]) - max(
                    p["bbox"][0], q["bbox"][0]
                )
                ih = min(p["bbox"][1] + p["bbox"][3], q["bbox"][1] + q["bbox"][3]) - max(
                    p["bbox"][1], q["bbox"][1]
                )
                overlaps += iw > 0 and ih > 0
    assert overlaps >= 3, "some boxes should overlap"
    # Objects are 12.5-47% of the image side (16-60 px at 128; 8-30 px at 64) up to rasterisation.
    assert 7 <= min(sizes) and max(sizes) <= 32


def test_ground_truth_as_detections_scores_ap_one(shapes):
    data, _, json_path = shapes
    gt = COCO(json_path)
    dets = [
        {
            "image_id": a["image_id"],
            "category_id": a["category_id"],
            "bbox": a["bbox"],
            "score": 1.0,
            "segmentation": mask_utils.merge(mask_utils.frPyObjects(a["segmentation"], 64, 64)),
        }
        for a in data["annotations"]
        if not a["iscrowd"]
    ]
    for det in dets:
        det["segmentation"]["counts"] = det["segmentation"]["counts"].decode()
    for iou_type in ("bbox", "segm"):
        ev = COCOeval(gt, gt.loadRes([dict(d) for d in dets]), iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
        assert ev.stats[0] == pytest.approx(1.0)
        assert ev.stats[1] == pytest.approx(1.0)


def test_cli_and_speed(tmp_path):
    out = tmp_path / "cli"
    cmd = [
        sys.executable,
        "-m",
        "tools.make_shapes",
        f"--out={out}",
        "--train=3",
        "--val=2",
        "--size=64",
        "--seed=1",
    ]
    subprocess.run(cmd, cwd=REPO, check=True, capture_output=True, env=dict(os.environ, PYTHONPATH=REPO))
    assert sorted(os.listdir(out / "annotations")) == ["instances_train.json", "instances_val.json"]
    assert len(os.listdir(out / "train")) == 3 and len(os.listdir(out / "val")) == 2
    start = time.time()
    write_shapes(str(tmp_path / "speed"), 200, 0, size=128, seed=0)
    assert time.time() - start < 20, "200 images of 128 px should take a few seconds"


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="size"):
        write_shapes(str(tmp_path), 1, 0, size=16)
    with pytest.raises(ValueError, match="image_format"):
        write_shapes(str(tmp_path), 1, 0, size=64, image_format="gif")
    with pytest.raises(ValueError, match="max_objects"):
        write_shapes(str(tmp_path), 1, 0, size=64, max_objects=0)


def test_easy_split_knobs(tmp_path):
    """max_objects / crowd_fraction / min_object (the CPN demo's easy split) hold on every image."""
    json_path, _ = write_shapes(
        str(tmp_path), 60, 0, size=64, seed=0, max_objects=2, crowd_fraction=0.0, min_object=0.3
    )["train"]
    with open(json_path) as f:
        gt = json.load(f)
    per_image = np.bincount([a["image_id"] for a in gt["annotations"]], minlength=62)
    assert per_image.max() == 2 and (per_image == 1).sum() > 10
    assert not any(a["iscrowd"] for a in gt["annotations"])
    # Boxes are the drawn pixels' extent: >= ~0.3 * 64 minus rasterisation (triangles are the shortest).
    assert min(max(a["bbox"][2], a["bbox"][3]) for a in gt["annotations"]) >= 0.3 * 64 - 2
