"""Evaluation protocols of Human3.6M and MuPoTS-3D, each stated explicitly, on top of pose3d.py's metrics.

Papers number the Human3.6M protocols differently, so every variant is a named `H36MProtocol`:
- "p1" (Martinez et al. 2017, Pavllo et al. 2019, most later work; the HMOR and PartAwarePose cards):
  train S1, S5, S6, S7, S8; test S9, S11; MPJPE after root (pelvis) alignment.
- "p2": same split; PA-MPJPE (Procrustes similarity: scale, rotation, translation).
- "3dmppe_p1" (Moon et al. 2019, 3DMPPE_POSENET_RELEASE data/Human36M/Human36M.py `protocol == 1`):
  train S1, S5, S6, S7, S8, S9; test S11; root-aligned then RIGID alignment (rotation + translation,
  no scale: their `rigid_align`), mean joint error ("PA MPJPE" in their log).
- "3dmppe_p2" (their `protocol == 2`): train S1, S5, S6, S7, S8; test S9, S11; MPJPE after root alignment.
All use 3DMPPE's frame sampling: every 5th frame for training, every 64th for testing (frame_idx % 64 == 0),
17 joints (H36M_17, Pelvis root = 0; 3DMPPE's appended Thorax is not evaluated), errors averaged over
all test joints, and per action (action_idx 2..16 -> human36m.ACTIONS).

MuPoTS-3D (Mehta et al. 2018; `MUPOTS`): 20 test sequences (TS1-TS20), the 17 MuPoTS joints
(skeletons3d.MUPOTS_EVAL_17 in MuCo order; root Pelvis = 14), 3DPCK at 150 mm (strict <) and its AUC over
thresholds 0:5:150 (mean of the curve), computed per sequence and averaged over sequences; "rel" after
root alignment, "abs" in camera space; predictions are matched one-to-one to ground-truth people
(pose3d.match_people on root positions, or on whatever per-person points are given), and
"all" scores every annotated person (an unmatched person's joints all count as wrong) while "matched"
scores only matched people. Differences from the official MATLAB evaluation (not available here): it
matches people by their 2D joints and can rescale predicted bones to GT lengths; both are marked
(unverified) in the cards that report MuPoTS numbers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from official.core.errors import BadValueError
from official.data.skeletons3d import MUPOTS_EVAL_17
from official.evaluation import pose3d


@dataclasses.dataclass(frozen=True)
class H36MProtocol:
    """One Human3.6M evaluation protocol (module docstring)."""

    name: str
    train_subjects: tuple[int, ...]
    test_subjects: tuple[int, ...]
    metric: str  # "mpjpe" (root-aligned), "pa_mpjpe" (similarity) or "rigid_mpjpe" (no scale)
    train_sampling: int = 5  # keep frame_idx % train_sampling == 0
    test_sampling: int = 64
    root: int = 0  # Pelvis in H36M_17
    eval_joints: tuple[int, ...] = tuple(range(17))

    def subjects(self, split: str) -> tuple[int, ...]:
        if split not in ("train", "test"):
            raise BadValueError(f"split: expected 'train' or 'test', got {split!r}")
        return self.train_subjects if split == "train" else self.test_subjects

    def sampling(self, split: str) -> int:
        self.subjects(split)
        return self.train_sampling if split == "train" else self.test_sampling

    def keep(self, subjects: Any, frames: Any, split: str = "test") -> np.ndarray:
        """bool [N]: the images of this protocol's `split` (subject in the split, frame sampled)."""
        subjects, frames = np.asarray(subjects), np.asarray(frames)
        return np.isin(subjects, self.subjects(split)) & (frames % self.sampling(split) == 0)


_TRAIN_5 = (1, 5, 6, 7, 8)
H36M_PROTOCOLS: dict[str, H36MProtocol] = {
    "p1": H36MProtocol("p1", _TRAIN_5, (9, 11), "mpjpe"),
    "p2": H36MProtocol("p2", _TRAIN_5, (9, 11), "pa_mpjpe"),
    "3dmppe_p1": H36MProtocol("3dmppe_p1", _TRAIN_5 + (9,), (11,), "rigid_mpjpe"),
    "3dmppe_p2": H36MProtocol("3dmppe_p2", _TRAIN_5, (9, 11), "mpjpe"),
}


def get_h36m_protocol(protocol: str | H36MProtocol) -> H36MProtocol:
    if isinstance(protocol, H36MProtocol):
        return protocol
    if protocol not in H36M_PROTOCOLS:
        raise BadValueError(f"protocol: expected one of {sorted(H36M_PROTOCOLS)}, got {protocol!r}")
    return H36M_PROTOCOLS[protocol]


def h36m_errors(pred: Any, gt: Any, protocol: str | H36MProtocol = "p1") -> np.ndarray:
    """float64 [N, len(eval_joints)] per-joint errors (mm) under the protocol's alignment."""
    proto = get_h36m_protocol(protocol)
    pred = pose3d.root_align(pred, proto.root)
    gt = pose3d.root_align(gt, proto.root)
    if proto.metric in ("pa_mpjpe", "rigid_mpjpe"):
        pred = pose3d.procrustes_align(pred, gt, scale=proto.metric == "pa_mpjpe")
    elif proto.metric != "mpjpe":
        raise BadValueError(f"metric: expected mpjpe, pa_mpjpe or rigid_mpjpe, got {proto.metric!r}")
    errors = pose3d.per_joint_errors(pred, gt)
    return errors[:, list(proto.eval_joints)]


