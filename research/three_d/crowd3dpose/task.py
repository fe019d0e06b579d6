"""The top-down keypoint task on 23 keypoints (COCO-WholeBody-style person_keypoints JSON).

`official.tasks.keypoints.KeypointTask` with the FEET23 layout (keypoints.py): the zoo's COCO keypoint
reader (official/data/coco_keypoints.py) takes any K through its `spec`, the tf.data pipeline
(official/data/keypoint_input.py) flips with the spec's pairs, and evaluation runs COCOeval with the 23
OKS constants. Only `source: coco` is accepted (the JSON holds the 23 keypoints per person in FEET23 order,
as COCO-WholeBody's body + foot keypoints concatenated).
"""

from __future__ import annotations

from typing import Any

from official.core.config import ConfigError
from official.core.file_io import write_json
from official.core.registry import register_task
from official.data.coco_keypoints import PersonRecords, load_coco_detections, load_coco_keypoints
from official.data.keypoint_augment import COCO_AUGMENT
from official.tasks.keypoints import KeypointTask
from research.three_d.crowd3dpose.keypoints import FEET23, Feet23CocoEvaluator


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

    def _coco(self, rows: dict, complete: bool, predictions_out: str | None) -> dict[str, Any]:
        """COCOeval keypoint AP with the 23 OKS constants (the shared evaluator assumes COCO's 17)."""
        task = self.config.task
        evaluator = Feet23CocoEvaluator(self.config.eval_data.annotations)
        evaluator.add_keypoints(
            rows["image_id"], rows["keypoints"], rows["scores"], rows["score"],
            vis_thresh=task.rescore_threshold if task.rescore_threshold >= 0 else None, areas=rows["area"],
        )
        if predictions_out:
            write_json(evaluator.results, predictions_out)
        seen = sorted({int(v) for v in rows["image_id"]})
        metrics = evaluator.evaluate(image_ids=None if complete else seen)
        metrics["persons"] = float(len(rows["image_id"]))
        return metrics
