"""HMOR's hierarchical ordinal relations: labels from ground truth and the ranking losses (keras.ops).

The paper's contribution (spec card "Method"): between the people of one image, depth-order relations at
three levels supervise the predicted absolute depths:
- instance: r_ab = sign(Z_root_a - Z_root_b) for every pair of people (a, b), a != b;
- part:     r = sign(Zpart_a,p - Zpart_b,q) between the mean depths of body parts p of a and q of b;
            optionally (flag `angles`, RECONSTRUCTED) the order of part orientation cosines
            cos = (distal - proximal)_z / |distal - proximal| (the part's direction against the camera axis);
- joint:    r = sign(Z_a,i - Z_b,j) for every joint i of a and j of b (J x J per pair).
A difference within the level's tie tolerance is a tie, r = 0. People are padded to a fixed P with a
`person_mask`; relations are masked where either person (or joint) is padding, and where a = b.
Loss per relation on predictions (d_a, d_b): log(1 + exp(-r (d_a - d_b))) for r != 0, (d_a - d_b)^2 for
r = 0 (Chen et al. 2016's form; the spec card flags that HMOR uses exactly this as unverified).
Sign convention: r = +1 means a is FARTHER (larger Z); the loss is small when d_a - d_b has r's sign.

Which joints form which part is not verifiable without the paper (RECONSTRUCTED): six parts (head, torso,
left/right arm, left/right leg) chosen by joint name (PART_RULES), so every skeleton of the data gets them.
"""

from __future__ import annotations

from keras import ops

# Body parts by joint name, each listed proximal -> distal (the angle option uses the first and last
# joint present). Names are official/data/skeletons3d's (3DMPPE's).
PART_RULES = (
    ("head", ("Head", "Nose", "Head_top")),
    ("torso", ("Neck", "Thorax", "Torso", "Spine", "Pelvis")),
    ("left_arm", ("L_Shoulder", "L_Elbow", "L_Wrist", "L_Hand")),
    ("right_arm", ("R_Shoulder", "R_Elbow", "R_Wrist", "R_Hand")),
    ("left_leg", ("L_Hip", "L_Knee", "L_Ankle", "L_Toe")),
    ("right_leg", ("R_Hip", "R_Knee", "R_Ankle", "R_Toe")),
)
LEVELS = ("instance", "part", "joint", "angle")


def parts_from_names(joint_names) -> tuple[tuple[int, ...], ...]:
    """Joint-index groups of PART_RULES present in `joint_names` (parts with < 2 joints are dropped)."""
    out = []
    for _, names in PART_RULES:
        idx = tuple(joint_names.index(n) for n in names if n in joint_names)
        if len(idx) >= 2:
            out.append(idx)
    return tuple(out)


def skeleton(name: str):
    """The official/data/skeletons3d skeleton called `name` (h36m_17, muco_21, mupots_17)."""
    from official.data import skeletons3d

    known = {s.name: s for s in (skeletons3d.H36M_17, skeletons3d.MUCO_21, skeletons3d.MUPOTS_17)}
    if name not in known:
        raise ValueError(f"HMOR: skeleton must be one of {sorted(known)}, got {name!r}")
    return known[name]


def parts_for(skeleton_name: str) -> tuple[tuple[int, ...], ...]:
    """The part grouping of a named skeleton."""
    return parts_from_names(skeleton(skeleton_name).joint_names)


def part_membership(parts, num_joints: int):
    """(J, K) float matrix, column k = 1/|part k| on the joints of part k (mean over the part's joints)."""
    rows = [[0.0] * len(parts) for _ in range(num_joints)]
    for k, joints in enumerate(parts):
        for j in joints:
            rows[j][k] = 1.0 / len(joints)
    return ops.convert_to_tensor(rows, dtype="float32")


def part_depths(depth, parts, joint_mask=None):
    """(..., P, J) joint depths -> (..., P, K) part depths (mean over each part's joints; visible ones
    only when `joint_mask` is given) and the (..., P, K) part mask (a part with no visible joint is out)."""
    depth = ops.cast(depth, "float32")
    member = ops.cast(part_membership(parts, depth.shape[-1]) > 0, "float32")
    mask = ops.ones_like(depth) if joint_mask is None else ops.cast(joint_mask, "float32")
    count = ops.matmul(mask, member)
    mean = ops.matmul(depth * mask, member) / ops.maximum(count, 1.0)
    return mean, ops.cast(count > 0, "float32")


def part_cosines(joints, parts):
    """(..., P, J, 3) -> (..., P, K) cosine of each part's direction (last joint - first joint) with +z."""
    first = ops.stack([joints[..., p[0], :] for p in parts], axis=-2)
    last = ops.stack([joints[..., p[-1], :] for p in parts], axis=-2)
    d = last - first
    return d[..., 2] / ops.sqrt(ops.sum(d * d, axis=-1) + 1e-6)


