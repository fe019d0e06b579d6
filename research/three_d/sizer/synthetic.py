"""A synthetic skinned template in SMPL's array layout (spec card, Data: "Fixture"), plus SIZER files.

SMPL itself is licence-gated, so tests and the small run use this stand-in with the same interfaces:
a closed tube "body" (24 around x 24 rings + 2 poles = 578 vertices, y up, metres), SMPL's 24-joint tree
placed inside it, skinning weights from inverse distance to each joint's bone (to its parent),
a 10-dim orthonormal shape basis of smooth fields scaled to ~1 cm per unit beta, small random pose
correctives (V, 3, 207) and a joint regressor of the 20 nearest vertices per joint. The "garment" is
the vertex subset between hip and neck with its submesh faces; size S/M/L/XL = 5/10/15/20 mm along
the template's vertex normals (offsets D of SMPL+G).
`write_sizer_files` writes subjects x 3 sizes in the code's SizerNet .npz layout (<class>_size.npz, the
code's file name; optionally held-out subjects in <class>_size_val.npz), the ParserNet .npz layout, the
meta files (<class>/<layer>_<res>.obj, _id.npy, _<K>_gar_order.npy) and the body model. The ParserNet
file's garment is reg's garment vertices (the clothed body is the garment over the skin); with
`parser_slide` > 0 it is instead slid that fraction of an edge around the body against `reg` (two
registrations of one scan need not share vertex positions), still a convex combination of each vertex's
K candidates, but no longer the copy identity pretraining learns.
`python -m tools.make_sizer` is its command line.
"""

from __future__ import annotations

import os

import numpy as np

from research.three_d.sizer.smplg import SMPL_PARENTS

SIZE_OFFSETS_M = (0.005, 0.010, 0.015, 0.020)  # S, M, L, XL: outward along the vertex normals
AROUND = 24  # tube vertices per ring
HIP_Y, NECK_Y = 0.90, 1.45
# rest joint positions (x left, y up, z forward) in SMPL's joint order
JOINTS = np.array([
    [0, .90, 0], [.08, .82, 0], [-.08, .82, 0], [0, 1.0, 0], [.08, .48, 0], [-.08, .48, 0], [0, 1.12, 0],
    [.08, .10, 0], [-.08, .10, 0], [0, 1.25, 0], [.08, .04, .05], [-.08, .04, .05], [0, 1.45, 0],
    [.05, 1.38, 0], [-.05, 1.38, 0], [0, 1.58, 0], [.12, 1.38, 0], [-.12, 1.38, 0], [.13, 1.15, 0],
    [-.13, 1.15, 0], [.13, .95, 0], [-.13, .95, 0], [.13, .88, 0], [-.13, .88, 0]], dtype=np.float64)


def tube_mesh(around: int = AROUND, rings: int = 24, radius: float = 0.15, bottom: float = 0.0, top: float = 1.7):
    """(vertices (rings * around + 2, 3), faces) of a closed tube with rounded ends, outward-facing."""
    ys = np.linspace(bottom + 0.04, top - 0.04, rings)
    ends = np.minimum(ys - bottom, top - ys)
    radii = radius * np.sqrt(np.clip(ends / 0.12, 0.0, 1.0)) * 0.9 + 0.1 * radius
    angles = np.linspace(0.0, 2 * np.pi, around, endpoint=False)
    ring = np.stack([np.sin(angles), np.zeros_like(angles), np.cos(angles)], axis=-1)
    verts = (ring[None] * radii[:, None, None] + ys[:, None, None] * np.array([0, 1.0, 0])).reshape(-1, 3)
    verts = np.concatenate([verts, [[0, bottom, 0], [0, top, 0]]])
    idx = np.arange(rings * around).reshape(rings, around)
    a, b = idx[:-1], np.roll(idx[:-1], -1, axis=1)
    c, d = idx[1:], np.roll(idx[1:], -1, axis=1)
    faces = np.concatenate([np.stack([a, b, c], -1).reshape(-1, 3), np.stack([b, d, c], -1).reshape(-1, 3)])
    lo, hi = rings * around, rings * around + 1
    first, last = idx[0], idx[-1]
    caps = [np.stack([np.full(around, lo), np.roll(first, -1), first], -1),
            np.stack([np.full(around, hi), last, np.roll(last, -1)], -1)]
    faces = np.concatenate([faces, *caps]).astype(np.int32)
    return verts.astype(np.float64), faces


