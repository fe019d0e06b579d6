"""Spec-card check 6 and the short schedule: the tiny ConvONet overfits a sphere, a box and a torus
(IoU > 0.95 on their query points), and marching cubes of a 64^3 evaluation of the decoder gives a
sphere mesh within Chamfer-L1 0.01 of the true sphere (mesh metrics: official/evaluation/mesh_metrics.py)."""

import keras
import numpy as np
import trimesh

from official.core import registry
from official.evaluation import mesh_extraction, mesh_metrics
from research.three_d.conv_onet import losses

RADIUS = 0.3


def _occupancy(kind, p):
    if kind == "sphere":
        return np.linalg.norm(p, axis=-1) < RADIUS
    if kind == "box":
        return np.all(np.abs(p) < [0.35, 0.2, 0.25], axis=-1)
    ring = np.hypot(np.linalg.norm(p[..., :2], axis=-1) - 0.3, p[..., 2])  # torus, major 0.3, minor 0.1
    return ring < 0.1


def _meshes():
    return {"sphere": trimesh.creation.icosphere(4, radius=RADIUS), "box": trimesh.creation.box((0.7, 0.4, 0.5)),
            "torus": trimesh.creation.torus(0.3, 0.1, major_sections=48, minor_sections=24)}


def _fixture(rng, n_in=512, n_query=1024):
    points, queries, occ = [], [], []
    for kind, mesh in _meshes().items():
        surface, _ = mesh.sample(n_in, return_index=True)
        points.append(surface + 0.005 * rng.normal(size=surface.shape))
        near, _ = mesh.sample(n_query // 2, return_index=True)
        q = np.concatenate([rng.uniform(-0.55, 0.55, (n_query // 2, 3)), near + 0.02 * rng.normal(size=near.shape)])
        queries.append(q)
        occ.append(_occupancy(kind, q))
    x = {"points": np.asarray(points, np.float32), "queries": np.asarray(queries, np.float32)}
    return x, np.asarray(occ, np.float32)


def test_overfit_three_shapes_and_extract_sphere():
    rng = np.random.default_rng(0)
    x, y = _fixture(rng)
    keras.utils.set_random_seed(0)
    model = registry.create_model("conv_onet_tiny")
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=losses.occupancy_loss, jit_compile=False)
    # Adam 3e-3 on three shapes is spiky (the loss jumps several-fold every few hundred steps, at a point that
    # varies with oneDNN's thread timing: one run of the earlier 300-step loop ended at IoU 0.79), so the run
    # keeps the best weights it saw and slows to 1e-3 after 250 steps. In five measured runs (seeds 0-2) IoU
    # passed 0.97 after 250 to 400 steps; two runs of this test passed in 33-37 s.
    best, best_weights = 0.0, None
    for loop in range(20):
        if loop == 10:
            model.optimizer.learning_rate.assign(1e-3)
        model.fit(x, y, batch_size=3, epochs=25, verbose=0, shuffle=False)
        iou = float(np.mean(losses.occupancy_iou(y, model(x))))
        if iou > best:
            best, best_weights = iou, model.get_weights()
        if iou > 0.97:
            break
    model.set_weights(best_weights)
    assert best > 0.95, f"best IoU {best:.3f} in {loop + 1} x 25 steps"

    feats = model.encode(x["points"][:1])

    def evaluate(points):
        return np.asarray(model.decode(feats, points[None]))[0]

    level = losses.logit(0.2)
    values = mesh_extraction.dense_values(evaluate, 64, 1.1)
    verts, faces = mesh_extraction.extract_mesh(values, level, 1.1)
    pred, normals = mesh_metrics.sample_mesh(trimesh.Trimesh(verts, faces, process=False), 20_000)
    gt, gt_normals = mesh_metrics.sample_mesh(_meshes()["sphere"], 20_000, np.random.default_rng(1))
    scores = mesh_metrics.mesh_distances(pred, normals, gt, gt_normals, thresholds=(0.01,))
    assert scores["chamfer_l1"] < 0.01, scores
    assert scores["normal_consistency"] > 0.95
