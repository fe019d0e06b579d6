"""MPII PCKh of `official/evaluation/mpii_pckh.py` beside the authors' own evaluation (METHOD_CONTRACT item 6:
the reference does not install from PyPI, so the check is this script and its recorded result).

    python benchmarks/mpii_pckh_parity.py [--rsn_dir .peer/rsn] [--sets 20] [--persons 300]
        [--out benchmarks/results/mpii_pckh_parity.json]

The reference is `MPIIDataset.evaluate` of caiyuanhao1998/RSN dataset/MPII/mpii.py (the HRNet protocol),
a copy kept in the git-ignored --rsn_dir and loaded by path, never part of this repository:
    git --git-dir=<mirror of caiyuanhao1998/RSN> show HEAD:dataset/MPII/mpii.py > .peer/rsn/dataset/MPII/mpii.py
It is called unmodified on a stand-in `self`; its `loadmat` is served the synthetic ground truth (the
gt_valid.mat layout: dataset_joints, jnt_missing, pos_gt_src, headboxes_src) and its final `print` of the
results is captured. Random sets: 0-based predictions near 1-based ground truth at head-size-scaled
distances (so every threshold band is populated), random missing joints, random head boxes.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import types

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from official.evaluation.mpii_pckh import MPII_JOINTS, evaluate_pckh  # noqa: E402

KEYS = ("Head", "Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle", "Mean", "Mean@0.1")


def load_reference(rsn_dir: str):
    """The authors' MPIIDataset class (its base class stubbed: evaluate uses none of it)."""
    path = os.path.join(rsn_dir, "dataset", "MPII", "mpii.py")
    if not os.path.isfile(path):
        raise SystemExit(f"{path}: the authors' mpii.py is missing (see this script's docstring)")
    base = types.ModuleType("dataset.JointsDataset")
    base.JointsDataset = type("JointsDataset", (), {})
    sys.modules.setdefault("dataset", types.ModuleType("dataset"))
    sys.modules["dataset.JointsDataset"] = base
    spec = importlib.util.spec_from_file_location("authors_mpii", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def synthetic(rng: np.random.Generator, n: int) -> tuple[np.ndarray, dict]:
    top_left = rng.uniform(50, 400, (2, n))
    headboxes = np.stack([top_left, top_left + rng.uniform(20, 80, (2, n))])  # (2, 2, N)
    gt = rng.uniform(1, 500, (16, 2, n))  # 1-based, as gt_valid.mat
    missing = (rng.random((16, n)) < 0.15).astype(np.float64)
    head = 0.6 * np.linalg.norm(headboxes[1] - headboxes[0], axis=0)
    distance = head[None, None, :] * rng.uniform(0, 0.8, (16, 1, n))
    angle = rng.uniform(0, 2 * np.pi, (16, 1, n))
    pred_1based = gt + distance * np.concatenate([np.cos(angle), np.sin(angle)], 1)
    preds = np.transpose(pred_1based, (2, 0, 1)) - 1.0  # (N, 16, 2), 0-based
    mat = {"dataset_joints": np.array([MPII_JOINTS]), "jnt_missing": missing, "pos_gt_src": gt,
           "headboxes_src": headboxes}
    return preds, mat


def reference_pckh(module, preds: np.ndarray, mat: dict) -> dict[str, float]:
    captured: dict = {}
    module.loadmat = lambda path: mat
    module.print = lambda value: captured.update(value)
    module.MPIIDataset.evaluate(types.SimpleNamespace(val_gt_mat="gt_valid.mat"), preds)
    return {k: float(captured[k]) for k in KEYS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rsn_dir", default=os.path.join(REPO, ".peer", "rsn"), help="Folder of the authors' code copy.")
    parser.add_argument("--sets", type=int, default=20, help="Random ground-truth/prediction sets.")
    parser.add_argument("--persons", type=int, default=300, help="Persons per set.")
    parser.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", "mpii_pckh_parity.json"),
                        help="Result JSON (written via a temp name).")
    args = parser.parse_args()
    module = load_reference(args.rsn_dir)
    rng = np.random.default_rng(0)
    worst = {k: 0.0 for k in KEYS}
    example = {}
    for s in range(args.sets):
        preds, mat = synthetic(rng, args.persons)
        ref = reference_pckh(module, preds, mat)
        ours = evaluate_pckh(preds, mat["pos_gt_src"], 1 - mat["jnt_missing"], mat["headboxes_src"])
        for k in KEYS:
            worst[k] = max(worst[k], abs(float(ours[k]) - ref[k]))
        if s == 0:
            example = {"reference": ref, "ours": {k: float(ours[k]) for k in KEYS}}
    result = {"command": " ".join(["python benchmarks/mpii_pckh_parity.py", *sys.argv[1:]]), "sets": args.sets,
              "persons": args.persons, "max_abs_difference_percent": worst, "first_set": example,
              "reference": "caiyuanhao1998/RSN dataset/MPII/mpii.py MPIIDataset.evaluate (unmodified copy)"}
    tmp = f"{args.out}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
    os.replace(tmp, args.out)
    print(json.dumps(worst), f"-> {args.out}")


if __name__ == "__main__":
    main()
