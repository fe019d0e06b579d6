"""KITTI AP of `official/evaluation/kitti` beside the official C++ devkit on random fixtures.

    python benchmarks/kitti_devkit_parity.py --devkit /tmp/kitti_devkit/evaluate_object_3d_offline \
        [--devkit_05 /tmp/kitti_devkit/evaluate_object_3d_offline_05] [--seeds 5] [--frames 30] \
        [--out benchmarks/results/kitti_devkit_parity.json]

The reference is evaluate_object_3d_offline.cpp as KM3D bundles it (Banconxuan/RTM3D
src/tools/kitti_eval), built outside this repository, never copied into it:
    git --git-dir=<mirror of Banconxuan/RTM3D> show HEAD:src/tools/kitti_eval/evaluate_object_3d_offline.cpp
    (and mail.h) > /tmp/kitti_devkit/;  apt-get install libboost-dev
Patched only to run offline and to print what we compare: saveAndPlotPlots prints its AP with "%.6f"
(R11: entries 0, 4, .., 40 of the 41-point curve, / 11) and also "AP_R40" (entries 1..40, / 40), then
returns before gnuplot / ps2pdf. The file as shipped has MIN_OVERLAP {{0.7,.5,.5},{.5,.25,.25},{.5,.25,.25}}
(our iou_setting "0.5", --devkit_05); --devkit is the same file with every row {0.7, 0.5, 0.5}, the
official benchmark (our "0.7"). Fixture per seed, in KITTI layout: label_2 with Car / Van / Truck /
Pedestrian / Person_sitting / Cyclist / DontCare at realistic sizes, depths, truncation and occlusion,
2D boxes projected with a KITTI P2; results with noisy 3D boxes and 2D boxes, scores that fall with
the error, misses, class confusions (Van -> Car), false positives (some inside DontCare regions), tiny
boxes near the height limits, and frames whose result file is empty (the devkit evaluates the frames
that have a result file, so every frame gets one).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from official.core.file_io import write_json  # noqa: E402
from official.data.kitti_format import KittiObject, write_label_file  # noqa: E402
from official.data.kitti_geometry import alpha_from_rotation_y, box2d_from_3d  # noqa: E402
from official.evaluation.kitti import evaluate_kitti  # noqa: E402
from official.evaluation.kitti.protocol import CLASSES, DIFFICULTIES  # noqa: E402

P2 = np.array(
    [[721.5377, 0.0, 609.5593, 44.85728], [0.0, 721.5377, 172.854, 0.2163791], [0.0, 0.0, 1.0, 0.002745884]]
)
IMAGE = (375, 1242)  # height, width
SIZES = {  # mean h, w, l (metres)
    "Car": (1.53, 1.63, 3.88), "Van": (2.2, 1.9, 5.1), "Truck": (3.2, 2.5, 10.0), "Pedestrian": (1.76, 0.66, 0.84),
    "Person_sitting": (1.27, 0.54, 0.8), "Cyclist": (1.74, 0.6, 1.76),
}  # fmt: skip
TYPE_WEIGHTS = {
    "Car": 0.5,
    "Van": 0.08,
    "Truck": 0.03,
    "Pedestrian": 0.18,
    "Person_sitting": 0.03,
    "Cyclist": 0.18,
}
# The devkit's output name -> our metric key.
ROW_COLUMNS = ("seed", "frames", "recall", "class", "metric", "difficulty", "ours", "devkit")
DEVKIT_KEYS = {"detection": "2d", "orientation": "aos", "detection_ground": "bev", "detection_3d": "3d"}


def _object(rng, kind: str, dims, loc, ry, score=None, trunc=0.0, occ=0, box_noise=0.0) -> KittiObject | None:
    box = box2d_from_3d(dims, loc, ry, P2, IMAGE) + rng.normal(0, box_noise, 4)
    if box[2] - box[0] < 2 or box[3] - box[1] < 2:
        return None
    alpha = float(alpha_from_rotation_y(ry, loc[0], loc[2]))
    return KittiObject(
        kind,
        float(trunc),
        int(occ),
        alpha,
        tuple(float(v) for v in box),
        tuple(float(v) for v in dims),
        tuple(float(v) for v in loc),
        float(ry),
        None if score is None else float(score),
    )


def _ground_truth(rng) -> list[KittiObject]:
    objects = []
    kinds = list(TYPE_WEIGHTS)
    weights = np.array(list(TYPE_WEIGHTS.values()))
    for _ in range(rng.integers(2, 12)):
        kind = str(rng.choice(kinds, p=weights / weights.sum()))
        dims = np.array(SIZES[kind]) * rng.uniform(0.85, 1.15, 3)
        z = rng.uniform(4.0, 55.0)
        loc = np.array([rng.uniform(-0.6, 0.6) * z, 1.65 + rng.normal(0, 0.1), z])
        trunc = float(rng.choice([0.0, 0.0, 0.0, 0.1, 0.2, 0.35, 0.6]))
        occ = int(rng.choice([0, 0, 1, 1, 2, 3]))
        obj = _object(rng, kind, dims, loc, rng.uniform(-np.pi, np.pi), trunc=trunc, occ=occ)
        if obj is not None:
            objects.append(obj)
    for _ in range(rng.integers(0, 3)):
        left, top = rng.uniform(0, IMAGE[1] - 120), rng.uniform(130, 220)
        box = (left, top, left + rng.uniform(20, 120), top + rng.uniform(10, 50))
        objects.append(
            KittiObject(
                "DontCare", -1.0, -1, -10.0, box, (-1.0, -1.0, -1.0), (-1000.0, -1000.0, -1000.0), -10.0
            )
        )
    return objects


def _predictions(rng, gt: list[KittiObject]) -> list[KittiObject]:
    preds = []
    for g in gt:
        if g.type == "DontCare" or rng.random() < 0.15:
            continue
        err = rng.exponential(0.6)  # a bad estimate also tends to score low
        z = g.location[2]
        loc = np.array(g.location) + rng.normal(0, 1, 3) * err * np.array([0.05, 0.02, 0.06]) * max(z, 8) / 8
        dims = np.array(g.dimensions) * (1 + rng.normal(0, 0.08 * err, 3))
        ry = g.rotation_y + rng.normal(0, 0.3 * err) + (np.pi if rng.random() < 0.1 else 0.0)
        kind = (
            {"Van": "Car", "Person_sitting": "Pedestrian"}.get(g.type, g.type)
            if rng.random() < 0.5
            else g.type
        )
        score = 1 / (1 + np.exp(-(2.0 - 2.0 * err + rng.normal(0, 0.7))))
        obj = _object(rng, kind, dims, loc, ry, score=score, box_noise=3.0 * err)
        if obj is not None:
            preds.append(obj)
    for _ in range(rng.integers(0, 4)):  # false positives, some inside DontCare regions
        kind = str(rng.choice(CLASSES))
        dims = np.array(SIZES[kind]) * rng.uniform(0.85, 1.15, 3)
        z = rng.uniform(5.0, 50.0)
        loc = np.array([rng.uniform(-0.5, 0.5) * z, 1.65, z])
        obj = _object(rng, kind, dims, loc, rng.uniform(-np.pi, np.pi), score=rng.uniform(0.05, 0.9))
        dontcare = [g for g in gt if g.type == "DontCare"]
        if obj is not None and dontcare and rng.random() < 0.5:
            d = dontcare[rng.integers(len(dontcare))].box2d
            inset = 0.1 * (d[2] - d[0]), 0.1 * (d[3] - d[1])
            obj = KittiObject(
                obj.type,
                0.0,
                0,
                obj.alpha,
                (d[0] + inset[0], d[1] + inset[1], d[2] - inset[0], d[3]),
                obj.dimensions,
                obj.location,
                obj.rotation_y,
                obj.score,
            )
        if obj is not None:
            preds.append(obj)
    objects = [g for g in gt if g.type != "DontCare"]
    if objects and rng.random() < 0.5:  # a box just under a height limit (the devkit truncates the height)
        g = objects[rng.integers(len(objects))]
        height = float(rng.choice([39.6, 24.7, 40.2]))
        top = g.box2d[1]
        preds.append(
            KittiObject(
                g.type,
                0.0,
                0,
                g.alpha,
                (g.box2d[0], top, g.box2d[2], top + height),
                g.dimensions,
                g.location,
                g.rotation_y,
                float(rng.uniform(0.3, 0.99)),
            )
        )
    return preds


def write_fixture(root: str, seed: int, n_frames: int) -> tuple[str, str]:
    """label_2/ and data/ (results) under root; every frame has a result file, some empty."""
    rng = np.random.default_rng(seed)
    gt_dir, pred_dir = os.path.join(root, "label_2"), os.path.join(root, "run", "data")
    os.makedirs(gt_dir)
    os.makedirs(pred_dir)
    for i in range(n_frames):
        gt = _ground_truth(rng)
        preds = _predictions(rng, gt) if rng.random() > 0.1 else []
        write_label_file(os.path.join(gt_dir, f"{i:06d}.txt"), gt)
        write_label_file(os.path.join(pred_dir, f"{i:06d}.txt"), preds)
    return gt_dir, pred_dir


def run_devkit(binary: str, gt_dir: str, pred_dir: str) -> dict:
    """{class: {metric: {"R11"|"R40": [easy, moderate, hard]}}} parsed from the patched devkit's stdout."""
    proc = subprocess.run([binary, gt_dir, pred_dir + "/"], capture_output=True, text=True, check=True)
    out: dict = {}
    for m in re.finditer(
        r"^(car|pedestrian|cyclist)_(\w+?) (AP|AP_R40): (\S+) (\S+) (\S+)$", proc.stdout, re.M
    ):
        cls = m[1].capitalize()
        metric = DEVKIT_KEYS[m[2]]
        key = "R11" if m[3] == "AP" else "R40"
        out.setdefault(cls, {}).setdefault(metric, {})[key] = [float(m[i]) for i in (4, 5, 6)]
    return out