def _bone_distances(verts, joints, parents):
    out = np.zeros((len(verts), len(joints)))
    for j, p in enumerate(parents):
        a = joints[j]
        b = joints[p] if p >= 0 else joints[j]
        ab = b - a
        t = np.clip(((verts - a) @ ab) / max(ab @ ab, 1e-12), 0.0, 1.0)
        out[:, j] = np.linalg.norm(verts - (a + t[:, None] * ab), axis=-1)
    return out


def _shape_basis(verts, num_betas, rng):
    """(V, 3, n) smooth fields (axis scalings, band bulges, twists) made orthonormal, ~1 cm / unit beta."""
    x, y, z = verts[:, 0], verts[:, 1], verts[:, 2]
    radial = np.stack([x, np.zeros_like(x), z], -1)
    fields = [radial, np.stack([0 * x, y - 0.85, 0 * z], -1), np.stack([x, 0 * x, 0 * z], -1),
              np.stack([0 * x, 0 * x, z], -1)]
    for centre in (0.5, 0.9, 1.1, 1.3, 1.5):
        fields.append(radial * np.exp(-((y - centre) / 0.12) ** 2)[:, None])
    fields.append(np.stack([z, 0 * x, -x], -1) * (y - 0.85)[:, None])
    basis = np.stack([f.reshape(-1) for f in fields[:num_betas]], -1) + 1e-3 * rng.normal(size=(3 * len(verts), num_betas))
    q, _ = np.linalg.qr(basis)
    return (q * 0.01 * np.sqrt(len(verts))).reshape(len(verts), 3, num_betas)


def make_template(seed: int = 0, num_betas: int = 10, pose_corrective_scale: float = 2e-4) -> dict:
    """The SMPL-layout arrays (+ garment vert_indices, garment_faces, faces, normals, parents)."""
    import trimesh

    rng = np.random.default_rng(seed)
    verts, faces = tube_mesh()
    dist = _bone_distances(verts, JOINTS, SMPL_PARENTS)
    weights = 1.0 / (dist + 0.02) ** 4
    weights /= weights.sum(axis=1, keepdims=True)
    nearest = np.argsort(np.linalg.norm(JOINTS[:, None] - verts[None], axis=-1), axis=1)[:, :20]
    regressor = np.zeros((len(JOINTS), len(verts)))
    for j, idx in enumerate(nearest):
        w = 1.0 / (np.linalg.norm(verts[idx] - JOINTS[j], axis=-1) + 1e-3)
        regressor[j, idx] = w / w.sum()
    mesh = trimesh.Trimesh(verts, faces, process=False)
    vert_indices = np.nonzero((verts[:, 1] > HIP_Y) & (verts[:, 1] < NECK_Y))[0].astype(np.int32)
    remap = -np.ones(len(verts), np.int64)
    remap[vert_indices] = np.arange(len(vert_indices))
    keep = np.all(remap[faces] >= 0, axis=1)
    return {
        "v_template": verts.astype(np.float32), "faces": faces,
        "shapedirs": _shape_basis(verts, num_betas, rng).astype(np.float32),
        "posedirs": (pose_corrective_scale * rng.normal(size=(len(verts), 3, 207))).astype(np.float32),
        "J_regressor": regressor.astype(np.float32), "weights": weights.astype(np.float32),
        "parents": np.array(SMPL_PARENTS, np.int32), "vert_indices": vert_indices,
        "garment_faces": remap[faces[keep]].astype(np.int32),
        "normals": np.asarray(mesh.vertex_normals, np.float32),
    }


def size_offsets(template: dict, sizes) -> np.ndarray:
    """(N, V_g, 3) SMPL+G offsets of size labels (N,) 0..3: the garment pushed out along the normals."""
    normals = template["normals"][template["vert_indices"]]
    return np.asarray(SIZE_OFFSETS_M, np.float32)[np.asarray(sizes)][:, None, None] * normals[None]


def neighbour_order(template: dict, k: int) -> np.ndarray:
    """(V_g, K) nearest template vertices of each garment vertex (first = itself): `*_gar_order.npy`."""
    from scipy.spatial import cKDTree

    verts = template["v_template"]
    _, idx = cKDTree(verts).query(verts[template["vert_indices"]], k=k)
    return idx.astype(np.int32)


def ring_successors(vert_indices: np.ndarray, around: int = AROUND) -> np.ndarray:
    """(V_g,) garment index of the next vertex around the same tube ring as each garment vertex."""
    vert_indices = np.asarray(vert_indices)
    following = vert_indices // around * around + (vert_indices % around + 1) % around
    position = {int(v): i for i, v in enumerate(vert_indices)}
    return np.array([position[int(v)] for v in following], np.int64)  # the garment holds whole rings


