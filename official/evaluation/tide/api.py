"""One-call entry points on COCO JSON: the breakdown `tools.evaluate --tide` and `tools.tide` report.

`tide_breakdown` returns exactly {"ap50", "main", "special", "counts"} with dAP in AP points (0-100).
`tide_report` adds what the CLI can print: AP over the COCO thresholds and per-area results.
"""

from __future__ import annotations

from typing import Any

from official.evaluation.tide.coco_io import CocoGroundTruth, load_predictions
from official.evaluation.tide.errors import TideInputError
from official.evaluation.tide.qualifiers import AREA
from official.evaluation.tide.tide import TIDE, run_result


def tide_breakdown(
    gt: str | dict,
    predictions: str | list[dict],
    mode: str = "box",
    pos_threshold: float = 0.5,
    background_threshold: float = 0.1,
) -> dict:
    """TIDE error breakdown of COCO results against a COCO instances ground truth.

    Args:
      gt: COCO instances JSON path, or the loaded dict.
      predictions: COCO results JSON path, or the loaded list of {image_id, category_id, score, bbox/segmentation}.
      mode: "box" or "mask".
      pos_threshold: IoU for a true positive (the reported AP is AP at this IoU).
      background_threshold: IoU at or below which a false positive counts as background.

    Returns:
      {"ap50": AP, "main": {Cls, Loc, Both, Dupe, Bkg, Miss: dAP}, "special": {FalsePos, FalseNeg: dAP},
       "counts": {error counts per main type, FalsePos, FalseNeg, TruePos, GroundTruth, Predictions, Ignored}}.

    Raises:
      TideInputError: a file that is not COCO JSON, or an entry that cannot be used (names file and index).
    """
    truth = CocoGroundTruth(gt, mode=mode)
    preds = load_predictions(predictions, truth)
    tide = TIDE(pos_threshold=pos_threshold, background_threshold=background_threshold, mode=truth.mode)
    return run_result(tide.evaluate(truth.data, preds, name="predictions"))


def tide_scalars(result: dict, prefix: str = "tide") -> dict[str, float]:
    """Flat scalar names for TensorBoard / CSV: AP, dAP_<error> per main and special error, count_<error>."""
    out = {f"{prefix}/AP": float(result["ap50"])}
    for group in ("main", "special"):
        out.update({f"{prefix}/dAP_{k}": float(v) for k, v in result[group].items()})
    out.update({f"{prefix}/count_{k}": float(v) for k, v in result["counts"].items()})
    return out


def tide_report(
    gt: str | dict,
    predictions: str | list[dict],
    mode: str = "box",
    pos_threshold: float = 0.5,
    background_threshold: float = 0.1,
    thresholds: list[float] | None = None,
    areas: bool = False,
    max_dets: int = 100,
) -> tuple[dict[str, Any], TIDE]:
    """The breakdown plus, optionally, AP at each threshold (`ap_range`) and per-area AP and dAP (`area`)."""
    truth = CocoGroundTruth(gt, mode=mode, max_dets=max_dets)
    preds = load_predictions(predictions, truth)
    tide = TIDE(pos_threshold=pos_threshold, background_threshold=background_threshold, mode=truth.mode)
    if thresholds:
        runs = tide.evaluate_range(truth.data, preds, thresholds=thresholds, name=preds.name)
        run = tide.runs.get(preds.name)
        if run is None:
            raise TideInputError(f"pos_threshold {pos_threshold} is not one of the thresholds {thresholds}")
    else:
        run = tide.evaluate(truth.data, preds, name=preds.name)
        runs = []
    result: dict[str, Any] = run_result(run)
    if runs:
        aps = {f"{round(r.pos_thresh * 100):d}": float(r.ap) for r in runs}
        result["ap_range"] = {"mean": sum(aps.values()) / len(aps), **aps}
    if areas:
        tide.add_qualifiers(*AREA)
        result["area"] = {}
        for q in AREA:
            ap = [r.qualifiers[q.name] for r in (runs or [run])]
            result["area"][q.name] = {
                "ap": float(run.qualifiers[q.name]),
                "ap_range_mean": float(sum(ap) / len(ap)),
                "main": {k: float(v) for k, v in run.fix_main_errors(qual=q).items()},
                "counts": run.count_errors(qual=q),
            }
    return result, tide
