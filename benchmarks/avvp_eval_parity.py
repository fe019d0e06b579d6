"""AVVP segment- and event-level F1 of `official/evaluation/avvp_f1.py` beside the authors' `eval_metrics`
(METHOD_CONTRACT item 6: the reference does not install from PyPI, so the check is this script and its
recorded result).

    python benchmarks/avvp_eval_parity.py --reference /tmp/avvp_ref/eval_metrics.py [--videos 50]
        [--out benchmarks/results/avvp_eval_parity.json]

The reference is YapengTian/AVVP-ECCV20 utils/eval_metrics.py, an unmodified copy kept outside this
repository and loaded by path:
    git --git-dir=<mirror of YapengTian/AVVP-ECCV20> show HEAD:utils/eval_metrics.py > /tmp/avvp_ref/eval_metrics.py
Cases (25 x 10 binary matrices, AV = audio x visual as main_avvp.eval forms them): `--videos` random videos at
densities from sparse to dense, plus edge cases: all true negatives, predictions without ground truth and
the reverse, full rows, runs touching segment 0 and segment 10, single-segment events, alternating
segments and IoU exactly 0.5. Both segment_level and event_level are compared per video (all four
outputs), then the dataset means of the five Table 1 columns.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from benchmarks.common import load_module, write_json_atomically  # noqa: E402
from official.evaluation import avvp_f1  # noqa: E402

C, T = 25, 10


def edge_cases() -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """(name, pred_a, pred_v, gt_a, gt_v) cases the random draws rarely hit."""
    z = np.zeros((C, T), np.int64)
    cases = [("all_negative", z, z, z, z)]
    one = z.copy()
    one[3, 9] = 1
    cases.append(("prediction_without_gt", one, one, z, z))
    cases.append(("gt_without_prediction", z, z, one, one))
    full = np.ones((C, T), np.int64)
    cases.append(("all_positive", full, full, full, full))
    cases.append(("all_positive_vs_none", full, z, z, full))
    tail, head = z.copy(), z.copy()
    tail[:, 8:] = 1
    head[:, :2] = 1
    cases.append(("runs_touching_10", tail, tail, tail, head))
    cases.append(("runs_touching_0", head, tail, head, head))
    alt = z.copy()
    alt[:, ::2] = 1
    cases.append(("alternating", alt, 1 - alt, alt, alt))
    half_p, half_g = z.copy(), z.copy()
    half_p[0, 0:4], half_g[0, 2:6] = 1, 1  # IoU 2/6 < 0.5
    half_p[1, 0:4], half_g[1, 0:2] = 1, 1  # IoU exactly 0.5
    half_p[2, 5:10], half_g[2, 3:10] = 1, 1  # IoU 5/7
    half_p[3, [0, 2, 4]], half_g[3, 0:5] = 1, 1  # three single segments inside one long event
    cases.append(("iou_boundary", half_p, half_g, half_g, half_p))
    return cases


def random_cases(rng: np.random.Generator, n: int):
    for i in range(n):
        density = (0.02, 0.1, 0.3, 0.6, 0.9)[i % 5]
        arrays = []
        for _ in range(4):
            active = rng.random((C, 1)) < max(density, 0.15)  # whole classes absent, as in LLP
            arrays.append(((rng.random((C, T)) < density) & active).astype(np.int64))
        yield (f"random_{i}", *arrays)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", required=True, help="Path of the authors' eval_metrics.py (a copy outside the repo).")
    parser.add_argument("--videos", type=int, default=50, help="Random videos (edge cases are added).")
    parser.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", "avvp_eval_parity.json"),
                        help="Result JSON (written via a temp name).")
    args = parser.parse_args()
    if not os.path.isfile(args.reference):
        raise SystemExit(f"--reference={args.reference}: file does not exist (see this script's docstring)")
    ref = load_module(args.reference, "authors_eval_metrics")
    rng = np.random.default_rng(0)
    cases = edge_cases() + list(random_cases(rng, args.videos))
    worst = {"segment_level": 0.0, "event_level": 0.0, "dataset_means": 0.0}
    ours, theirs = avvp_f1.ParsingF1(), {"segment": [], "event": []}
    per_case = {}
    for name, pa, pv, ga, gv in cases:
        inputs = (pa, pv, pa * pv, ga, gv, ga * gv)
        for level in ("segment_level", "event_level"):
            want = np.asarray(getattr(ref, level)(*[x.astype(np.float64) for x in inputs]), np.float64)
            got = np.asarray(getattr(avvp_f1, level)(*inputs), np.float64)
            worst[level] = max(worst[level], float(np.max(np.abs(got - want))))
            theirs[level.split("_")[0]].append(want)
            if not name.startswith("random_") or name == "random_0":
                per_case.setdefault(name, {})[level] = {"reference": want.tolist(), "ours": got.tolist()}
        ours.update(pa, pv, ga, gv)
    result = ours.result()
    for level in ("segment", "event"):
        a, v, pooled, av = 100 * np.mean(np.asarray(theirs[level]), 0)
        want = {"audio": a, "visual": v, "av": av, "type_av": (a + v + av) / 3, "event_av": pooled}
        for key, value in want.items():
            worst["dataset_means"] = max(worst["dataset_means"], abs(result[f"{level}_{key}"] - value) / 100)
    out = {"command": " ".join(["python benchmarks/avvp_eval_parity.py", *sys.argv[1:]]),
           "reference": "YapengTian/AVVP-ECCV20 utils/eval_metrics.py segment_level / event_level (unmodified copy)",
           "videos": len(cases), "random_videos": args.videos, "edge_cases": [c[0] for c in edge_cases()],
           "max_abs_difference": worst, "tolerance": 1e-9, "passed": all(v <= 1e-9 for v in worst.values()),
           "dataset_means_percent": {k: v for k, v in result.items()}, "cases": per_case}
    write_json_atomically(out, args.out)
    print(json.dumps(worst), "passed" if out["passed"] else "FAILED", f"-> {args.out}")
    if not out["passed"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
