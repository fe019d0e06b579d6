"""Part groups: which joints each part head predicts, and the reassembly into the dataset's joint order.

K = 5 groups (spec card "Part-aware idea"; the grouping is unverified): torso + head, right leg, left
leg, left arm, right arm, over Human3.6M's 17 joints in 3DMPPE's order (official/data/skeletons3d.H36M_17:
0 pelvis, 1-3 right hip/knee/ankle, 4-6 left hip/knee/ankle, 7 torso, 8 neck, 9 nose, 10 head,
11-13 left shoulder/elbow/wrist, 14-16 right shoulder/elbow/wrist).

Part head p emits the volumes of its joints, channel i * D + d for its i-th joint; the heads' outputs are
concatenated in group order and one channel permutation (a gather on the channel axis) puts joint j's D
bins at channels j * D .. j * D + D - 1, the layout `official.ops.integral_decode.soft_argmax_3d` reads.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

H36M_PART_GROUPS: tuple[tuple[int, ...], ...] = (
    (0, 7, 8, 9, 10),  # torso + head
    (1, 2, 3),  # right leg
    (4, 5, 6),  # left leg
    (11, 12, 13),  # left arm
    (14, 15, 16),  # right arm
)
PART_NAMES = ("torso_head", "right_leg", "left_leg", "left_arm", "right_arm")


def check_groups(groups: Sequence[Sequence[int]], num_joints: int) -> tuple[tuple[int, ...], ...]:
    """The groups as tuples; ValueError unless every joint 0..num_joints-1 is in exactly one group."""
    groups = tuple(tuple(int(j) for j in g) for g in groups)
    flat = [j for g in groups for j in g]
    if sorted(flat) != list(range(num_joints)):
        raise ValueError(f"part_groups: {groups} must cover joints 0..{num_joints - 1} exactly once")
    return groups


def channel_permutation(groups: Sequence[Sequence[int]], depth_bins: int) -> np.ndarray:
    """Indices into the concatenated part channels giving the dataset-order channels (j * D + d)."""
    order = [j for g in groups for j in g]  # joint held at concatenated slot s
    slot = np.argsort(order)  # slot of dataset joint j
    return (slot[:, None] * depth_bins + np.arange(depth_bins)[None, :]).reshape(-1).astype(np.int32)
