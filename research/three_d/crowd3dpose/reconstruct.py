"""Stages 2 and 3 of Crowd3DPose: per-view AlphaPose JSON + calibration -> matched people -> 3D JSON.

    python -m research.three_d.crowd3dpose.reconstruct \\
        --views=data/crowd/C0/alphapose-results.json,data/crowd/C1/alphapose-results.json \\
        --calibration=data/crowd/calibration.json --out=/tmp/crowd_3d.json [--gt=data/crowd/gt_3d.json]

Matching: view 0 is the reference; every other view is matched to it pairwise (feet homography graph,
or --matching=epipolar for the baseline) and the pairs are merged into per-person tracks (spec "More than
two views"; people missing from the reference view are not reconstructed). Reconstruction: DLT start
(epipolar correction for two views), MLE by our Levenberg-Marquardt, median bone lengths over all MLE
poses of the sequence, then optionally the bone-prior MAP (--refine=map) and outlier re-placement.
Everything here is numpy/scipy: it runs outside any Keras graph (only the 2D pose network is exported).
With --gt (what tools/make_crowd_views.py writes) it also reports matching accuracy, MPJPE (mm), PCP and
the matching stage's time per frame.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from research.three_d.crowd3dpose import bones as bone_table
from research.three_d.crowd3dpose import io as crowd_io
from research.three_d.crowd3dpose.geometry import fundamental_matrix, view_homography
from research.three_d.crowd3dpose.matching import FeetMatchConfig, match_epipolar, match_feet
from research.three_d.crowd3dpose.optimize import cope_outliers, map_refine, mle_refine


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    matching: str = "feet"  # feet | epipolar
    refine: str = "map"  # mle | map
    feet: FeetMatchConfig = FeetMatchConfig()
    epipolar_max_distance: float = 20.0  # px mean line distance above which the baseline rejects a pair (ours)
    min_score: float = 0.1  # joints below this score are left out of the MLE in that view
    lambda_reproj: float = 0.1  # MAP weights (authors' optimze_loss)
    lambda_shape: float = 5.0
    outliers: bool = False  # re-place joints flagged by cope_outliers before the MAP solve
    outlier_ratio: float = 1.3


def match_frame(views: list[dict[str, Any]], projections: np.ndarray, sizes: list, config: PipelineConfig
                ) -> list[dict[int, int]]:
    """views: per view {"ids", "keypoints"} of one frame -> tracks [{view: row index}] (reference = view 0)."""
    ref = views[0]
    tracks = [{0: i} for i in range(len(ref["keypoints"]))]
    for v in range(1, len(views)):
        if config.matching == "feet":
            h = view_homography(projections[0], projections[v])
            pairs = match_feet(ref["keypoints"], views[v]["keypoints"], h, sizes[v], sizes[0], config.feet)
        elif config.matching == "epipolar":
            f = fundamental_matrix(projections[0], projections[v])
            pairs = match_epipolar(ref["keypoints"], views[v]["keypoints"], f, config.epipolar_max_distance)
        else:
            raise ValueError(f"matching must be 'feet' or 'epipolar', got {config.matching!r}")
        for i, j in pairs:
            tracks[i][v] = j
    return [t for t in tracks if len(t) >= 2]


def reconstruct(views: list[dict[str, dict[str, Any]]], calibration: dict[str, Any],
                config: PipelineConfig = PipelineConfig()) -> dict[str, Any]:
    """views: per view the load_alphapose dict -> the 3D JSON dict (+ "timing")."""
    projections = np.asarray(calibration["P"], np.float64)
    frames = sorted(set(views[0]).intersection(*views[1:]))
    mle: dict[str, list[tuple[dict[int, int], np.ndarray]]] = {}
    match_seconds = 0.0
    for frame in frames:
        per_view = [v[frame] for v in views]
        start = time.perf_counter()
        tracks = match_frame(per_view, projections, calibration["sizes"], config)
        match_seconds += time.perf_counter() - start
        people = []
        for track in tracks:
            cams = sorted(track)
            kps = np.stack([per_view[v]["keypoints"][track[v]] for v in cams])
            pose = mle_refine(projections[cams], kps, min_score=config.min_score)
            people.append((track, pose))
        mle[frame] = people
    all_poses = [pose for people in mle.values() for _, pose in people]
    medians = bone_table.median_bones(np.stack(all_poses)) if all_poses else np.zeros(13)
    out: dict[str, Any] = {"3D": {}, "matches": {}, "median_bone": medians.tolist(),
                           "P4": projections[0].tolist(), "P6": projections[1].tolist(),
                           "P": projections.tolist(), "views": list(calibration["names"])}
    for frame, people in mle.items():
        out["3D"][frame], out["matches"][frame] = {}, {}
        for n, (track, pose) in enumerate(people):
            cams = sorted(track)
            if config.outliers:
                pose, _ = cope_outliers(pose, medians, config.outlier_ratio)
            if config.refine == "map":
                kps = np.stack([views[v][frame]["keypoints"][track[v]] for v in cams])
                pose = map_refine(projections[cams], kps, medians, pose, config.lambda_reproj, config.lambda_shape)
            key = f"{n:03d}"
            out["3D"][frame][key] = pose.reshape(-1).tolist()
            out["matches"][frame][key] = {calibration["names"][v]: int(views[v][frame]["ids"][track[v]]) for v in cams}
    out["timing"] = {"matching_seconds_per_frame": match_seconds / max(len(frames), 1), "frames": len(frames)}
    return out


def evaluate(result: dict[str, Any], gt: dict[str, Any], to_mm: float = 1000.0) -> dict[str, float]:
    """Matching accuracy (fraction of GT people seen in the reference and another view whose ids were
    paired correctly), MPJPE (mm) and PCP (%) of the reconstructed people against the ground truth of
    the person their reference-view detection belongs to."""
    from official.evaluation.pose3d import mpjpe, pcp

    person_of = {cam: {int(k): int(v) for k, v in ids.items()} for cam, ids in gt["person_of"].items()}
    names = result["views"]
    correct = total = 0
    preds, gts = [], []
    for frame, people in result["matches"].items():
        ref_people = {person_of[names[0]][i] for i in _ids(gt, names[0], frame)}
        for cam in names[1:]:
            total += len(ref_people & {person_of[cam][i] for i in _ids(gt, cam, frame)})
        for key, ids in people.items():
            who = person_of[names[0]][ids[names[0]]]
            correct += sum(person_of[cam][i] == who for cam, i in ids.items() if cam != names[0])
            preds.append(np.asarray(result["3D"][frame][key]).reshape(23, 3))
            gts.append(np.asarray(gt["3D"][frame][f"{who:03d}"]).reshape(23, 3))
    pred, ref = np.stack(preds) * to_mm, np.stack(gts) * to_mm
    return {"matching_accuracy": correct / max(total, 1), "mpjpe_mm": mpjpe(pred, ref),
            "pcp": pcp(pred, ref, bone_table.PCP_LIMBS), "people": float(len(preds))}


def reprojection_ap(result: dict[str, Any], gt: dict[str, Any], sizes: list) -> dict[str, float]:
    """COCO keypoint AP (pycocotools, FEET23's 23 OKS constants) of the 3D people reprojected into every
    view against the ground-truth people projected there (the paper's protocol without 3D ground truth,
    with our projected ground truth standing in for the manual 2D annotations)."""
    from official.evaluation.keypoints import KeypointCocoEvaluator
    from official.ops.camera import project_with_matrix
    from research.three_d.crowd3dpose.keypoints import FEET23

    images, annotations, results = [], [], []
    for v, name in enumerate(result["views"]):
        p = np.asarray(result["P"][v], np.float64)
        for frame, people in gt["3D"].items():
            image_id = len(images) + 1
            images.append({"id": image_id, "file_name": f"{name}_{frame}.png", "width": sizes[v][0],
                           "height": sizes[v][1]})
            for person in people.values():
                uv = np.asarray(project_with_matrix(p, np.asarray(person).reshape(23, 3)), np.float64)
                x0, y0 = uv.min(0)
                w, h = uv.max(0) - uv.min(0)
                kps = np.concatenate([uv, np.full((23, 1), 2.0)], 1).reshape(-1)
                annotations.append({"id": len(annotations) + 1, "image_id": image_id, "category_id": 1,
                                    "bbox": [float(x0), float(y0), float(w), float(h)], "area": float(w * h),
                                    "iscrowd": 0, "keypoints": kps.tolist(), "num_keypoints": 23})
            for pose in result["3D"].get(frame, {}).values():
                uv = np.asarray(project_with_matrix(p, np.asarray(pose).reshape(23, 3)), np.float64)
                kps = np.concatenate([uv, np.ones((23, 1))], 1).reshape(-1)
                results.append({"image_id": image_id, "category_id": 1, "keypoints": kps.tolist(), "score": 1.0})
    evaluator = KeypointCocoEvaluator({"images": images, "annotations": annotations, "categories": [
        {"id": 1, "name": "person", "supercategory": "person", "keypoints": list(FEET23.names), "skeleton": []}]},
        sigmas=FEET23.sigmas)
    return evaluator.evaluate(results)


def _ids(gt: dict[str, Any], cam: str, frame: str) -> list[int]:
    return [int(i) for i in gt["detections"][cam].get(frame, [])]


def define_flags() -> None:
    from absl import flags

    flags.DEFINE_list("views", None, "AlphaPose results JSON per view, reference view first.")
    flags.DEFINE_string("calibration", None, "Calibration JSON (cameras: P or K/R/t) or a Wildtrack root folder.")
    flags.DEFINE_string("out", None, "3D JSON to write.")
    flags.DEFINE_string("gt", None, "Optional ground truth (tools/make_crowd_views.py gt_3d.json): report metrics.")
    flags.DEFINE_enum("matching", "feet", ["feet", "epipolar"], "Cross-view matching.")
    flags.DEFINE_enum("refine", "map", ["mle", "map"], "Last refinement stage.")
    flags.DEFINE_float("max_cost", FeetMatchConfig.max_cost, "Feet matching: reject edges above this cost (px).")
    flags.DEFINE_float("lambda_shape", PipelineConfig.lambda_shape, "MAP bone-prior weight.")
    flags.DEFINE_bool("outliers", False, "Re-place outlier joints before the MAP solve.")
    flags.DEFINE_float("to_mm", 1000.0, "World units -> mm for the metrics (metres: 1000, Wildtrack cm: 10).")


def main(argv: list[str]) -> int:
    from absl import flags

    from official.core.errors import BadValueError
    from official.core.file_io import write_json

    f = flags.FLAGS
    for name in ("views", "calibration", "out"):
        if not getattr(f, name):
            raise BadValueError(f"--{name} is required")
    calibration = crowd_io.load_calibration(f.calibration)
    if len(f.views) != len(calibration["P"]):
        raise BadValueError(f"--views: {len(f.views)} files but {f.calibration} has {len(calibration['P'])} cameras")
    if len(f.views) < 2:
        raise BadValueError("--views: at least two views are needed")
    views = [crowd_io.load_alphapose(p) for p in f.views]
    config = PipelineConfig(matching=f.matching, refine=f.refine, lambda_shape=f.lambda_shape, outliers=f.outliers,
                            feet=dataclasses.replace(FeetMatchConfig(), max_cost=f.max_cost))
    start = time.perf_counter()
    result = reconstruct(views, calibration, config)
    seconds = time.perf_counter() - start
    write_json(result, f.out)
    frames = result["timing"]["frames"]
    people = sum(len(p) for p in result["3D"].values())
    print(f"{frames} frames, {people} people -> {f.out} ({seconds:.2f} s; matching "
          f"{1000 * result['timing']['matching_seconds_per_frame']:.3f} ms/frame)")
    if f.gt:
        gt = crowd_io.load_json(f.gt)
        metrics = evaluate(result, gt, f.to_mm)
        metrics["reprojection_AP"] = reprojection_ap(result, gt, calibration["sizes"])["AP"]
        print(" ".join(f"{k}={v:.4f}" for k, v in metrics.items()))
    return 0


if __name__ == "__main__":
    from tools import _cli

    define_flags()
    _cli.run(main, tensorflow=False)
