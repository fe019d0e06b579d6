"""Spec checks 6 (feet-weighted heatmap loss = the authors' criterion_mse formula) and 7 (PCP 100 and
MPJPE 0 for ground-truth input; COCO keypoint AP 1.0 for reprojected ground truth, pycocotools)."""

import numpy as np

from research.three_d.crowd3dpose import reconstruct
from research.three_d.crowd3dpose.loss import feet_weighted_mse, feet_weights


def _criterion_mse(pred_bchw, target_bchw, lam=1.5):
    """The code formula in numpy, on the authors' (batch, 23, H, W) layout."""
    per = np.mean((pred_bchw - target_bchw) ** 2, axis=(2, 3))
    w = np.array([1 / (17 + 6 * lam)] * 17 + [lam / (17 + 6 * lam)] * 6)
    return np.mean(per * w[None])


def test_feet_weighted_loss_equals_the_code_formula():
    np.testing.assert_allclose(feet_weights(1.5)[:17], [1 / 26] * 17)
    np.testing.assert_allclose(feet_weights(1.5)[17:], [1.5 / 26] * 6)
    rng = np.random.default_rng(0)
    pred, target = rng.normal(size=(3, 23, 20, 16)), rng.normal(size=(3, 23, 20, 16))
    ours = float(feet_weighted_mse(pred.transpose(0, 2, 3, 1), target.transpose(0, 2, 3, 1)))
    np.testing.assert_allclose(ours, _criterion_mse(pred, target), rtol=1e-5)
    assert float(feet_weighted_mse(pred.transpose(0, 2, 3, 1), pred.transpose(0, 2, 3, 1))) == 0.0
    # A foot error costs 1.5x a body error of the same size.
    base = np.zeros((1, 8, 8, 23))
    body, foot = base.copy(), base.copy()
    body[..., 3], foot[..., 20] = 1.0, 1.0
    np.testing.assert_allclose(float(feet_weighted_mse(foot, base)) / float(feet_weighted_mse(body, base)), 1.5,
                               rtol=1e-6)
    # valid = 0 compares the prediction with a zero map.
    valid = np.ones((1, 23))
    valid[0, 20] = 0
    assert float(feet_weighted_mse(foot, foot, valid=valid)) > 0


def _gt_result(gt_path_dict):
    gt = gt_path_dict
    result = {"3D": gt["3D"], "P": [gt["P4"], gt["P6"]], "views": ["C0", "C1"], "matches": {}}
    for frame, people in gt["3D"].items():
        result["matches"][frame] = {}
        for key in people:
            ids = {cam: next(int(i) for i, n in gt["person_of"][cam].items() if n == int(key) and
                             str(i) in map(str, gt["detections"][cam][frame])) for cam in ("C0", "C1")}
            result["matches"][frame][key] = ids
    return result


def test_metrics_on_ground_truth(tmp_path):
    from tools.make_crowd_views import write_crowd_views

    write_crowd_views(str(tmp_path / "crowd"), cameras=2, frames=1)
    gt = reconstruct.crowd_io.load_json(str(tmp_path / "crowd" / "gt_3d.json"))
    result = _gt_result(gt)
    metrics = reconstruct.evaluate(result, gt)
    assert metrics == {"matching_accuracy": 1.0, "mpjpe_mm": 0.0, "pcp": 100.0, "people": 12.0}
    assert reconstruct.reprojection_ap(result, gt, [(1280, 720)] * 2)["AP"] == 1.0
    # A 30 cm shift of every pose is caught by all three.
    shifted = dict(result, **{"3D": {f: {k: (np.asarray(v) + 0.3).tolist() for k, v in p.items()}
                                     for f, p in gt["3D"].items()}})
    metrics = reconstruct.evaluate(shifted, gt)
    assert metrics["mpjpe_mm"] > 500.0 and metrics["pcp"] < 50.0
    assert reconstruct.reprojection_ap(shifted, gt, [(1280, 720)] * 2)["AP"] < 0.5
