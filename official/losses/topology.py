"""The matching-based topological loss (TopoGAN, Wang et al. ECCV 2020, Sec. 3): each generated image's
persistence diagram is matched to the diagram of a real image, and every generated point (b, d) is pulled
towards its matched point (or the diagonal): L = sum ||(f(c_b), f(c_d)) - target||^2, where c_b and c_d are
the point's critical pixels. The matching and the critical pixels are combinatorial (host side, numpy:
`topology_targets`); the loss gathers the pixel values with keras.ops (`topological_loss`), so the gradient
reaches the generator only through the critical pixels, as in the paper.

Which real diagram: an optimal transport plan between the generated batch and the reference diagrams
(uniform weights, cost = the diagram distance), each generated image taking the reference it sends most mass
to (the official code's LP assignment).
"""

from __future__ import annotations

import numpy as np
from keras import ops

from official.evaluation.diagram_distance import (
    optimal_transport_plan,
    wasserstein_distance,
    wasserstein_matching,
)
from official.ops.cubical_persistence import Diagram, cubical_persistence


def _finite(diagram: Diagram) -> Diagram:
    keep = diagram.death_pixel >= 0  # the essential class of dimension 0 is in every diagram: not matched
    return Diagram(diagram.birth[keep], diagram.death[keep], diagram.birth_pixel[keep], diagram.death_pixel[keep])


def generated_diagrams(images: np.ndarray, dimension: int, max_points: int) -> list[Diagram]:
    """Finite pairs of one dimension per image (images (B, H, W) or (B, H, W, 1)), most persistent first,
    at most `max_points` (the loss ignores the rest)."""
    images = np.asarray(images, dtype=np.float64)
    images = images[..., 0] if images.ndim == 4 else images
    out = []
    for image in images:
        diagram = _finite(cubical_persistence(image, (dimension,))[dimension]).sorted_by_persistence()
        out.append(Diagram(diagram.birth[:max_points], diagram.death[:max_points], diagram.birth_pixel[:max_points],
                           diagram.death_pixel[:max_points]))
    return out


def assign_references(generated: list[np.ndarray], references: list[np.ndarray]) -> np.ndarray:
    """(B,) index of the reference diagram each generated diagram is matched to (argmax of the OT plan under
    the 2-Wasserstein cost)."""
    cost = np.array([[wasserstein_distance(g, r, 2.0, 2.0) for r in references] for g in generated])
    return np.argmax(optimal_transport_plan(cost), axis=1)


def topology_targets(images, references: list[np.ndarray], dimension: int = 1, max_points: int = 64) -> dict:
    """Host side of the loss: critical pixel indices and target values, padded to `max_points`.

    images: (B, H, W[, 1]) generated images; references: finite (n_i, 2) diagrams of real images.
    Returns int32 `birth_index`, `death_index` (flat pixel indices), float32 `target_birth`, `target_death`,
    `mask` (B, max_points) and int32 `reference` (B,)."""
    diagrams = generated_diagrams(images, dimension, max_points)
    references = [np.asarray(r, dtype=np.float64).reshape(-1, 2) for r in references]
    batch = len(diagrams)
    out = {k: np.zeros((batch, max_points), np.int32) for k in ("birth_index", "death_index")}
    out.update({k: np.zeros((batch, max_points), np.float32) for k in ("target_birth", "target_death", "mask")})
    assigned = assign_references([d.points for d in diagrams], references) if references else np.zeros(batch, int)
    for i, diagram in enumerate(diagrams):
        n = len(diagram)
        target = references[assigned[i]] if references else np.zeros((0, 2))
        _, matching = wasserstein_matching(diagram.points, target, order=2.0, internal_p=2.0)
        goal = (diagram.points[:, :1] + diagram.points[:, 1:]) / 2.0 * np.ones((1, 2))  # diagonal projection
        for g, r in matching:
            if g >= 0 and r >= 0:
                goal[g] = target[r]
        out["birth_index"][i, :n] = diagram.birth_pixel
        out["death_index"][i, :n] = diagram.death_pixel
        out["target_birth"][i, :n] = goal[:, 0]
        out["target_death"][i, :n] = goal[:, 1]
        out["mask"][i, :n] = 1.0
    out["reference"] = assigned.astype(np.int32)
    return out


def topological_loss(images, targets: dict):
    """sum over images and matched points of (f(c_b) - b*)^2 + (f(c_d) - d*)^2, divided by the batch size.

    images: (B, H, W, 1) or (B, H, W) generated images (keras tensors; gradients flow to the gathered pixels)."""
    flat = ops.reshape(images, (ops.shape(images)[0], -1))
    birth = ops.take_along_axis(flat, ops.cast(targets["birth_index"], "int32"), axis=1)
    death = ops.take_along_axis(flat, ops.cast(targets["death_index"], "int32"), axis=1)
    mask = ops.cast(targets["mask"], flat.dtype)
    squared = (birth - ops.cast(targets["target_birth"], flat.dtype)) ** 2
    squared = squared + (death - ops.cast(targets["target_death"], flat.dtype)) ** 2
    return ops.sum(mask * squared) / ops.cast(ops.shape(images)[0], flat.dtype)
