"""J&F of `official/evaluation/davis_jf.py` beside davis2017-evaluation (METHOD_CONTRACT item 6: the
reference does not install from PyPI, so the check is this script and its recorded result).

    python benchmarks/davis_jf_parity.py --reference /tmp/davis_ref [--random 60]
        [--out benchmarks/results/davis_jf_parity.json]

`--reference` is a folder holding an unmodified copy of the package `davis2017/` of
davisvideochallenge/davis2017-evaluation (commit ac7c43fc; needs opencv, tqdm, pandas, scikit-image):
    mkdir -p /tmp/davis_ref/davis2017 && for f in __init__ metrics utils evaluation davis results; do
      git --git-dir=<mirror> show HEAD:davis2017/$f.py > /tmp/davis_ref/davis2017/$f.py; done
Compared, all to 1e-12: the boundary map (`_seg2bmap`), J (`db_eval_iou`) and F (`db_eval_boundary`) of
random blob masks at several sizes plus edge cases (empty ground truth, empty prediction, both empty,
one-pixel objects, masks touching each border and corner, full frames, void pixels, a pixel tolerance
bound_th >= 1); `db_statistics` for 1..255 frames (from 256 its uint8 bin
indices overflow); and end to end, `DAVISEvaluation.evaluate` on a DAVIS
tree written here (palette PNGs, objects that vanish, a missing predicted object, void 255 pixels) beside
`DavisJF` on the same id maps (per-object means, the seven table figures).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
from contextlib import redirect_stderr

import numpy as np
from PIL import Image

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from benchmarks.common import write_json_atomically  # noqa: E402
from official.evaluation import davis_jf  # noqa: E402

TOL = 1e-12


def blob(rng: np.random.Generator, shape: tuple[int, int], fill: float) -> np.ndarray:
    """A smooth random region covering about `fill` of the frame."""
    from scipy import ndimage

    noise = ndimage.gaussian_filter(rng.standard_normal(shape), sigma=max(shape) / 12)
    return noise > np.quantile(noise, 1 - fill)


def edge_pairs(shape=(24, 32)) -> list[tuple[str, np.ndarray, np.ndarray]]:
    h, w = shape
    z = np.zeros(shape, bool)

    def with_pixels(*pts):
        m = z.copy()
        for r, c in pts:
            m[r, c] = True
        return m

    square = z.copy()
    square[5:12, 6:15] = True
    shifted = np.roll(square, (1, 2), (0, 1))
    full = np.ones(shape, bool)
    right, bottom, left, top = z.copy(), z.copy(), z.copy(), z.copy()
    right[:, w - 4:], bottom[h - 3:, :], left[:, :3], top[:2, :] = True, True, True, True
    return [
        ("both_empty", z, z), ("empty_gt", z, square), ("empty_prediction", square, z),
        ("one_pixel_same", with_pixels((7, 9)), with_pixels((7, 9))),
        ("one_pixel_near", with_pixels((7, 9)), with_pixels((8, 10))),
        ("one_pixel_far", with_pixels((0, 0)), with_pixels((h - 1, w - 1))),
        ("one_pixel_corners", with_pixels((h - 1, w - 1)), with_pixels((0, w - 1))),
        ("square_shifted", square, shifted), ("full_frame", full, full), ("full_vs_square", full, square),
        ("touching_right", right, np.roll(right, -1, 1)), ("touching_bottom", bottom, bottom),
        ("touching_left_top", left, top), ("bottom_right_corner", with_pixels((h - 1, w - 1)), z),
    ]


def sequence_case(rng: np.random.Generator, t: int, shape, objects: int, pred_objects: int):
    """(gt, pred) id maps: moving blobs, gt object 2 vanishing half-way, void pixels, a noisy prediction."""
    gt = np.zeros((t, *shape), np.uint8)
    pred = np.zeros((t, *shape), np.uint8)
    for k in range(1, objects + 1):
        base = blob(rng, shape, 0.12)
        for i in range(t):
            m = np.roll(base, (i, 2 * i * k), (0, 1))
            if not (k == 2 and i > t // 2):
                gt[i][m] = k
            if k <= pred_objects:
                pred[i][np.roll(m, (rng.integers(-2, 3), rng.integers(-2, 3)), (0, 1)) & (rng.random(shape) > 0.05)] = k
    gt[:, :2, :4] = 255  # void pixels (background for the semi-supervised protocol)
    return gt, pred


def write_png(path: str, ids: np.ndarray) -> None:
    img = Image.fromarray(ids.astype(np.uint8), mode="P")
    img.putpalette([v for i in range(256) for v in ((i * 67) % 256, (i * 131) % 256, (i * 29) % 256)])
    img.save(path)


def end_to_end(ref_eval, rng: np.random.Generator) -> dict:
    specs = [("seqa", 8, (36, 52), 2, 2), ("seqb", 11, (40, 40), 3, 2), ("seqc", 5, (30, 44), 1, 1),
             ("seqd", 3, (28, 36), 2, 0)]
    ours = davis_jf.DavisJF()
    with tempfile.TemporaryDirectory() as root:
        res_root = os.path.join(root, "results")
        os.makedirs(os.path.join(root, "ImageSets", "2017"))
        with open(os.path.join(root, "ImageSets", "2017", "val.txt"), "w") as f:
            f.write("\n".join(s[0] for s in specs) + "\n")
        for name, t, shape, k, kp in specs:
            gt, pred = sequence_case(rng, t, shape, k, kp)
            for sub in ("JPEGImages/480p", "Annotations/480p", "results"):
                os.makedirs(os.path.join(root, sub, name))
            for i in range(t):
                Image.fromarray(np.zeros((*shape, 3), np.uint8)).save(os.path.join(root, "JPEGImages/480p", name, f"{i:05d}.jpg"))
                write_png(os.path.join(root, "Annotations/480p", name, f"{i:05d}.png"), gt[i])
                write_png(os.path.join(res_root, name, f"{i:05d}.png"), pred[i])
            ours.update(name, gt, pred)
        with redirect_stderr(io.StringIO()):  # tqdm
            theirs = ref_eval.DAVISEvaluation(root, "semi-supervised", "val").evaluate(res_root)
    per_object = {}
    worst = 0.0
    for m in ("J", "F"):
        for obj, want in theirs[m]["M_per_object"].items():
            got = ours.per_object[obj][m][0]
            per_object.setdefault(obj, {})[m] = {"reference": float(want), "ours": got}
            worst = max(worst, abs(got - want))
    table = ours.result()
    jm, fm = np.mean(theirs["J"]["M"]), np.mean(theirs["F"]["M"])
    want_table = {"J&F-Mean": (jm + fm) / 2, "J-Mean": jm, "J-Recall": np.mean(theirs["J"]["R"]),
                  "J-Decay": np.mean(theirs["J"]["D"]), "F-Mean": fm, "F-Recall": np.mean(theirs["F"]["R"]),
                  "F-Decay": np.mean(theirs["F"]["D"])}
    for key, want in want_table.items():
        worst = max(worst, abs(table[key] - want))
    if set(per_object) != set(ours.per_object):
        worst = float("inf")
    return {"max_abs_difference": worst, "objects": len(per_object), "per_object_means": per_object,
            "table_reference": {k: float(v) for k, v in want_table.items()}, "table_ours": table}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", required=True,
                        help="Folder holding the davis2017/ package of davis2017-evaluation (outside the repo).")
    parser.add_argument("--random", type=int, default=60, help="Random blob mask pairs per image size.")
    parser.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", "davis_jf_parity.json"),
                        help="Result JSON (written via a temp name).")
    args = parser.parse_args()
    if not os.path.isfile(os.path.join(args.reference, "davis2017", "metrics.py")):
        raise SystemExit(f"--reference={args.reference}: davis2017/metrics.py not found (see this script's docstring)")
    sys.path.insert(0, args.reference)
    from davis2017 import evaluation as ref_eval
    from davis2017 import metrics as ref_metrics
    from davis2017 import utils as ref_utils

    rng = np.random.default_rng(0)
    pairs = edge_pairs()
    for shape in ((24, 32), (61, 47), (120, 160), (480, 854)):
        n = args.random if shape[0] < 480 else 4
        for i in range(n):
            g = blob(rng, shape, rng.uniform(0.01, 0.5))
            p = g if i % 7 == 0 else blob(rng, shape, rng.uniform(0.01, 0.5)) if i % 3 == 0 else \
                np.roll(g, (rng.integers(-4, 5), rng.integers(-4, 5)), (0, 1)) ^ (rng.random(shape) < 0.01)
            pairs.append((f"random_{shape[0]}x{shape[1]}_{i}", g, p))
    worst = {"boundary_map": 0.0, "J": 0.0, "F": 0.0, "F_void": 0.0, "F_bound_th_3px": 0.0, "statistics": 0.0}
    cases = {}
    for name, g, p in pairs:
        worst["boundary_map"] = max(worst["boundary_map"], float(np.sum(
            davis_jf.boundary_map(g) != ref_metrics._seg2bmap(g))))
        j_ref, f_ref = float(ref_metrics.db_eval_iou(g, p)), float(ref_metrics.db_eval_boundary(g, p))
        j, f = davis_jf.region_j(g, p), davis_jf.contour_f(g, p)
        worst["J"], worst["F"] = max(worst["J"], abs(j - j_ref)), max(worst["F"], abs(f - f_ref))
        void = np.zeros_like(g)
        void[: g.shape[0] // 5, g.shape[1] // 3:] = True
        worst["F_void"] = max(worst["F_void"], abs(davis_jf.contour_f(g, p, void) - float(
            ref_metrics.db_eval_boundary(g, p, void))), abs(davis_jf.region_j(g, p, void) - float(
                ref_metrics.db_eval_iou(g, p, void))))
        worst["F_bound_th_3px"] = max(worst["F_bound_th_3px"], abs(davis_jf.contour_f(g, p, bound_th=3) - float(
            ref_metrics.db_eval_boundary(g, p, bound_th=3))))
        if not name.startswith("random_") or name.endswith("_0"):
            cases[name] = {"J": [j_ref, j], "F": [f_ref, f]}
    for n in range(1, 256):
        v = rng.random(n)
        if n % 5 == 0:
            v[rng.random(n) < 0.1] = np.nan  # the reference skips nan frames in the means
        got, want = np.array(davis_jf.sequence_statistics(v)), np.array(ref_utils.db_statistics(v), np.float64)
        diff = np.where(np.isnan(got) & np.isnan(want), 0.0, np.abs(got - want))
        worst["statistics"] = max(worst["statistics"], float(np.max(np.where(np.isnan(diff), np.inf, diff))))
    e2e = end_to_end(ref_eval, rng)
    worst["end_to_end"] = e2e["max_abs_difference"]
    out = {"command": " ".join(["python benchmarks/davis_jf_parity.py", *sys.argv[1:]]),
           "reference": "davisvideochallenge/davis2017-evaluation ac7c43fc davis2017/{metrics,utils,evaluation}.py "
                        "(unmodified copy)",
           "mask_pairs": len(pairs), "edge_cases": [c[0] for c in edge_pairs()], "statistics_lengths": "1..255 (the reference's uint8 bin index overflows from 256 frames: its decay is nan there, ours a number)",
           "max_abs_difference": worst, "tolerance": TOL, "passed": all(v <= TOL for v in worst.values()),
           "cases": cases, "end_to_end": e2e}
    write_json_atomically(out, args.out)
    print(json.dumps(worst), "passed" if out["passed"] else "FAILED", f"-> {args.out}")
    if not out["passed"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
