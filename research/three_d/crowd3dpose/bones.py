"""The 23-keypoint layout of Crowd3DPose and its bone-length prior tables.

Keypoints (spec "Method"): COCO-17 then the six COCO-WholeBody foot points 17 L big toe, 18 L small toe,
19 L heel, 20 R big toe, 21 R small toe, 22 R heel.

Bone lists (authors' optimization/pose_optimize/shape_3d_info.py `left_list_global` / `right_list_global`,
`bone_name_global`): 13 (start, end) pairs per side, walking outward from the torso; bones 0 and 1 (LR hip,
LR shoulder) appear in both lists. Median bone i = median over people of (left_i + right_i), halved
(`collect_param`).
"""

from __future__ import annotations

import numpy as np

NUM_KEYPOINTS = 23
NUM_BODY = 17
NUM_FEET = 6
LEFT_FOOT = (17, 18, 19)  # big toe, small toe, heel
RIGHT_FOOT = (20, 21, 22)

BONE_NAMES = (
    "LR Hip", "LR Shoulder", "Hip Shoulder", "Shoulder Elbow", "Elbow Wrist", "Shoulder ear", "Ear Eye",
    "Eye Nose", "Hip knee", "Knee Ankle", "Ankle Heel", "Heel BigToe", "Heel SmallToe",
)
LEFT_BONES = ((11, 12), (5, 6), (11, 5), (5, 7), (7, 9), (5, 3), (3, 1), (1, 0), (11, 13), (13, 15), (15, 19),
              (19, 17), (19, 18))
RIGHT_BONES = ((11, 12), (5, 6), (12, 6), (6, 8), (8, 10), (6, 4), (4, 2), (2, 0), (12, 14), (14, 16), (16, 22),
               (22, 20), (22, 21))
# Both sides as one (26, 2) table, left first (the order of the authors' shape residual vector).
ALL_BONES = np.asarray(LEFT_BONES + RIGHT_BONES, np.int64)
# mvpose-style PCP limbs on this layout (arms, legs, feet; the torso's four sides).
PCP_LIMBS = ((5, 7), (7, 9), (6, 8), (8, 10), (11, 13), (13, 15), (12, 14), (14, 16), (5, 11), (6, 12),
             (5, 6), (11, 12), (15, 19), (16, 22))


def bone_lengths(poses: np.ndarray, bones: np.ndarray = ALL_BONES) -> np.ndarray:
    """(..., 23, 3) -> (..., len(bones)) Euclidean bone lengths."""
    poses = np.asarray(poses, np.float64)
    return np.linalg.norm(poses[..., bones[:, 1], :] - poses[..., bones[:, 0], :], axis=-1)


def median_bones(poses: np.ndarray) -> np.ndarray:
    """(N, 23, 3) poses of a sequence -> (13,) median bone lengths, each the median of left + right, halved."""
    lengths = bone_lengths(np.asarray(poses).reshape(-1, NUM_KEYPOINTS, 3))
    return np.median(lengths[:, :13] + lengths[:, 13:], axis=0) / 2.0


def median_per_bone(medians: np.ndarray) -> np.ndarray:
    """(13,) medians -> (26,) targets aligned with ALL_BONES."""
    return np.concatenate([medians, medians])