def slide_garment(garment: np.ndarray, vert_indices: np.ndarray, fraction: float) -> np.ndarray:
    """(N, V_g, 3) garment vertices moved `fraction` of the way to their ring successor."""
    return ((1.0 - fraction) * garment + fraction * garment[:, ring_successors(vert_indices)]).astype(np.float32)


def make_subjects(template: dict, num_subjects: int = 4, seed: int = 1, pose_scale: float = 0.15) -> dict:
    """The code's SizerNet sample layout: per subject 3 scans in 3 distinct sizes, own pose and trans.

    Returns {pose_upper0..2 (N, V_g, 3), betas0..2, pose0..2, trans0..2, size0..2 (N,), body0..2 (N, V, 3)}.
    """
    from research.three_d.sizer.smplg import SMPLG

    rng = np.random.default_rng(seed)
    layer = SMPLG.from_arrays(template)
    betas = rng.normal(0.0, 1.0, (num_subjects, template["shapedirs"].shape[-1])).astype(np.float32)
    sizes = np.stack([rng.choice(4, 3, replace=False) for _ in range(num_subjects)]).astype(np.int32)
    out = {}
    for k in range(3):
        pose = (pose_scale * rng.normal(size=(num_subjects, 72))).astype(np.float32)
        trans = (0.05 * rng.normal(size=(num_subjects, 3))).astype(np.float32)
        posed = layer(betas, pose, trans, size_offsets(template, sizes[:, k]))
        out.update({f"pose_upper{k}": np.asarray(posed["garment"]), f"betas{k}": betas, f"pose{k}": pose,
                    f"trans{k}": trans, f"size{k}": sizes[:, k], f"body{k}": np.asarray(posed["body"])})
    return out


def _names(num_subjects: int, prefix: str = "subject") -> dict[str, np.ndarray]:
    return {f"scan_name{k}": np.array([f"{prefix}{i:03d}_scan{k}" for i in range(num_subjects)]) for k in range(3)}


def write_sizer_files(root: str, num_subjects: int = 4, seed: int = 0, num_neighbours: int = 8,
                      garment_class: str = "g5", layer: str = "UpperClothes", res: str = "lres",
                      val_subjects: int = 0, parser_slide: float = 0.0) -> dict:
    """Writes root/{<class>_size.npz (the code's data file name), parser_train.npz, body_model.npz,
    <class>/<layer>_<res>{.obj,_id.npy,_<K>_gar_order.npy}} and, with val_subjects > 0, other subjects in
    <class>_size_val.npz; returns the template, the data and the paths."""
    import trimesh

    template = make_template(seed)
    data = make_subjects(template, num_subjects, seed + 1)
    os.makedirs(os.path.join(root, garment_class), exist_ok=True)
    names = _names(num_subjects)
    stem = os.path.join(root, garment_class, f"{layer}_{res}")
    paths = {"sizer": os.path.join(root, f"{garment_class}_size.npz"), "parser": os.path.join(root, "parser_train.npz"),
             "body_model": os.path.join(root, "body_model.npz"), "garment_mesh": stem + ".obj"}
    np.savez(paths["sizer"], **{k: v for k, v in data.items() if not k.startswith("body")}, **names)
    if val_subjects > 0:
        paths["sizer_val"] = os.path.join(root, f"{garment_class}_size_val.npz")
        val = make_subjects(template, val_subjects, seed + 1001)
        np.savez(paths["sizer_val"], **{k: v for k, v in val.items() if not k.startswith("body")},
                 **_names(val_subjects, "val_subject"))
    reg = data["body0"].copy()
    reg[:, template["vert_indices"]] = data["pose_upper0"]  # the clothed body: garment over the skin
    garment_reg = data["pose_upper0"]
    if parser_slide:
        garment_reg = slide_garment(garment_reg, template["vert_indices"], parser_slide)
    np.savez(paths["parser"], reg=reg, UpperClothes=garment_reg, betas=data["betas0"], pose=data["pose0"],
             trans=data["trans0"], name=names["scan_name0"])
    np.savez(paths["body_model"], **{k: template[k] for k in
                                     ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "parents",
                                      "vert_indices")})
    garment = trimesh.Trimesh(template["v_template"][template["vert_indices"]], template["garment_faces"], process=False)
    garment.export(paths["garment_mesh"])
    np.save(stem + "_id.npy", template["vert_indices"])
    np.save(f"{stem}_{num_neighbours}_gar_order.npy", neighbour_order(template, num_neighbours))
    return {"template": template, "data": data, **paths, "meta_stem": stem}
