"""Mask2CAD inference decoding in keras.ops (runs in the exported graph): CAD retrieval by cosine similarity,
rotation from bin + quaternion residual, translation from the projected-centre offset and a known depth.

Spec card `Inference`:
- shape: the image-object embedding is compared (cosine) with a constant table of CAD-view embeddings;
  only views of models of the predicted category are eligible; the best view's model id is the answer;
- rotation: argmax bin of the predicted class -> medoid quaternion, composed with the predicted residual:
  q = q_bin * normalize(delta) (rotation_bins.py has the numpy twin and the training targets);
- translation: projected centre (u, v) = box centre + offset * (box w, box h); with the depth Z given
  (the Pix3D protocol: depth is not predicted), X = (u - cx) Z / fx, Y = (v - cy) Z / fy (camera frame
  x right, y down, z forward; official/ops/camera.back_project).
Boxes are (x1, y1, x2, y2) pixels (official/ops/box_ops). K is (3, 3) or per RoI (R, 3, 3).
"""

from __future__ import annotations

import numpy as np
from keras import ops

from official.core.base_model import ZooLayer
from official.ops import camera, rotations

_NEG = -3.0  # below any cosine similarity: views of other categories never win


def _l2_normalize(x):
    return x / ops.sqrt(ops.maximum(ops.sum(x * x, axis=-1, keepdims=True), 1e-24))


def select_class(values, classes):
    """values (R, C, K), classes (R,) int -> (R, K): each RoI's rows for its (predicted) class."""
    one_hot = ops.one_hot(ops.cast(classes, "int32"), values.shape[1], dtype=values.dtype)
    return ops.sum(values * one_hot[..., None], axis=1)


def retrieve(embeddings, classes, view_embeddings, view_categories, view_models):
    """Nearest CAD view by cosine similarity inside the predicted category.

    embeddings (R, D); classes (R,) int; view_embeddings (V, D); view_categories (V,) int; view_models (V,)
    int. Returns (model_id (R,) int32, view_index (R,) int32, similarity (R,)). A RoI whose category has
    no views gets similarity -3 (and an arbitrary view); callers may threshold on it.
    """
    e = _l2_normalize(ops.convert_to_tensor(embeddings, "float32"))
    v = _l2_normalize(ops.convert_to_tensor(view_embeddings, "float32"))
    sim = ops.matmul(e, ops.transpose(v))  # (R, V) cosine similarities
    same = ops.equal(ops.cast(classes, "int32")[:, None], ops.cast(view_categories, "int32")[None, :])
    sim = ops.where(same, sim, _NEG)
    index = ops.cast(ops.argmax(sim, axis=-1), "int32")
    model = ops.take(ops.cast(view_models, "int32"), index, axis=0)
    return model, index, ops.max(sim, axis=-1)


class CADRetrieval(ZooLayer):
    """The CAD-view table as non-trainable weights (saved with the model, constant in the graph) and `retrieve`.

    view_embeddings (V, D) (L2-normalised when stored), view_categories (V,), view_models (V,), given as
    nested lists or arrays at construction (they are the config, so the layer round-trips `.keras`).
    """

    def __init__(self, view_embeddings, view_categories, view_models, **kwargs):
        super().__init__(**kwargs)
        table = np.asarray(view_embeddings, np.float32)
        table = table / np.maximum(np.linalg.norm(table, axis=-1, keepdims=True), 1e-12)
        self.table = self.add_weight(shape=table.shape, initializer="zeros", trainable=False, name="view_embeddings")
        self.table.assign(table)
        self.categories = self.add_weight(shape=(len(table),), dtype="int32", initializer="zeros", trainable=False,
                                          name="view_categories")
        self.categories.assign(np.asarray(view_categories, np.int32))
        self.models = self.add_weight(shape=(len(table),), dtype="int32", initializer="zeros", trainable=False,
                                      name="view_models")
        self.models.assign(np.asarray(view_models, np.int32))

    def call(self, embeddings, classes):
        model, index, sim = retrieve(embeddings, classes, self.table, self.categories, self.models)
        return {"model_id": model, "view_index": index, "similarity": sim}


def decode_rotation(rotation_logits, rotation_delta, classes, bins):
    """Quaternions (R, 4), w >= 0: q_bin * normalize(delta) with the argmax bin of each RoI's class.

    rotation_logits (R, C, B), rotation_delta (R, C, 4), classes (R,), bins (C, B, 4) medoid quaternions.
    """
    logits = select_class(ops.convert_to_tensor(rotation_logits, "float32"), classes)
    delta = rotations.quaternion_normalize(select_class(ops.convert_to_tensor(rotation_delta, "float32"), classes))
    bins = ops.convert_to_tensor(bins, "float32")
    flat = ops.reshape(bins, (-1, 4))
    index = ops.cast(classes, "int32") * bins.shape[1] + ops.cast(ops.argmax(logits, axis=-1), "int32")
    q_bin = ops.take(flat, index, axis=0)
    q = rotations.quaternion_multiply(q_bin, delta)
    return q * ops.where(q[:, :1] < 0, -1.0, 1.0)


def _box_centre_size(boxes):
    boxes = ops.convert_to_tensor(boxes)
    centre = (boxes[..., :2] + boxes[..., 2:]) * 0.5
    size = ops.maximum(boxes[..., 2:] - boxes[..., :2], 1e-6)
    return centre, size


def encode_centre(uv, boxes):
    """Training target: (projected 3D centre (R, 2) - box centre) / (box w, h)."""
    centre, size = _box_centre_size(boxes)
    return (ops.convert_to_tensor(uv, centre.dtype) - centre) / size


def decode_centre(offsets, boxes):
    """(u, v) (R, 2) = box centre + offset * (box w, h); the inverse of `encode_centre`."""
    centre, size = _box_centre_size(boxes)
    return centre + ops.convert_to_tensor(offsets, centre.dtype) * size


def translation_from_centre(uv, depth, intrinsics):
    """Camera-frame translation (R, 3) from the projected centre (R, 2), the known depth Z (R,) and K."""
    k = ops.convert_to_tensor(intrinsics, "float32")
    focal = ops.stack([k[..., 0, 0], k[..., 1, 1]], axis=-1)
    principal = ops.stack([k[..., 0, 2], k[..., 1, 2]], axis=-1)
    return camera.back_project(ops.cast(uv, "float32"), ops.cast(depth, "float32"), focal, principal)
