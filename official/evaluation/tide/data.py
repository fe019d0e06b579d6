"""Ground truth or predictions for TIDE, with the same builder methods as tidecv's `Data`.

Annotations are kept as column lists while they are added (cheap appends, bulk `extend` for the JSON
loaders) and turned into numpy arrays once per evaluation by `arrays()`. Boxes are [x, y, w, h] in
pixels; masks are pycocotools RLE dicts. Image order is the order in which an image id is first seen
(by `add_image` or by an annotation): TIDE walks images in that order, which decides how equal scores
are ordered in the precision/recall curve, exactly as in tidecv.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from official.evaluation.tide.errors import TideInputError


@dataclasses.dataclass(frozen=True)
class DataArrays:
    """Column view of a `Data` (index i = the i-th added annotation)."""

    image: list[Hashable]  # raw image id per annotation
    cls: list[Any]  # raw class id per annotation (None allowed for ignore regions)
    score: np.ndarray  # (n,) float64, 1.0 for ground truth
    box: np.ndarray  # (n, 4) float64 [x, y, w, h], NaN rows where no box was given
    has_box: np.ndarray  # (n,) bool
    mask: list[Any]  # RLE dict or None per annotation
    ignore: np.ndarray  # (n,) bool, True for ignore (crowd) regions


class Data:
    """A set of ground-truth annotations or of predictions (keep the two in separate objects).

    `max_dets` is the number of highest-scoring predictions kept per image; like tidecv, TIDE reads it
    from the ground-truth object.
    """

    def __init__(self, name: str, max_dets: int = 100):
        self.name = name
        self.max_dets = int(max_dets)
        self.classes: dict[Any, str] = {}
        self.images: dict[Hashable, str] = {}
        self._image: list[Hashable] = []
        self._cls: list[Any] = []
        self._score: list[float] = []
        self._box: list[Any] = []  # boxes of `_add` calls not yet moved into `_box_blocks`
        self._box_blocks: list[np.ndarray] = []  # (k, 4) float64 blocks, NaN rows = no box
        self._mask: list[Any] = []
        self._ignore: list[bool] = []
        self._arrays: DataArrays | None = None

    def __len__(self) -> int:
        return len(self._image)

    # --- tidecv-compatible builders ----------------------------------------------------------
    def add_ground_truth(self, image_id: Hashable, class_id: Any, box: Any = None, mask: Any = None) -> None:
        """Adds one ground-truth object; it needs a box in box mode and a mask in mask mode."""
        self._add(image_id, class_id, 1.0, box, mask, False)

    def add_detection(self, image_id: Hashable, class_id: Any, score: float, box: Any = None, mask: Any = None) -> None:
        """Adds one prediction with its confidence score."""
        if not isinstance(score, (int, float, np.floating, np.integer)) or not math.isfinite(score):
            raise TideInputError(f"{self.name}: detection {len(self)} has a non-finite score {score!r}")
        self._add(image_id, class_id, float(score), box, mask, False)

    def add_ignore_region(self, image_id: Hashable, class_id: Any = None, box: Any = None, mask: Any = None) -> None:
        """Adds a region whose unmatched predictions are not counted (COCO iscrowd).

        class_id -1 matches every class; with neither box nor mask the region is the whole image.
        A region with class None matches no prediction (as in tidecv).
        """
        self._add(image_id, class_id, 1.0, box, mask, True)

    def add_class(self, id: Any, name: str) -> None:  # noqa: A002 - tidecv's argument name
        self.classes[id] = name

    def add_image(self, id: Hashable, name: str) -> None:  # noqa: A002 - tidecv's argument name
        self.images[id] = name

    def get(self, image_id: Hashable) -> list[dict[str, Any]]:
        """The annotations of one image as dicts (for inspection; evaluation never uses this)."""
        a = self.arrays()
        return [
            {"_id": i, "image": img, "class": a.cls[i], "score": float(a.score[i]),
             "bbox": a.box[i].tolist() if a.has_box[i] else None, "mask": a.mask[i], "ignore": bool(a.ignore[i])}
            for i, img in enumerate(a.image) if img == image_id
        ]

    # --- bulk loading ------------------------------------------------------------------------
    def extend(
        self,
        image_ids: Sequence[Hashable],
        class_ids: Sequence[Any],
        scores: Sequence[float] | None = None,
        boxes: np.ndarray | Sequence[Any] | None = None,
        masks: Sequence[Any] | None = None,
        ignore: Sequence[bool] | None = None,
    ) -> None:
        """Appends many annotations at once (inputs already validated by the caller).

        `boxes` is an (n, 4) array (NaN rows for "no box") or a list of boxes / None.
        """
        n = len(image_ids)
        for img in dict.fromkeys(image_ids):
            if img not in self.images:
                self.images[img] = f"Image {img}"
        for c in dict.fromkeys(class_ids):
            if c not in self.classes:
                self.classes[c] = f"Class {c}"
        self._image.extend(image_ids)
        self._cls.extend(class_ids)
        self._score.extend([1.0] * n if scores is None else scores)
        self._flush_boxes()
        if boxes is None:
            block = np.full((n, 4), np.nan)
        elif isinstance(boxes, np.ndarray):
            block = np.asarray(boxes, dtype=np.float64).reshape(n, 4)
        else:
            block = self._box_block(list(boxes))
        self._box_blocks.append(block)
        self._mask.extend([None] * n if masks is None else masks)
        self._ignore.extend([False] * n if ignore is None else ignore)
        self._arrays = None

    def _add(self, image_id: Hashable, class_id: Any, score: float, box: Any, mask: Any, ignore: bool) -> None:
        if image_id not in self.images:
            self.images[image_id] = f"Image {image_id}"
        if class_id not in self.classes:
            self.classes[class_id] = f"Class {class_id}"
        if box is not None:
            box = [float(v) for v in box]
            if len(box) != 4 or not all(math.isfinite(v) for v in box):
                raise TideInputError(f"{self.name}: annotation {len(self)} has a bad box {box!r}")
        self._image.append(image_id)
        self._cls.append(class_id)
        self._score.append(score)
        self._box.append(box)
        self._mask.append(mask)
        self._ignore.append(ignore)
        self._arrays = None

    @staticmethod
    def _box_block(boxes: list[Any]) -> np.ndarray:
        block = np.full((len(boxes), 4), np.nan)
        given = [i for i, b in enumerate(boxes) if b is not None]
        if given:
            block[given] = np.asarray([boxes[i] for i in given], dtype=np.float64).reshape(-1, 4)
        return block

    def _flush_boxes(self) -> None:
        if self._box:
            self._box_blocks.append(self._box_block(self._box))
            self._box = []

    # --- evaluation view ---------------------------------------------------------------------
    def arrays(self) -> DataArrays:
        """Numpy columns of every annotation (cached until the next add)."""
        if self._arrays is None:
            n = len(self._image)
            self._flush_boxes()
            box = np.concatenate(self._box_blocks) if self._box_blocks else np.zeros((0, 4))
            has_box = ~np.isnan(box).any(axis=1)
            self._arrays = DataArrays(
                image=self._image,
                cls=self._cls,
                score=np.asarray(self._score, dtype=np.float64).reshape(n),
                box=box,
                has_box=has_box,
                mask=self._mask,
                ignore=np.asarray(self._ignore, dtype=bool).reshape(n),
            )
        return self._arrays
