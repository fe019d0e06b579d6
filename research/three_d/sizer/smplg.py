"""SMPL+G (TailorNet's SMPL4Garment, as SIZER uses it): SMPL with per-vertex garment offsets, keras.ops.

T(beta, theta) = template + shapedirs . beta + posedirs . (R(theta_1..23) - I)   (unposed, pose-corrected)
garment       = T[vert_indices] + D                                              (offsets before skinning)
joints        = J_regressor . (template + shapedirs . beta)
then linear blend skinning with the 24-joint kinematic tree (SMPL's parent array) and the translation.

The arrays are the user's: SMPL's model files are licence-gated, so nothing ships here. Convert a SMPL
.pkl outside the repo to an .npz with the keys of `ARRAY_KEYS` (J_regressor dense (24, V), shapedirs
(V, 3, n_betas), posedirs (V, 3, 207), weights (V, 24), v_template (V, 3), parents (24,), and the
garment's vert_indices (V_g,)), or build the synthetic template of synthetic.py; `SMPLG.from_arrays`
takes either. The arrays are non-trainable weights, so checkpoints and SavedModels carry them.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from official.core.base_model import ZooLayer
from official.ops.rotations import axis_angle_to_matrix

# SMPL's kinematic tree (kintree_table[0]): pelvis is the root.
SMPL_PARENTS = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)
ARRAY_KEYS = ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "vert_indices")
_ATTR = {"weights": "skinning_weights"}


class SMPLFileError(ValueError):
    """A body-model .npz that lacks a key or has a wrong shape (the message names the file and key)."""


@keras.saving.register_keras_serializable(package="eccv20zoo")
class SMPLG(ZooLayer):
    """(betas (B, n_b), pose (B, 72), trans (B, 3), offsets (B, V_g, 3)) -> {"garment", "body", "joints"}.

    garment (B, V_g, 3) and body (B, V, 3) are posed vertices, joints (B, 24, 3) posed joints.
    """

    def __init__(self, num_vertices: int, num_garment_vertices: int, num_betas: int = 10,
                 parents: tuple[int, ...] = SMPL_PARENTS, **kwargs):
        super().__init__(**kwargs)
        self.num_vertices = num_vertices
        self.num_garment_vertices = num_garment_vertices
        self.num_betas = num_betas
        self.parents = tuple(int(p) for p in parents)
        self.num_joints = len(self.parents)
        if any(p >= i for i, p in enumerate(self.parents)) or self.parents[0] != -1:
            raise ValueError(f"parents must list each joint after its parent, root first: {self.parents}")

    def build(self, input_shape=None):
        v, j = self.num_vertices, self.num_joints
        shapes = {"v_template": (v, 3), "shapedirs": (v, 3, self.num_betas), "posedirs": (v, 3, 9 * (j - 1)),
                  "J_regressor": (j, v), "weights": (v, j)}
        for key, shape in shapes.items():  # `weights` is Layer's own attribute: stored as skinning_weights
            setattr(self, _ATTR.get(key, key), self.add_weight(shape=shape, initializer="zeros", trainable=False,
                                                               name=key))
        self.vert_indices = self.add_weight(shape=(self.num_garment_vertices,), dtype="int32", initializer="zeros",
                                            trainable=False, name="vert_indices")
        self.built = True

    @classmethod
    def from_arrays(cls, arrays, where: str = "arrays", **kwargs) -> SMPLG:
        """A built layer holding `arrays` (a dict or an open .npz with ARRAY_KEYS, optional `parents`)."""
        missing = [k for k in ARRAY_KEYS if k not in arrays]
        if missing:
            raise SMPLFileError(f"{where}: missing key '{missing[0]}' (needs {', '.join(ARRAY_KEYS)})")
        v_template = np.asarray(arrays["v_template"])
        parents = tuple(np.asarray(arrays["parents"]).tolist()) if "parents" in arrays else SMPL_PARENTS
        layer = cls(v_template.shape[0], int(np.asarray(arrays["vert_indices"]).shape[0]),
                    int(np.asarray(arrays["shapedirs"]).shape[-1]), parents, **kwargs)
        layer.assign_arrays(arrays, where)
        return layer

    def assign_arrays(self, arrays, where: str = "arrays") -> None:
        """Copies the ARRAY_KEYS arrays into this layer's weights (builds it first); shapes must match."""
        if not self.built:
            self.build()
        missing = [k for k in ARRAY_KEYS if k not in arrays]
        if missing:
            raise SMPLFileError(f"{where}: missing key '{missing[0]}' (needs {', '.join(ARRAY_KEYS)})")
        for key in ARRAY_KEYS:
            var = getattr(self, _ATTR.get(key, key))
            value = np.asarray(arrays[key])
            if value.shape != tuple(var.shape):
                raise SMPLFileError(f"{where}: key '{key}' has shape {value.shape}, expected {tuple(var.shape)}")
            var.assign(value.astype(var.dtype))

    @classmethod
    def from_npz(cls, path: str, **kwargs) -> SMPLG:
        """Loads a converted SMPL (+ garment vert_indices) .npz; errors name the file and the key."""
        try:
            with np.load(path) as data:
                return cls.from_arrays({k: data[k] for k in data.files}, where=path, **kwargs)
        except (OSError, ValueError) as err:
            if isinstance(err, SMPLFileError):
                raise
            raise SMPLFileError(f"{path}: cannot read ({err})") from None

    def unposed(self, betas, pose):
        """(shaped template (B, V, 3), pose-corrected (B, V, 3), rotations (B, 24, 3, 3))."""
        batch = ops.shape(betas)[0]
        v_shaped = self.v_template[None] + ops.einsum("bl,vcl->bvc", betas, self.shapedirs)
        rots = axis_angle_to_matrix(ops.reshape(pose, (batch, self.num_joints, 3)))
        features = ops.reshape(rots[:, 1:] - ops.eye(3, dtype=rots.dtype), (batch, 9 * (self.num_joints - 1)))
        return v_shaped, v_shaped + ops.einsum("bp,vcp->bvc", features, self.posedirs), rots

    def joint_transforms(self, joints, rots):
        """World rotations (B, J, 3, 3) and translations (B, J, 3) of each joint along the tree."""
        world_r, world_t = [rots[:, 0]], [joints[:, 0]]
        for i in range(1, self.num_joints):
            p = self.parents[i]
            world_r.append(ops.matmul(world_r[p], rots[:, i]))
            world_t.append(ops.einsum("bkl,bl->bk", world_r[p], joints[:, i] - joints[:, p]) + world_t[p])
        return ops.stack(world_r, axis=1), ops.stack(world_t, axis=1)

    def skin(self, vertices, weights, world_r, world_t, joints, trans):
        """LBS: sum_j w_vj (R_j (v - J_j) + t_j) + trans, as a blended 3x3 and a blended translation."""
        offset_t = world_t - ops.einsum("bjkl,bjl->bjk", world_r, joints)  # moves rest joint j to t_j
        blend_r = ops.einsum("vj,bjkl->bvkl", weights, world_r)
        blend_t = ops.einsum("vj,bjk->bvk", weights, offset_t)
        return ops.einsum("bvkl,bvl->bvk", blend_r, vertices) + blend_t + trans[:, None, :]

    def call(self, betas, pose, trans, offsets, garment_only: bool = False):
        v_shaped, v_posed, rots = self.unposed(betas, pose)
        joints = ops.einsum("jv,bvc->bjc", self.J_regressor, v_shaped)
        world_r, world_t = self.joint_transforms(joints, rots)
        garment = ops.take(v_posed, self.vert_indices, axis=1) + offsets
        garment_weights = ops.take(self.skinning_weights, self.vert_indices, axis=0)
        out = {"garment": self.skin(garment, garment_weights, world_r, world_t, joints, trans),
               "joints": world_t + trans[:, None, :]}
        if not garment_only:  # training needs only the garment: skip skinning the whole body
            out["body"] = self.skin(v_posed, self.skinning_weights, world_r, world_t, joints, trans)
        return out