def evaluate_h36m(pred: Any, gt: Any, protocol: str | H36MProtocol = "p1",
                  actions: Any = None) -> dict[str, Any]:
    """{metric name: mean error (mm), "per_action": {action name: mean error}} for poses [N, 17, 3].

    actions: action_idx per pose (2..16, as in the 3DMPPE JSON) for the per-action table.
    """
    from official.data.human36m import ACTIONS, FIRST_ACTION_IDX

    proto = get_h36m_protocol(protocol)
    errors = h36m_errors(pred, gt, proto)
    out: dict[str, Any] = {proto.metric: float(errors.mean()), "protocol": proto.name, "count": len(errors)}
    if actions is not None:
        actions = np.asarray(actions)
        out["per_action"] = {ACTIONS[a - FIRST_ACTION_IDX]: float(errors[actions == a].mean())
                             for a in sorted(set(actions.tolist()))}
    return out


@dataclasses.dataclass(frozen=True)
class MuPoTSProtocol:
    """MuPoTS-3D evaluation settings (module docstring)."""

    num_sequences: int = 20
    eval_joints: tuple[int, ...] = MUPOTS_EVAL_17
    root: int = 14  # Pelvis in MuCo / MuPoTS order
    threshold: float = 150.0
    auc_thresholds: tuple[float, ...] = tuple(float(t) for t in range(0, 151, 5))


MUPOTS = MuPoTSProtocol()


def _sequence_scores(errors: list[tuple[int, np.ndarray]], protocol: MuPoTSProtocol) -> tuple[float, float]:
    """(3DPCK, AUC) in percent: per sequence over all its people's joints (pose3d.pck_from_errors,
    auc_from_curve), then the mean over sequences; nan when no person is scored."""
    by_seq: dict[int, list[np.ndarray]] = {}
    for seq, e in errors:
        if len(e):
            by_seq.setdefault(seq, []).append(e)
    if not by_seq:
        return float("nan"), float("nan")
    pck, auc = [], []
    for parts in by_seq.values():
        e = np.concatenate(parts)
        pck.append(pose3d.pck_from_errors(e, protocol.threshold))
        curve = [pose3d.pck_from_errors(e, t) for t in protocol.auc_thresholds]
        auc.append(pose3d.auc_from_curve(curve, protocol.auc_thresholds))
    return float(np.mean(pck)), float(np.mean(auc))


def evaluate_mupots(preds: Sequence[Any], gts: Sequence[Any], sequences: Sequence[int] | None = None,
                    pred_match: Sequence[Any] | None = None, gt_match: Sequence[Any] | None = None,
                    max_match_distance: float = np.inf, protocol: MuPoTSProtocol = MUPOTS) -> dict[str, float]:
    """3DPCK / AUC (percent) rel and abs, over all and over matched people, for MuPoTS-3D-style images.

    preds, gts: per image [P_i, J, 3] and [G_i, J, 3] camera-space joints (mm) in MuCo / MuPoTS order
      (J >= max(eval_joints) + 1); P_i may be 0.
    sequences: per image sequence id (1..20); None = one sequence.
    pred_match, gt_match: per image [P_i, D] / [G_i, D] points to match people on (e.g. 2D roots);
      default the 3D roots.
    Returns pck_rel_all, pck_rel_matched, auc_rel_all, auc_rel_matched, the same with abs, num_gt,
    num_matched.
    """
    proto = protocol
    joints = list(proto.eval_joints)
    sequences = [0] * len(gts) if sequences is None else list(sequences)
    if not len(preds) == len(gts) == len(sequences):
        raise BadValueError(f"preds/gts/sequences: lengths differ ({len(preds)}, {len(gts)}, {len(sequences)})")
    rows: dict[str, list[tuple[int, np.ndarray]]] = {f"{m}_{s}": [] for m in ("rel", "abs") for s in ("all", "matched")}
    num_gt = num_matched = 0
    for i, (pred, gt, seq) in enumerate(zip(preds, gts, sequences, strict=True)):
        gt = np.asarray(gt, np.float64).reshape(-1, np.shape(gt)[-2], 3)
        pred = np.asarray(pred, np.float64).reshape(-1, gt.shape[1], 3)
        if not len(gt):
            continue
        num_gt += len(gt)
        pm = pred[:, proto.root] if pred_match is None else np.asarray(pred_match[i], np.float64)
        gm = gt[:, proto.root] if gt_match is None else np.asarray(gt_match[i], np.float64)
        pairs = pose3d.match_people(pm, gm, max_match_distance) if len(pred) else []
        num_matched += len(pairs)
        p_idx, g_idx = [p for p, _ in pairs], [g for _, g in pairs]
        for mode in ("rel", "abs"):
            errors = np.full((len(gt), len(joints)), np.inf)  # unmatched people: every joint wrong
            if pairs:
                root = proto.root if mode == "rel" else None
                errors[g_idx] = pose3d.per_joint_errors(pred[p_idx], gt[g_idx], root=root)[:, joints]
            rows[f"{mode}_all"].append((seq, errors))
            rows[f"{mode}_matched"].append((seq, errors[g_idx]))
    out: dict[str, float] = {}
    for key, errors in rows.items():
        out[f"pck_{key}"], out[f"auc_{key}"] = _sequence_scores(errors, proto)
    out.update(num_gt=float(num_gt), num_matched=float(num_matched))
    return out
