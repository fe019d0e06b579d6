"""Keypoint layouts of the top-down pose datasets: names, flip pairs, half-body joint sets, OKS sigmas.

One `KeypointSpec` per dataset so that the reader, the augmentation (flip pairs, half-body sets), the
flip-test decoder and the OKS evaluator all read the same table. Pure Python (no TensorFlow).

Sources:
- COCO names, order and per-keypoint OKS constants k_i: the COCO keypoint evaluation (pycocotools
  `Params.kpt_oks_sigmas`, = the values below / 10).
- Flip pairs, upper/lower body ids: RSN `dataset/attribute.py` (classes COCO and MPII). RSN's COCO upper
  set is 0-12 (hips included) and its lower set 11-16; the half-body transform assigns a joint to the
  upper set when it is listed there and to the lower set otherwise, so the hips count as upper body
  (HRNet / mmpose use upper = 0-10 instead). We keep RSN's lists.
- MPII joint order: the MPII annotation ids 0-15 as in HRNet's / RSN's mpii_annotations JSON.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class KeypointSpec:
    """The keypoint layout of one dataset.

    Attributes:
      name: dataset name ("coco", "mpii").
      names: keypoint names in annotation order (K entries).
      flip_pairs: (left, right) index pairs swapped by a horizontal flip.
      upper_body_ids: joints that count as upper body in the half-body transform.
      lower_body_ids: RSN's lower-body list (informational: the transform uses "not upper").
      sigmas: per-keypoint OKS constants k_i (COCO), or None where the metric is not OKS.
    """

    name: str
    names: tuple[str, ...]
    flip_pairs: tuple[tuple[int, int], ...]
    upper_body_ids: tuple[int, ...]
    lower_body_ids: tuple[int, ...]
    sigmas: tuple[float, ...] | None = None

    @property
    def num_keypoints(self) -> int:
        return len(self.names)

    @property
    def flip_index(self) -> tuple[int, ...]:
        """Permutation p with flipped[i] = original[p[i]] (an involution: p[p[i]] == i)."""
        perm = list(range(self.num_keypoints))
        for a, b in self.flip_pairs:
            perm[a], perm[b] = b, a
        return tuple(perm)

    @property
    def is_upper_body(self) -> tuple[bool, ...]:
        upper = set(self.upper_body_ids)
        return tuple(i in upper for i in range(self.num_keypoints))


COCO_KEYPOINT_NAMES = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
COCO_FLIP_PAIRS = ((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16))
COCO_UPPER_BODY_IDS = tuple(range(13))  # RSN attribute.py: 0-12 (hips included)
COCO_LOWER_BODY_IDS = tuple(range(11, 17))  # RSN attribute.py: 11-16
# COCO keypoint evaluation k_i (cocodataset.org/#keypoints-eval; pycocotools Params.kpt_oks_sigmas).
COCO_SIGMAS = tuple(
    v / 10.0
    for v in (
        0.26,
        0.25,
        0.25,
        0.35,
        0.35,
        0.79,
        0.79,
        0.72,
        0.72,
        0.62,
        0.62,
        1.07,
        1.07,
        0.87,
        0.87,
        0.89,
        0.89,
    )
)
COCO_PERSON_CATEGORY_ID = 1

MPII_KEYPOINT_NAMES = (
    "right_ankle",
    "right_knee",
    "right_hip",
    "left_hip",
    "left_knee",
    "left_ankle",
    "pelvis",
    "thorax",
    "upper_neck",
    "head_top",
    "right_wrist",
    "right_elbow",
    "right_shoulder",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
)
MPII_FLIP_PAIRS = ((0, 5), (1, 4), (2, 3), (10, 15), (11, 14), (12, 13))
MPII_UPPER_BODY_IDS = tuple(range(7, 16))  # RSN attribute.py
MPII_LOWER_BODY_IDS = tuple(range(7))
PIXEL_STD = 200.0  # MPII (and HRNet/RSN) "scale" unit: scale 1.0 = a 200 px box side

COCO = KeypointSpec(
    name="coco",
    names=COCO_KEYPOINT_NAMES,
    flip_pairs=COCO_FLIP_PAIRS,
    upper_body_ids=COCO_UPPER_BODY_IDS,
    lower_body_ids=COCO_LOWER_BODY_IDS,
    sigmas=COCO_SIGMAS,
)
MPII = KeypointSpec(
    name="mpii",
    names=MPII_KEYPOINT_NAMES,
    flip_pairs=MPII_FLIP_PAIRS,
    upper_body_ids=MPII_UPPER_BODY_IDS,
    lower_body_ids=MPII_LOWER_BODY_IDS,
)

# RSN exps/*/config.py INPUT.MEANS / INPUT.STDS: the network reads BGR images scaled to 0-1 (cv2.imread,
# COLOR_RGB False, torchvision ToTensor) normalised with these per-channel values, in BGR order.
RSN_MEAN_BGR = (0.406, 0.456, 0.485)
RSN_STD_BGR = (0.225, 0.224, 0.229)
