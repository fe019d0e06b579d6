"""HMOR's evaluation: MuPoTS-style 3DPCK / AUC, MPJPE, PA-MPJPE and depth-order accuracy (numpy).

All joint metrics come from official/evaluation/pose3d.py. Per image, predicted people are matched to
ground-truth people by the 2D distance of their root joints (pose3d.match_people, Hungarian); then
    pck_rel_all / pck_abs_all       3DPCK@threshold over ALL ground-truth people (an unmatched person's
                                    joints count as wrong: MuPoTS-3D's "all people"), root-relative / absolute
    pck_rel_matched, auc_rel_matched, pck_abs_matched   the same over matched people only
    mpjpe_rel, pa_mpjpe             root-relative MPJPE and Procrustes MPJPE of matched people (mm)
    root_error_mm                   mean |Z_root predicted - Z_root ground truth| of matched people
    depth_order_acc                 share (%) of pairs of matched people whose predicted root depths are
                                    in the ground-truth order (the card's "ordinal accuracy"; GT ties skipped)
    recall                          matched / ground-truth people (%)
`oracle` predictions (the model run on the ground-truth boxes, row i = person i) give "gtbox/..." keys.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from official.evaluation import pose3d


class _Accumulator:
    def __init__(self):
        self.rel, self.abs, self.pa, self.root = [], [], [], []
        self.gt_people = 0
        self.correct_pairs = 0
        self.pairs = 0

    def add(self, pred_cam, pred_root_z, gt_cam, pairs, root: int, joints):
        """pred_cam (P, J, 3), gt_cam (G, J, 3) of one image; pairs [(p, g)] matched rows."""
        self.gt_people += len(gt_cam)
        if not pairs:
            return
        p_idx = [p for p, _ in pairs]
        g_idx = [g for _, g in pairs]
        pred, gt = pred_cam[p_idx], gt_cam[g_idx]
        self.rel.append(pose3d.per_joint_errors(pred, gt, root)[:, joints])
        self.abs.append(pose3d.per_joint_errors(pred, gt)[:, joints])
        self.pa.append(pose3d.per_joint_errors(pose3d.procrustes_align(pred[:, joints], gt[:, joints]), gt[:, joints]))
        self.root.append(np.abs(pred_root_z[p_idx] - gt[:, root, 2]))
        zp, zg = pred_root_z[p_idx], gt[:, root, 2]
        for a in range(len(pairs)):
            for b in range(a + 1, len(pairs)):
                if zg[a] == zg[b]:
                    continue
                self.pairs += 1
                self.correct_pairs += int(np.sign(zp[a] - zp[b]) == np.sign(zg[a] - zg[b]))

    def result(self, threshold: float) -> dict[str, float]:
        if not self.rel:
            return {"recall": 0.0, "pck_rel_all": 0.0, "pck_abs_all": 0.0}
        rel, ab = np.concatenate(self.rel), np.concatenate(self.abs)
        matched, joints = len(rel), rel.shape[1]
        missing = max(self.gt_people - matched, 0) * joints
        hits_rel, hits_abs = float((rel < threshold).sum()), float((ab < threshold).sum())
        total = matched * joints + missing
        thresholds = pose3d.MUPOTS_AUC_THRESHOLDS
        curve = [pose3d.pck_from_errors(rel, t) for t in thresholds]
        out = {
            "recall": 100.0 * matched / max(self.gt_people, 1),
            "pck_rel_all": 100.0 * hits_rel / total, "pck_abs_all": 100.0 * hits_abs / total,
            "pck_rel_matched": pose3d.pck_from_errors(rel, threshold),
            "pck_abs_matched": pose3d.pck_from_errors(ab, threshold),
            "auc_rel_matched": pose3d.auc_from_curve(curve, thresholds),
            "mpjpe_rel": float(rel.mean()), "pa_mpjpe": float(np.concatenate(self.pa).mean()),
            "root_error_mm": float(np.concatenate(self.root).mean()),
        }  # fmt: skip
        if self.pairs:
            out["depth_order_acc"] = 100.0 * self.correct_pairs / self.pairs
        return out


def evaluate_batches(batches: Iterable[tuple[dict, dict, dict | None]], root: int, eval_joints=None,
                     pck_threshold: float = pose3d.MUPOTS_PCK_THRESHOLD, match_distance: float = np.inf) -> dict:
    """Metrics over (labels, predictions, oracle predictions or None) numpy batches (module docstring).

    labels: keypoints_cam (B, G, J, 3), keypoints_img (B, G, J, 2), person_mask (B, G);
    predictions: joints_cam (B, P, J, 3), joints_img (B, P, J, 2), root_depth (B, P), valid (B, P).
    """
    det, oracle_acc = _Accumulator(), _Accumulator()
    images = 0
    for labels, pred, oracle in batches:
        mask = np.asarray(labels["person_mask"]) > 0
        joints = slice(None) if eval_joints is None else list(eval_joints)
        for b in range(mask.shape[0]):
            images += 1
            gt_cam = labels["keypoints_cam"][b][mask[b]]
            gt_img = labels["keypoints_img"][b][mask[b]]
            valid = np.asarray(pred["valid"][b]).astype(bool)
            pred_cam, pred_img = pred["joints_cam"][b][valid], pred["joints_img"][b][valid]
            pairs = pose3d.match_people(pred_img[:, root], gt_img[:, root], match_distance)
            det.add(pred_cam, pred["root_depth"][b][valid], gt_cam, pairs, root, joints)
            if oracle is not None:
                g = len(gt_cam)
                oracle_acc.add(oracle["joints_cam"][b][:g], oracle["root_depth"][b][:g], gt_cam,
                               [(i, i) for i in range(g)], root, joints)
    out = {"images": float(images), **det.result(pck_threshold)}
    if oracle_acc.gt_people:
        out.update({f"gtbox/{k}": v for k, v in oracle_acc.result(pck_threshold).items() if k != "recall"})
    return out
