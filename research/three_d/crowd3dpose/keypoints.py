"""The 23-keypoint layout (COCO-17 + 6 foot points) for the shared top-down keypoint stack.

`FEET23` is a `KeypointSpec` (official/data/keypoint_constants.py) over DATA's `COCO_FEET_23` skeleton
(official/data/skeletons3d.py): COCO-17 then the six COCO-WholeBody foot points. Flip pairs are the
skeleton's; half-body sets are RSN's COCO lists with the feet in the lower body. OKS constants: COCO's 17
and COCO-WholeBody's foot values (jin-s13/COCO-WholeBody evaluation/myeval_wholebody.py `sigmas_foot`).
pycocotools defaults to 17 constants; `KeypointCocoEvaluator(..., sigmas=FEET23.sigmas)` passes the 23.
"""

from __future__ import annotations

from official.data.keypoint_constants import (
    COCO_LOWER_BODY_IDS,
    COCO_SIGMAS,
    COCO_UPPER_BODY_IDS,
    KeypointSpec,
)
from official.data.skeletons3d import COCO_FEET_23

WHOLEBODY_FOOT_SIGMAS = (0.068, 0.066, 0.066, 0.092, 0.094, 0.094)

FEET23 = KeypointSpec(
    name="coco_feet23",
    names=tuple(COCO_FEET_23.joint_names),
    flip_pairs=tuple(tuple(p) for p in COCO_FEET_23.flip_pairs),
    upper_body_ids=COCO_UPPER_BODY_IDS,
    lower_body_ids=COCO_LOWER_BODY_IDS + tuple(range(17, 23)),
    sigmas=tuple(COCO_SIGMAS) + WHOLEBODY_FOOT_SIGMAS,
)
