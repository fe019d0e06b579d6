"""3D human skeletons: joint orders of the real datasets plus a fixed bone-length model for synthetic poses.

The joint orders, flip pairs, limbs and root joints are those of the 3DMPPE release (mks0601
3DMPPE_POSENET_RELEASE / 3DMPPE_ROOTNET_RELEASE, data/{Human36M,MuCo,MuPoTS}/*.py), so JSON written in the
3DMPPE layout and models trained on it index joints the same way:
- `H36M_17`: the 17 joints of `Human36M_subjectX_joint_3d.json` (3DMPPE's PoseNet appends a "Thorax" as an
  18th joint; it is not in the files and not evaluated), root Pelvis (0).
- `MUCO_21`: the 21 MPI-INF-3DHP joints of MuCo-3DHP (`MuCo-3DHP.json`), root Pelvis (14).
- `MUPOTS_17`: the 17 joints stored in `MuPoTS-3D.json` = the first 17 of MUCO_21 (no hands, no toes);
  `MUPOTS_EVAL_17` are their indices in MUCO_21 (3DMPPE `eval_joint`), root Pelvis (14).
- `SMPL_24`: SMPL's kinematic tree (the parent array of the SMPL model), root pelvis (0).
- `COCO_FEET_23`: COCO's 17 keypoints + the 6 COCO-WholeBody foot points (big toe, small toe, heel per
  side), for methods that need feet (Crowd3DPose); COCO has no pelvis, so the tree is rooted at left_hip.

Limbs are the tree edges; for H36M, MuCo and MuPoTS they are exactly 3DMPPE's `skeleton` tuples in 3DMPPE's
order (some written child first, e.g. MuCo's (Head_top, Head)), elsewhere (parent, child). Bone lengths (mm) are a fixed adult-sized table (not measured from any dataset):
the synthetic generator (`humans3d`) builds every pose from them, so a generated pose's bone lengths are
known exactly. `rest_directions` are unit vectors of each bone in a standing "A-pose" in the body frame
x = the person's left, y = down, z = the person's back (the person faces -z, i.e. a camera at -z sees the
front, with the person's left on the image right).
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Skeleton:
    """A joint order with its kinematic tree and bone-length model (all tuples, indexable by joint)."""

    name: str
    joint_names: tuple[str, ...]
    parents: tuple[int, ...]  # parent joint per joint; -1 for the root
    flip_pairs: tuple[tuple[int, int], ...]  # (left/right) pairs swapped by a horizontal flip
    root: int
    limbs: tuple[tuple[int, int], ...]  # drawn / evaluated segments: the tree edges
    bone_lengths_mm: tuple[float, ...]  # |joint - parent| per joint; 0 for the root
    rest_directions: tuple[tuple[float, float, float], ...]  # unit bone direction per joint; 0 for root

    def __post_init__(self):
        j = len(self.joint_names)
        for field in ("parents", "bone_lengths_mm", "rest_directions"):
            if len(getattr(self, field)) != j:
                raise ValueError(f"Skeleton {self.name}: {field} has {len(getattr(self, field))} entries, not {j}")
        if self.parents[self.root] != -1 or sum(p == -1 for p in self.parents) != 1:
            raise ValueError(f"Skeleton {self.name}: the root {self.root} must be the only joint without parent")

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    def index(self, name: str) -> int:
        return self.joint_names.index(name)

    @property
    def order(self) -> tuple[int, ...]:
        """Joints in an order where every parent comes before its children (for forward kinematics)."""
        done: list[int] = [self.root]
        while len(done) < self.num_joints:
            done += [j for j, p in enumerate(self.parents) if p in done and j not in done]
        return tuple(done)

    @property
    def flip_permutation(self) -> np.ndarray:
        """int [J]: joint index after a horizontal flip (left <-> right)."""
        perm = np.arange(self.num_joints)
        for a, b in self.flip_pairs:
            perm[a], perm[b] = b, a
        return perm

    def rest_pose(self) -> np.ndarray:
        """float64 [J, 3] the A-pose (mm) with the root at the origin."""
        pose = np.zeros((self.num_joints, 3))
        for j in self.order[1:]:
            pose[j] = pose[self.parents[j]] + self.bone_lengths_mm[j] * np.asarray(self.rest_directions[j])
        return pose


def _unit(v: tuple[float, float, float]) -> tuple[float, float, float]:
    n = float(np.linalg.norm(v))
    return (0.0, 0.0, 0.0) if n == 0 else tuple(float(x) / n for x in v)  # type: ignore[return-value]


def _build(name: str, joints: list[tuple[str, str | None, float, tuple[float, float, float]]],
           flip_pairs: tuple[tuple[int, int], ...], limbs: tuple[tuple[int, int], ...] | None = None) -> Skeleton:
    """joints: (name, parent name or None for the root, bone length mm, rest direction in the body frame)."""
    names = tuple(j[0] for j in joints)
    parents = tuple(-1 if p is None else names.index(p) for _, p, _, _ in joints)
    tree = tuple((p, c) for c, p in enumerate(parents) if p >= 0)
    return Skeleton(
        name=name, joint_names=names, parents=parents, flip_pairs=flip_pairs, root=parents.index(-1),
        limbs=tree if limbs is None else limbs, bone_lengths_mm=tuple(float(j[2]) for j in joints),
        rest_directions=tuple(_unit(j[3]) for j in joints),
    )


# Body-frame directions: +x person's left, +y down, -z the person's front.
_UP, _DOWN, _FRONT = (0.0, -1.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, -1.0)
_L, _R = (1.0, 0.0, 0.0), (-1.0, 0.0, 0.0)
_L_ARM, _R_ARM = (0.5, 0.87, 0.0), (-0.5, 0.87, 0.0)  # A-pose: arms 30 deg from hanging straight down
_L_SHOULDER, _R_SHOULDER = (1.0, 0.15, 0.0), (-1.0, 0.15, 0.0)
_TOE = (0.0, 0.35, -0.94)

# Human3.6M (3DMPPE Human36M.py joints_name, flip_pairs, skeleton); root Pelvis.
H36M_17 = _build("h36m_17", [
    ("Pelvis", None, 0, (0, 0, 0)),
    ("R_Hip", "Pelvis", 133, _R), ("R_Knee", "R_Hip", 443, _DOWN), ("R_Ankle", "R_Knee", 454, _DOWN),
    ("L_Hip", "Pelvis", 133, _L), ("L_Knee", "L_Hip", 443, _DOWN), ("L_Ankle", "L_Knee", 454, _DOWN),
    ("Torso", "Pelvis", 234, _UP), ("Neck", "Torso", 252, _UP),
    ("Nose", "Neck", 116, (0.0, -0.8, -0.6)), ("Head", "Nose", 115, (0.0, -0.85, 0.53)),
    ("L_Shoulder", "Neck", 151, _L_SHOULDER), ("L_Elbow", "L_Shoulder", 279, _L_ARM),
    ("L_Wrist", "L_Elbow", 250, _L_ARM),
    ("R_Shoulder", "Neck", 151, _R_SHOULDER), ("R_Elbow", "R_Shoulder", 279, _R_ARM),
    ("R_Wrist", "R_Elbow", 250, _R_ARM),
], flip_pairs=((1, 4), (2, 5), (3, 6), (14, 11), (15, 12), (16, 13)),
   limbs=((0, 7), (7, 8), (8, 9), (9, 10), (8, 11), (11, 12), (12, 13), (8, 14), (14, 15), (15, 16),
          (0, 1), (1, 2), (2, 3), (0, 4), (4, 5), (5, 6)))

_MUCO_JOINTS = [
    ("Head_top", "Head", 110, _UP), ("Thorax", "Spine", 250, _UP),
    ("R_Shoulder", "Thorax", 170, _R_SHOULDER), ("R_Elbow", "R_Shoulder", 280, _R_ARM),
    ("R_Wrist", "R_Elbow", 250, _R_ARM),
    ("L_Shoulder", "Thorax", 170, _L_SHOULDER), ("L_Elbow", "L_Shoulder", 280, _L_ARM),
    ("L_Wrist", "L_Elbow", 250, _L_ARM),
    ("R_Hip", "Pelvis", 120, _R), ("R_Knee", "R_Hip", 440, _DOWN), ("R_Ankle", "R_Knee", 440, _DOWN),
    ("L_Hip", "Pelvis", 120, _L), ("L_Knee", "L_Hip", 440, _DOWN), ("L_Ankle", "L_Knee", 440, _DOWN),
    ("Pelvis", None, 0, (0, 0, 0)), ("Spine", "Pelvis", 200, _UP), ("Head", "Thorax", 150, _UP),
    ("R_Hand", "R_Wrist", 90, _R_ARM), ("L_Hand", "L_Wrist", 90, _L_ARM),
    ("R_Toe", "R_Ankle", 160, _TOE), ("L_Toe", "L_Ankle", 160, _TOE),
]

# MuCo-3DHP / MPI-INF-3DHP order (3DMPPE MuCo.py); root Pelvis (14).
MUCO_21 = _build("muco_21", _MUCO_JOINTS,
                 flip_pairs=((2, 5), (3, 6), (4, 7), (8, 11), (9, 12), (10, 13), (17, 18), (19, 20)),
                 limbs=((0, 16), (16, 1), (1, 15), (15, 14), (14, 8), (14, 11), (8, 9), (9, 10), (10, 19),
                        (11, 12), (12, 13), (13, 20), (1, 2), (2, 3), (3, 4), (4, 17), (1, 5), (5, 6),
                        (6, 7), (7, 18)))

# MuPoTS-3D annotations: the first 17 MuCo joints (3DMPPE MuPoTS.py original_joints_name, skeleton).
MUPOTS_EVAL_17 = tuple(range(17))  # indices into MUCO_21 (3DMPPE eval_joint)
MUPOTS_17 = _build("mupots_17", _MUCO_JOINTS[:17],
                   flip_pairs=((2, 5), (3, 6), (4, 7), (8, 11), (9, 12), (10, 13)),
                   limbs=((0, 16), (16, 1), (1, 15), (15, 14), (14, 8), (14, 11), (8, 9), (9, 10), (11, 12),
                          (12, 13), (1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7)))

# SMPL's 24-joint tree (parents [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, ...]).
SMPL_24 = _build("smpl_24", [
    ("pelvis", None, 0, (0, 0, 0)),
    ("left_hip", "pelvis", 115, (0.6, 0.8, 0.0)), ("right_hip", "pelvis", 115, (-0.6, 0.8, 0.0)),
    ("spine1", "pelvis", 110, _UP),
    ("left_knee", "left_hip", 380, _DOWN), ("right_knee", "right_hip", 380, _DOWN),
    ("spine2", "spine1", 135, _UP),
    ("left_ankle", "left_knee", 400, _DOWN), ("right_ankle", "right_knee", 400, _DOWN),
    ("spine3", "spine2", 55, _UP),
    ("left_foot", "left_ankle", 140, _TOE), ("right_foot", "right_ankle", 140, _TOE),
    ("neck", "spine3", 215, _UP),
    ("left_collar", "spine3", 145, (0.55, -0.83, 0.0)), ("right_collar", "spine3", 145, (-0.55, -0.83, 0.0)),
    ("head", "neck", 95, _UP),
    ("left_shoulder", "left_collar", 110, _L_SHOULDER), ("right_shoulder", "right_collar", 110, _R_SHOULDER),
    ("left_elbow", "left_shoulder", 260, _L_ARM), ("right_elbow", "right_shoulder", 260, _R_ARM),
    ("left_wrist", "left_elbow", 250, _L_ARM), ("right_wrist", "right_elbow", 250, _R_ARM),
    ("left_hand", "left_wrist", 85, _L_ARM), ("right_hand", "right_wrist", 85, _R_ARM),
], flip_pairs=((1, 2), (4, 5), (7, 8), (10, 11), (13, 14), (16, 17), (18, 19), (20, 21), (22, 23)))

# COCO-17 + COCO-WholeBody feet (indices 17-22). No pelvis in COCO: the tree is rooted at left_hip.
COCO_FEET_23 = _build("coco_feet_23", [
    ("nose", "left_shoulder", 230, (-0.55, -0.7, -0.45)),
    ("left_eye", "nose", 40, (0.6, -0.8, 0.0)), ("right_eye", "nose", 40, (-0.6, -0.8, 0.0)),
    ("left_ear", "left_eye", 70, (0.8, 0.2, 0.6)), ("right_ear", "right_eye", 70, (-0.8, 0.2, 0.6)),
    ("left_shoulder", "left_hip", 500, (0.1, -1.0, 0.0)), ("right_shoulder", "left_shoulder", 340, _R),
    ("left_elbow", "left_shoulder", 280, _L_ARM), ("right_elbow", "right_shoulder", 280, _R_ARM),
    ("left_wrist", "left_elbow", 250, _L_ARM), ("right_wrist", "right_elbow", 250, _R_ARM),
    ("left_hip", None, 0, (0, 0, 0)), ("right_hip", "left_hip", 240, _R),
    ("left_knee", "left_hip", 440, _DOWN), ("right_knee", "right_hip", 440, _DOWN),
    ("left_ankle", "left_knee", 440, _DOWN), ("right_ankle", "right_knee", 440, _DOWN),
    ("left_big_toe", "left_ankle", 170, (0.15, 0.35, -0.92)),
    ("left_small_toe", "left_ankle", 160, (0.45, 0.35, -0.82)),
    ("left_heel", "left_ankle", 70, (0.0, 0.6, 0.8)),
    ("right_big_toe", "right_ankle", 170, (-0.15, 0.35, -0.92)),
    ("right_small_toe", "right_ankle", 160, (-0.45, 0.35, -0.82)),
    ("right_heel", "right_ankle", 70, (0.0, 0.6, 0.8)),
], flip_pairs=((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16), (17, 20), (18, 21),
               (19, 22)))

SKELETONS: dict[str, Skeleton] = {s.name: s for s in (H36M_17, MUCO_21, MUPOTS_17, SMPL_24, COCO_FEET_23)}


def get_skeleton(name: str) -> Skeleton:
    """The skeleton called `name` (one of SKELETONS); ValueError naming the known ones otherwise."""
    if name not in SKELETONS:
        raise ValueError(f"skeleton: unknown {name!r}; known: {sorted(SKELETONS)}")
    return SKELETONS[name]
