"""The top-down keypoint task on 23 keypoints (COCO-WholeBody-style person_keypoints JSON).

`official.tasks.keypoints.KeypointTask` with the FEET23 layout (keypoints.py): the zoo's COCO keypoint
reader (official/data/coco_keypoints.py) takes any K through its `spec`, the tf.data pipeline
(official/data/keypoint_input.py) flips with the spec's pairs, and the shared evaluation runs COCOeval with
the spec's 23 OKS constants. Only `source: coco` is accepted (the JSON holds the 23 keypoints per person in FEET23 order,
as COCO-WholeBody's body + foot keypoints concatenated).
"""

from __future__ import annotations

from official.core.config import ConfigError
from official.core.registry import register_task
from official.data.coco_keypoints import PersonRecords, load_coco_detections, load_coco_keypoints
from official.data.keypoint_augment import COCO_AUGMENT
from official.tasks.keypoints import KeypointTask
from research.three_d.crowd3dpose.keypoints import FEET23


@register_task("crowd3dpose_keypoints")
class Feet23KeypointTask(KeypointTask):
    """KeypointTask over FEET23 (see the module docstring)."""

    def _data(self, data):
        if data.source != "coco":
            raise ConfigError(f"data.source: crowd3dpose_keypoints reads 23-keypoint COCO JSON ('coco'), got {data.source!r}")
        return FEET23, COCO_AUGMENT

    def records(self, data, training: bool) -> PersonRecords:
        self._data(data)
        if data.detections and not training:
            threshold = data.detection_score_threshold or None
            return load_coco_detections(data.detections, data.path, data.annotations, score_threshold=threshold,
                                        spec=FEET23)
        return load_coco_keypoints(data.annotations, data.path, spec=FEET23)
