"""ParserNet that owns its two-stage training objective (train_parser.py), keras.ops only.

The `sizer_parser` Task builds it in place of the registered ParserNet variant (same layers, so the
checkpoint holds the network and its candidate table only) and hands it the objective with
`set_objective`: the identity one-hots (V, K) of stage 1, the garment template's face neighbour lists
(Laplacian), the switch step and the term weights. `compute_loss` reads the optimizer's step, so a
resumed run resumes in its stage; each term is logged beside `loss` (identity, chamfer, laplacian, local,
and stage = 1 or 2), whichever stage is trained.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
from keras.src.losses import loss as loss_module  # Keras' distribution scaling of losses

from research.three_d.sizer import losses
from research.three_d.sizer.model import ParserNet

LOSS_TERMS = ("identity", "chamfer", "laplacian", "local", "stage")


@dataclasses.dataclass(frozen=True)
class ParserObjective:
    identity: np.ndarray  # (V, K) float32 one-hot of each output vertex's own template vertex
    face_neighbours: np.ndarray  # (V, D) int32 neighbour lists of the garment template's faces
    face_mask: np.ndarray  # (V, D) float32, 1 where a neighbour is real
    identity_steps: int  # steps 0 .. identity_steps - 1 train the identity L1
    laplacian_weight: float = losses.LAPLACIAN_WEIGHT
    local_weight: float = losses.LOCAL_WEIGHT


@keras.saving.register_keras_serializable(package="eccv20zoo")
class StagedParserNet(ParserNet):
    """ParserNet + `compute_loss` = losses.staged_parser_loss on (reg, {"vertices": garment}) batches."""

    def set_objective(self, objective: ParserObjective) -> None:
        """Sets the objective and creates its term trackers (call inside the strategy scope, before fit)."""
        object.__setattr__(self, "_objective", objective)  # plain data: kept out of Keras' tracking
        object.__setattr__(self, "_term_trackers", [keras.metrics.Mean(name=n) for n in LOSS_TERMS])

    @property
    def metrics(self):
        return [*super().metrics, *getattr(self, "_term_trackers", [])]

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        objective = getattr(self, "_objective", None)
        if objective is None or not isinstance(y, dict) or "vertices" not in y:
            return super().compute_loss(x, y, y_pred, sample_weight, training)
        terms = losses.staged_parser_loss(
            self.optimizer.iterations, objective.identity_steps, y_pred["vertices"], y["vertices"],
            y_pred["weights"], x, self.get_layer("gather").neighbours, objective.identity,
            objective.face_neighbours, objective.face_mask, objective.laplacian_weight, objective.local_weight)
        for tracker in self._term_trackers:
            tracker.update_state(terms[tracker.name])
        total = terms["total"]
        for extra in self.losses:
            total = total + extra
        # per-replica share: replicas' gradients are summed, and Keras' tracker unscales `loss` again
        return loss_module.scale_loss_for_distribution(total)