def compare(binary: str, setting: str, fixtures: list[tuple[int, int]]) -> dict:
    """Both evaluators on each (seed, frames) fixture, R40 and R11; every AP the devkit prints."""
    rows, max_diff, compared, ours_s, devkit_s = [], 0.0, 0, 0.0, 0.0
    for seed, frames in fixtures:
        with tempfile.TemporaryDirectory() as root:
            gt_dir, pred_dir = write_fixture(root, seed, frames)
            t0 = time.perf_counter()
            ref = run_devkit(binary, gt_dir, pred_dir)
            devkit_s += time.perf_counter() - t0
            for points, key in ((40, "R40"), (11, "R11")):
                t0 = time.perf_counter()
                ours = evaluate_kitti(gt_dir, pred_dir, recall_points=points, iou_setting=setting)
                ours_s += time.perf_counter() - t0
                for cls, metrics in ref.items():
                    for metric, values in metrics.items():
                        for level, theirs in zip(DIFFICULTIES, values[key], strict=True):
                            mine = ours[cls][metric][level]
                            diff = abs(mine - theirs)
                            max_diff = max(max_diff, diff)
                            compared += 1
                            rows.append([seed, frames, key, cls, metric, level, round(mine, 6), theirs])
    return {
        "iou_setting": setting,
        "devkit": binary,
        "compared": compared,
        "max_abs_diff": max_diff,
        "ours_s": round(ours_s, 2),
        "devkit_s": round(devkit_s, 2),
        "columns": ROW_COLUMNS,
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--devkit", required=True, help="Devkit binary built with MIN_OVERLAP 0.7/0.5/0.5 in every row."
    )
    parser.add_argument(
        "--devkit_05", help="Devkit binary as shipped by KM3D (bev/3d at 0.5/0.25/0.25); optional."
    )
    parser.add_argument("--seeds", type=int, default=5, help="Random fixtures per IoU setting.")
    parser.add_argument("--frames", type=int, default=30, help="Frames per fixture.")
    parser.add_argument(
        "--large_frames",
        type=int,
        default=300,
        help="Frames of one more fixture (seed 1000), so that easy has > 40 ground-truth "
        "objects per class and the curves reach all 41 points; 0 skips it.",
    )
    parser.add_argument(
        "--out",
        default=os.path.join(REPO, "benchmarks", "results", "kitti_devkit_parity.json"),
        help="Where to write the JSON record.",
    )
    args = parser.parse_args()
    fixtures = [(seed, args.frames) for seed in range(args.seeds)]
    if args.large_frames:
        fixtures.append((1000, args.large_frames))
    runs = [compare(args.devkit, "0.7", fixtures)]
    if args.devkit_05:
        runs.append(compare(args.devkit_05, "0.5", fixtures))
    record = {
        "command": "python benchmarks/kitti_devkit_parity.py " + " ".join(sys.argv[1:]),
        "fixtures": fixtures, "target_max_abs_diff": 0.01,
        "max_abs_diff": max(r["max_abs_diff"] for r in runs), "runs": runs,
    }  # fmt: skip
    for r in runs:
        nonzero = sum(1 for row in r["rows"] if row[-1] > 0)
        print(
            f"iou_setting {r['iou_setting']}: {r['compared']} APs compared ({nonzero} non-zero), "
            f"max |ours - devkit| = {r['max_abs_diff']:.6f} AP points; ours {r['ours_s']} s, devkit {r['devkit_s']} s"
        )
    write_json(record, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
