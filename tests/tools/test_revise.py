"""tools.revise as a user runs it: a COCO audit, an OpenImages-CSV audit, and one-line errors.

All runs start at once in a module fixture (each is a Python start-up plus a second of work). The COCO run
uses --features=none, so no separability test runs here (test_revise_report covers it in-process).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.research.data_analysis import revise_fixture as fx

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENV = dict(os.environ, PYTHONPATH=REPO)


def _openimages(root) -> dict[str, str]:
    """The fixture's boxes as OpenImages CSVs (normalised XMin/XMax/YMin/YMax, /m/ label codes)."""
    coco, _, _ = fx.build(40)
    names = {c["id"]: c["name"] for c in coco["categories"]}
    boxes, classes = os.path.join(root, "boxes.csv"), os.path.join(root, "classes.csv")
    with open(boxes, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["ImageID", "Source", "LabelName", "Confidence", "XMin", "XMax", "YMin", "YMax"])
        for ann in coco["annotations"]:
            x, y, w, h = ann["bbox"]
            writer.writerow([f"img{ann['image_id']:03d}", "test", f"/m/{ann['category_id']:02d}", 1,
                             x / fx.WIDTH, (x + w) / fx.WIDTH, y / fx.HEIGHT, (y + h) / fx.HEIGHT])
    with open(classes, "w", newline="") as f:
        csv.writer(f).writerows([[f"/m/{cid:02d}", name.capitalize()] for cid, name in names.items()])
    return {"boxes": boxes, "classes": classes}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("revise_cli"))
    paths = fx.write(root)
    oi = _openimages(root)
    coco = ["--coco", paths["coco"], "--images", paths["images"]]
    cases = {
        "coco": coco + ["--attributes", paths["attributes"], "--locations", paths["locations"],
                        "--regions", paths["regions"], "--features=none", "--out", os.path.join(root, "coco_report")],
        "openimages": ["--openimages", oi["boxes"], "--classes", oi["classes"], "--out", os.path.join(root, "oi")],
        "gps_without_regions": coco + ["--locations", paths["locations"], "--out", os.path.join(root, "error_report")],
    }

    def run(args):
        return subprocess.run([sys.executable, "-m", "tools.revise", *args], cwd=REPO, env=ENV,
                              capture_output=True, text=True, timeout=120)

    with ThreadPoolExecutor(len(cases)) as pool:
        results = dict(zip(cases, pool.map(run, cases.values()), strict=True))
    return {"root": root, "paths": paths, **results}


def test_coco_audit_writes_the_report(runs):
    result = runs["coco"]
    assert result.returncode == 0, result.stderr
    assert "revise | objects: 40 images, 84 boxes, 8 categories" in result.stdout
    assert "not verdicts" in result.stdout
    out = os.path.join(runs["root"], "coco_report")
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    kinds = {(f["kind"], f["subject"]) for f in summary["findings"]}
    assert {("over_represented", "dog"), ("cooccurrence", "car + bicycle"), ("category_skew", "cup"),
            ("dominant_country", "Aland"), ("overlap", "cup / mug")} <= kinds
    assert "separability" not in {k for k, _ in kinds}
    assert not [n for n in os.listdir(runs["root"]) if ".tmp-" in n or ".old-" in n]


def test_openimages_audit_matches_the_coco_counts(runs):
    result = runs["openimages"]
    assert result.returncode == 0, result.stderr
    with open(os.path.join(runs["root"], "oi", "summary.json")) as f:
        summary = json.load(f)
    counts = {r["category"]: r["images"] for r in summary["objects"]["counts"]}
    assert counts == {"Person": 20, "Dog": 30, "Frisbee": 6, "Car": 6, "Bicycle": 6, "Cup": 8, "Kite": 6, "Mug": 2}
    assert ("cooccurrence", "Car + Bicycle") in {(f["kind"], f["subject"]) for f in summary["findings"]}


def test_user_error_is_one_line_and_writes_nothing(runs):
    """An error found mid-run (after reading) is one `error:` line naming the file; no report folder."""
    result = runs["gps_without_regions"]
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0] == (f"error: --coco={runs['paths']['coco']}: img_000.jpg has lat/lng but no --regions "
                        "GeoJSON was given")
    assert not [n for n in os.listdir(runs["root"]) if n.startswith("error_report")]
