"""Phrase grounding accuracy (R@1), R@5, R@10 and pointing game of `official/evaluation/phrase_grounding.py`
beside the authors' `select_boxes` / `compute_recall` / `compute_pt_acc` (info-ground spec check 6; the reference
does not install from PyPI, so the check is this script and its recorded result).

    python benchmarks/info_ground_eval_parity.py --reference /tmp/infoground_ref [--phrases 2000]
        [--out benchmarks/results/info_ground_eval_parity.json]

--reference is a folder outside this repository with unmodified copies of BigRedT/info-ground
exp/ground/eval_flickr_phrase_loc.py and utils/bbox_utils.py:
    git --git-dir=<mirror> show HEAD:exp/ground/eval_flickr_phrase_loc.py > /tmp/infoground_ref/eval_flickr_phrase_loc.py
    git --git-dir=<mirror> show HEAD:utils/bbox_utils.py > /tmp/infoground_ref/bbox_utils.py
Their module imports the training stack (CUDA models, datasets), so the named functions are taken from the
files' syntax trees and run as written; select_boxes calls torch.topk, so run this script with a Python that has
torch and numpy (PYTHONPATH=<repo>; the metric module needs numpy only). Phrases: random integer-pixel boxes
(1-30 detections padded to 30, as the authors' pad_object_features), 1-4 ground-truth boxes, attention from a
softmax over the real detections with exact zeros on the pads (what a masked model gives); the reference ranks
all 30 entries with topk(10) and drops pad indices, ours ranks the real detections. Per phrase the four hits must
be equal, then the four percentages.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from benchmarks.common import write_json_atomically  # noqa: E402
from official.evaluation.phrase_grounding import GroundingAccuracy, rank_regions  # noqa: E402

PADDED, KS = 30, (1, 5, 10)
FUNCTIONS = {"bbox_utils.py": ("compute_iou", "compute_area", "point_in_box", "compute_center"),
             "eval_flickr_phrase_loc.py": ("select_boxes", "compute_recall", "compute_pt_acc")}


def load_reference(folder: str) -> dict:
    """The named top-level functions of the two files, compiled from their source into one namespace."""
    import torch

    namespace = {"np": np, "torch": torch}
    for filename, names in FUNCTIONS.items():
        path = os.path.join(folder, filename)
        if not os.path.isfile(path):
            raise SystemExit(f"--reference={folder}: {filename} does not exist (see this script's docstring)")
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        found = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name in names]
        if {n.name for n in found} != set(names):
            raise SystemExit(f"{path}: expected functions {names}, found {[n.name for n in found]}")
        exec(compile(ast.Module(body=found, type_ignores=[]), path, "exec"), namespace)  # noqa: S102
    return namespace


def random_phrase(rng: np.random.Generator, size: int = 100):
    n = int(rng.integers(1, PADDED + 1))
    xy = rng.integers(0, size - 1, (n, 2))  # x2 > x1: the reference has no area for a zero-width box
    wh = rng.integers(1, size // 2, (n, 2))
    boxes = np.concatenate([xy, np.minimum(xy + wh, size - 1)], 1).astype(np.float64)
    gt = []
    for _ in range(int(rng.integers(1, 5))):
        if rng.random() < 0.5:  # a perturbed detection: IoU near 0.5 and touching edges occur
            gt.append(boxes[int(rng.integers(n))] + rng.integers(-6, 7, 4))
        else:
            x, y = rng.integers(0, size - 2, 2)
            gt.append([x, y, x + int(rng.integers(2, size // 2)), y + int(rng.integers(2, size // 2))])
    gt = np.clip(np.asarray(gt, np.float64), 0, size - 1)
    gt[:, 2:] = np.maximum(gt[:, 2:], gt[:, :2] + 1)  # the reference divides by zero-area boxes' None area
    logits = rng.normal(0, 3, n)
    att = np.zeros(PADDED)
    att[:n] = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    return boxes, gt, att


def reference_hits(ref: dict, boxes: np.ndarray, gt: np.ndarray, att: np.ndarray) -> list[float]:
    import torch

    pred = ref["select_boxes"]([list(b) for b in boxes], torch.tensor(att, dtype=torch.float64), k=KS[-1])
    recalled, _, _ = ref["compute_recall"](pred, [list(g) for g in gt], k=KS[-1])
    return [float(recalled[k - 1]) for k in KS] + [float(ref["compute_pt_acc"](pred, [list(g) for g in gt]))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", required=True, help="Folder with the authors' two files (outside the repo).")
    parser.add_argument("--phrases", type=int, default=2000, help="Random phrases.")
    parser.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", "info_ground_eval_parity.json"),
                        help="Result JSON (written via a temp name).")
    args = parser.parse_args()
    ref = load_reference(args.reference)
    rng = np.random.default_rng(0)
    metric, theirs, mismatches = GroundingAccuracy(), np.zeros(4), []
    for i in range(args.phrases):
        boxes, gt, att = random_phrase(rng)
        want = reference_hits(ref, boxes, gt, att)
        before = (metric.hits.copy(), metric.pointing)
        metric.update(boxes[rank_regions(att, att > 0)], gt)
        got = [float(h) for h in metric.hits - before[0]] + [float(metric.pointing - before[1])]
        theirs += want
        if got != want:
            mismatches.append({"phrase": i, "reference": want, "ours": got})
    ours = metric.result()
    ref_percent = dict(zip(("accuracy", "recall@5", "recall@10", "pointing"), (100 * theirs / args.phrases).tolist(),
                           strict=True))
    out = {"command": " ".join(["python benchmarks/info_ground_eval_parity.py", *sys.argv[1:]]),
           "reference": "BigRedT/info-ground exp/ground/eval_flickr_phrase_loc.py select_boxes / compute_recall / "
                        "compute_pt_acc + utils/bbox_utils.py (unmodified copies, commit 22ae6d6)",
           "phrases": args.phrases, "mismatched_phrases": len(mismatches), "first_mismatches": mismatches[:5],
           "reference_percent": ref_percent,
           "ours_percent": {k: ours[k] for k in ref_percent},
           "passed": not mismatches and all(abs(ours[k] - v) < 1e-9 for k, v in ref_percent.items())}
    write_json_atomically(out, args.out)
    print(json.dumps({k: out[k] for k in ("mismatched_phrases", "reference_percent", "ours_percent", "passed")}),
          f"-> {args.out}")
    if not out["passed"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