def relation_labels(values, tolerance: float):
    """(..., P, M) per-person values -> (..., P, M, P, M) relations r[a, i, b, j] = sign(v_a,i - v_b,j),
    0 where |difference| <= tolerance. Antisymmetric by construction: r[a,i,b,j] = -r[b,j,a,i]."""
    v = ops.cast(values, "float32")
    diff = v[..., :, :, None, None] - v[..., None, None, :, :]
    return ops.where(ops.abs(diff) <= tolerance, 0.0, ops.sign(diff))


def pair_mask(person_mask, item_mask=None):
    """(..., P) people (+ optional (..., P, M) items) -> (..., P, M, P, M) mask of pairs of different people."""
    pm = ops.cast(person_mask, "float32")
    p = pm.shape[-1]
    if item_mask is None:
        item = pm[..., None]
    else:
        item = ops.cast(item_mask, "float32") * pm[..., None]
    other = 1.0 - ops.eye(p, dtype="float32")  # a != b
    both = item[..., :, :, None, None] * item[..., None, None, :, :]
    return both * other[:, None, :, None]


def ranking_loss(pred_a_minus_b, relation, mask):
    """Masked mean of log(1 + exp(-r d)) (r != 0) and d^2 (r = 0) over relations; 0 when none is valid."""
    d = ops.cast(pred_a_minus_b, "float32")
    r = ops.cast(relation, "float32")
    mask = ops.cast(mask, "float32")
    ordered = ops.softplus(-r * d)  # log(1 + exp(-r d)), overflow-safe
    tie = d * d
    per = ops.where(ops.equal(r, 0.0), tie, ordered)
    return ops.sum(per * mask) / ops.maximum(ops.sum(mask), 1.0)


def pairwise_ranking_loss(pred, gt, mask, person_mask, tolerance: float):
    """Ranking loss of per-person values pred (..., P, M) against labels from gt (..., P, M).

    `mask` (..., P, M) marks valid items (visible joints, parts with a visible joint); pairs run over
    people a != b and every item pair (i, j).
    """
    relation = relation_labels(gt, tolerance)
    p = ops.cast(pred, "float32")
    diff = p[..., :, :, None, None] - p[..., None, None, :, :]
    return ranking_loss(diff, relation, pair_mask(person_mask, mask))


def hierarchical_ordinal_loss(pred_joints_z, gt_joints_z, person_mask, joint_mask, root: int, parts,
                              tolerances_mm=(100.0, 100.0, 100.0), weights=(1.0, 1.0, 1.0), depth_scale=1e-3,
                              pred_joints=None, gt_joints=None, angle_weight: float = 0.0,
                              angle_tolerance: float = 0.05) -> dict:
    """The three levels (+ optional part angles) as a dict of losses and their weighted sum "ordinal".

    pred/gt_joints_z: (B, P, J) absolute camera depths in mm; predictions enter the loss in metres
    (`depth_scale`, RECONSTRUCTED: the ranking loss saturates on mm differences). Angles need the full
    (B, P, J, 3) `pred_joints` / `gt_joints` (camera mm) and `angle_weight` > 0.
    """
    pz = ops.cast(pred_joints_z, "float32") * depth_scale
    gz = ops.cast(gt_joints_z, "float32")
    jm = ops.cast(joint_mask, "float32")
    t_inst, t_part, t_joint = (float(t) for t in tolerances_mm)
    inst = pairwise_ranking_loss(pz[..., root:root + 1], gz[..., root:root + 1], jm[..., root:root + 1],
                                 person_mask, t_inst)
    gp, gmask = part_depths(gz, parts, jm)
    pp, _ = part_depths(pz, parts, jm)
    part = pairwise_ranking_loss(pp, gp, gmask, person_mask, t_part)
    joint = pairwise_ranking_loss(pz, gz, jm, person_mask, t_joint)
    w_inst, w_part, w_joint = weights
    out = {"ordinal_instance": inst, "ordinal_part": part, "ordinal_joint": joint}
    total = w_inst * inst + w_part * part + w_joint * joint
    if angle_weight > 0.0:
        if pred_joints is None or gt_joints is None:
            raise ValueError("hierarchical_ordinal_loss: part angles need pred_joints and gt_joints")
        angle = pairwise_ranking_loss(part_cosines(pred_joints, parts), part_cosines(ops.cast(gt_joints, "float32"), parts),
                                      gmask, person_mask, angle_tolerance)
        out["ordinal_angle"] = angle
        total = total + angle_weight * angle
    out["ordinal"] = total
    return out


def depth_order_accuracy(pred_root_z, gt_root_z, person_mask, tolerance: float = 0.0):
    """Share (0-1) of ordered pairs of people (GT difference > tolerance) whose predicted order agrees:
    the instance-level "ordinal accuracy" the card reports. numpy or tensors; returns (correct, total)."""
    r = relation_labels(ops.cast(gt_root_z, "float32")[..., None], tolerance)[..., 0, :, 0]
    d = ops.cast(pred_root_z, "float32")
    diff = d[..., :, None] - d[..., None, :]
    pm = ops.cast(person_mask, "float32")
    valid = pm[..., :, None] * pm[..., None, :] * ops.cast(ops.not_equal(r, 0.0), "float32")
    correct = ops.cast(ops.greater(r * diff, 0.0), "float32") * valid
    return ops.sum(correct), ops.sum(valid)
