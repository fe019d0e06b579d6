"""official/ops/mesh_ops.py against trimesh (face / vertex normals) and a scipy.sparse graph Laplacian built
from trimesh's edges_unique; plus the one JAX-backend run shared with official/ops/rotations.py."""


import numpy as np
import pytest
import scipy.sparse
import scipy.sparse.csgraph
import trimesh

from official.ops import mesh_ops


def _meshes():
    """A perturbed icosphere (degrees 5 and 6, unequal areas and angles) and a box (corners of degree 3-6)."""
    ico = trimesh.creation.icosphere(subdivisions=1)
    rng = np.random.default_rng(0)
    ico_v = ico.vertices * (1.0 + 0.2 * rng.uniform(size=(len(ico.vertices), 1)))
    box = trimesh.creation.box(extents=(1.0, 2.0, 0.5))
    return [(ico_v, ico.faces), (box.vertices * 1.0, box.faces)]


def _reference(vertices, faces):
    return trimesh.Trimesh(vertices=vertices, faces=faces, process=False)


def _area_weighted_reference(mesh):
    """Area-weighted vertex normals from trimesh's face areas, unit face normals and vertex-face incidence."""
    incidence = trimesh.geometry.index_sparse(len(mesh.vertices), mesh.faces)  # (V, F) sparse
    summed = incidence @ (mesh.area_faces[:, None] * mesh.face_normals)
    return trimesh.util.unitize(np.asarray(summed))


@pytest.mark.parametrize("which", [0, 1])
def test_face_and_vertex_normals_match_trimesh(which):
    vertices, faces = _meshes()[which]
    # a batch of two: the mesh and a rotated, scaled, shifted copy (normals rotate, nothing else changes)
    rot = trimesh.transformations.rotation_matrix(0.7, [1, 2, 3])[:3, :3]
    batch = np.stack([vertices, 1.7 * vertices @ rot.T + [0.3, -1.0, 2.0]])
    refs = [_reference(v, faces) for v in batch]
    np.testing.assert_allclose(np.asarray(mesh_ops.face_normals(batch, faces)),
                               np.stack([m.face_normals for m in refs]), atol=1e-12)  # fmt: skip
    # trimesh's own vertex normals are angle-weighted: equal to ours with weighting="angle"
    np.testing.assert_allclose(np.asarray(mesh_ops.vertex_normals(batch, faces, weighting="angle")),
                               np.stack([m.vertex_normals for m in refs]), atol=1e-12)  # fmt: skip
    area = np.asarray(mesh_ops.vertex_normals(batch, faces))
    np.testing.assert_allclose(area, np.stack([_area_weighted_reference(m) for m in refs]), atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(area, axis=-1), 1.0, atol=1e-12)
    f32 = np.asarray(mesh_ops.vertex_normals(batch.astype(np.float32), faces.astype(np.int32)))
    np.testing.assert_allclose(f32, area, atol=1e-5)


def test_area_and_angle_weighting_differ_where_they_should():
    """On the regular icosahedron every weighting agrees with trimesh; on the box corners they differ."""
    ico = trimesh.creation.icosphere(subdivisions=0)
    got = np.asarray(mesh_ops.vertex_normals(ico.vertices[None], ico.faces))[0]
    np.testing.assert_allclose(got, _reference(ico.vertices, ico.faces).vertex_normals, atol=1e-12)
    np.testing.assert_allclose(got, trimesh.util.unitize(ico.vertices), atol=1e-12)
    vertices, faces = _meshes()[1]
    area = np.asarray(mesh_ops.vertex_normals(vertices[None], faces))[0]
    angle = np.asarray(mesh_ops.vertex_normals(vertices[None], faces, weighting="angle"))[0]
    assert np.abs(area - angle).max() > 0.05
    with pytest.raises(ValueError, match="weighting"):
        mesh_ops.vertex_normals(vertices[None], faces, weighting="mean")


def test_degenerate_face_and_unused_vertex_give_zero_not_nan():
    vertices = np.array([[[0, 0, 0], [1, 0, 0], [0, 1, 0], [2, 0, 0], [5, 5, 5]]], np.float32)
    faces = np.array([[0, 1, 2], [0, 1, 3]])  # the second face is a line
    fn = np.asarray(mesh_ops.face_normals(vertices, faces))[0]
    np.testing.assert_array_equal(fn, [[0, 0, 1], [0, 0, 0]])
    vn = np.asarray(mesh_ops.vertex_normals(vertices, faces))[0]
    np.testing.assert_array_equal(vn, [[0, 0, 1], [0, 0, 1], [0, 0, 1], [0, 0, 0], [0, 0, 0]])


def test_neighbour_lists_on_a_quad():
    faces = np.array([[0, 1, 2], [0, 2, 3]])
    neighbours, mask = mesh_ops.neighbour_lists(faces, num_vertices=5, max_degree=4)
    assert neighbours.dtype == np.int32 and mask.dtype == np.float32
    np.testing.assert_array_equal(neighbours, [[1, 2, 3, 0], [0, 2, 1, 1], [0, 1, 3, 2], [0, 2, 3, 3], [4, 4, 4, 4]])
    np.testing.assert_array_equal(mask, [[1, 1, 1, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 0, 0], [0, 0, 0, 0]])
    assert mesh_ops.neighbour_lists(faces, 5)[0].shape == (5, 3)
    with pytest.raises(ValueError, match="vertex 0 has 3 neighbours > max_degree=2"):
        mesh_ops.neighbour_lists(faces, 5, max_degree=2)
    with pytest.raises(ValueError, match="outside"):
        mesh_ops.neighbour_lists(faces, 3)


def _scipy_uniform_laplacian(vertices, num_vertices, edges_unique):
    """(D^-1 A - I) v = -D^-1 (D - A) v with scipy's combinatorial graph Laplacian; isolated vertices -v."""
    rows, cols = edges_unique[:, 0], edges_unique[:, 1]
    adjacency = scipy.sparse.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(num_vertices,) * 2)
    adjacency = ((adjacency + adjacency.T) > 0).astype(np.float64)
    lap = scipy.sparse.csgraph.laplacian(adjacency.tocsr())
    degree = np.asarray(adjacency.sum(axis=1)).reshape(-1)
    inv = np.where(degree > 0, 1.0 / np.maximum(degree, 1), 0.0)
    return np.stack([-(inv[:, None] * (lap @ v)) - np.where(degree[:, None] > 0, 0.0, v) for v in vertices])


def test_uniform_laplacian_matches_scipy_graph_laplacian():
    ico_v, faces = _meshes()[0]
    # an extra isolated vertex and K = 9 > the largest degree 6: padding must not count in the mean
    rng = np.random.default_rng(1)
    batch = np.stack([np.concatenate([ico_v, [[3.0, 1.0, 2.0]]]), rng.normal(size=(len(ico_v) + 1, 3))])
    num_vertices = batch.shape[1]
    neighbours, mask = mesh_ops.neighbour_lists(faces, num_vertices, max_degree=9)
    edges = _reference(batch[0], faces).edges_unique
    ref = _scipy_uniform_laplacian(batch, num_vertices, edges)
    got = np.asarray(mesh_ops.uniform_laplacian(batch, neighbours, mask))
    np.testing.assert_allclose(got, ref, atol=1e-12)
    np.testing.assert_allclose(got[:, -1], -batch[:, -1])
    got32 = np.asarray(mesh_ops.uniform_laplacian(batch.astype(np.float32), neighbours, mask))
    np.testing.assert_allclose(got32, ref, atol=1e-5)


def test_laplacian_smoothing_loss_and_vertex_mask():
    ico_v, faces = _meshes()[0]
    batch = np.stack([ico_v, 2.0 * ico_v])
    neighbours, mask = mesh_ops.neighbour_lists(faces, len(ico_v))
    ref = _scipy_uniform_laplacian(batch, len(ico_v), _reference(ico_v, faces).edges_unique)
    loss = float(mesh_ops.laplacian_smoothing_loss(batch, neighbours, mask))
    np.testing.assert_allclose(loss, np.linalg.norm(ref, axis=-1).mean(), rtol=1e-12)
    vmask = np.ones((2, len(ico_v)))
    vmask[1, 5:] = 0.0
    per_mesh = [np.linalg.norm(ref[0], axis=-1).mean(), np.linalg.norm(ref[1, :5], axis=-1).mean()]
    got = float(mesh_ops.laplacian_smoothing_loss(batch, neighbours, mask, vertex_mask=vmask))
    np.testing.assert_allclose(got, np.mean(per_mesh), rtol=1e-12)


def test_gradients_are_finite_on_a_flat_grid():
    """A flat 3x3 grid: the centre's Laplacian is 0 (norm without a gradient) and a normal points up."""
    import tensorflow as tf

    xs, ys = np.meshgrid(np.arange(3.0), np.arange(3.0), indexing="ij")
    vertices = tf.Variable(np.stack([xs.ravel(), ys.ravel(), np.zeros(9)], -1)[None].astype(np.float32))
    faces = np.array([[i * 3 + j, (i + 1) * 3 + j, i * 3 + j + 1] for i in range(2) for j in range(2)]
                     + [[(i + 1) * 3 + j, (i + 1) * 3 + j + 1, i * 3 + j + 1] for i in range(2) for j in range(2)])
    neighbours, mask = mesh_ops.neighbour_lists(faces, 9)
    with tf.GradientTape() as tape:
        lap = mesh_ops.laplacian_smoothing_loss(vertices, neighbours, mask)
        normal_z = tf.reduce_sum(mesh_ops.vertex_normals(vertices, faces)[..., 2])
        loss = lap + normal_z
    assert np.asarray(mesh_ops.uniform_laplacian(vertices, neighbours, mask))[0, 4] == pytest.approx([0, 0, 0])
    np.testing.assert_allclose(np.asarray(mesh_ops.vertex_normals(vertices, faces))[0, :, 2], 1.0, atol=1e-6)
    assert np.all(np.isfinite(tape.gradient(loss, vertices).numpy()))


_JAX_SCRIPT = """
import numpy as np, keras, jax, trimesh
assert keras.backend.backend() == "jax"
from scipy.spatial.transform import Rotation
from official.ops import mesh_ops, rotations as rot
a, b = Rotation.random(16, random_state=0), Rotation.random(16, random_state=1)
qa, qb = a.as_quat(scalar_first=True).astype(np.float32), b.as_quat(scalar_first=True).astype(np.float32)
m = trimesh.creation.icosphere(subdivisions=1)
verts = (m.vertices * np.random.default_rng(0).uniform(0.8, 1.2, (len(m.vertices), 1)))[None].astype(np.float32)
nb, mask = mesh_ops.neighbour_lists(m.faces, len(m.vertices), max_degree=8)


def forward(qa, qb, ra, rb, v, verts):
    # every public function of rotations.py and mesh_ops.py, in one jitted graph
    return dict(
        mat=rot.quaternion_to_matrix(qa), quat=rot.matrix_to_quaternion(ra), prod=rot.quaternion_multiply(qa, qb),
        conj=rot.quaternion_conjugate(qa), unit=rot.quaternion_normalize(3.0 * qa),
        qdist=rot.quaternion_angle_distance(qa, -qb), rdist=rot.rotation_matrix_angle_distance(ra, rb),
        rodrigues=rot.axis_angle_to_matrix(v), fn=mesh_ops.face_normals(verts, m.faces),
        vn_angle=mesh_ops.vertex_normals(verts, m.faces, weighting="angle"), vn=mesh_ops.vertex_normals(verts, m.faces),
        lap=mesh_ops.uniform_laplacian(verts, nb, mask), loss=mesh_ops.laplacian_smoothing_loss(verts, nb, mask))


def grads(v, verts):
    return jax.grad(lambda x, y: rot.axis_angle_to_matrix(x).sum() + mesh_ops.laplacian_smoothing_loss(y, nb, mask)
                    + mesh_ops.vertex_normals(y, m.faces).sum(), argnums=(0, 1))(v, verts)


out = {k: np.asarray(x) for k, x in jax.jit(forward)(qa, qb, a.as_matrix().astype(np.float32),
                                                    b.as_matrix().astype(np.float32), a.as_rotvec().astype(np.float32), verts).items()}
close = lambda x, y: np.abs(x - y).max() < 1e-5  # noqa: E731
assert close(out["mat"], a.as_matrix()) and close(out["rodrigues"], a.as_matrix())
assert np.minimum(np.abs(out["quat"] - qa).max(-1), np.abs(out["quat"] + qa).max(-1)).max() < 1e-5
assert close(np.asarray(rot.quaternion_to_matrix(out["prod"])), (a * b).as_matrix())
assert close(out["conj"] * [1, -1, -1, -1], qa) and close(out["unit"], qa)
ref = (a.inv() * b).magnitude()
assert close(out["qdist"], ref) and close(out["rdist"], ref)
tm = trimesh.Trimesh(verts[0], m.faces, process=False)
assert close(out["fn"][0], tm.face_normals) and close(out["vn_angle"][0], tm.vertex_normals)
assert close(np.linalg.norm(out["vn"], axis=-1), 1.0) and (out["vn"][0] * tm.vertex_normals).sum(-1).min() > 0.99
adj = np.zeros((len(m.vertices),) * 2); e = tm.edges_unique; adj[e[:, 0], e[:, 1]] = adj[e[:, 1], e[:, 0]] = 1
assert close(out["lap"][0], adj @ verts[0] / adj.sum(1, keepdims=True) - verts[0])
assert abs(float(out["loss"]) - np.linalg.norm(out["lap"][0], axis=-1).mean()) < 1e-5
g = jax.jit(grads)(np.zeros((2, 3), np.float32), verts)
assert all(np.all(np.isfinite(np.asarray(x))) for x in g)
print("OK")
"""


@pytest.mark.jax
def test_jax_backend_rotations_and_mesh_ops():
    """The one KERAS_BACKEND=jax run for official/ops/rotations.py and mesh_ops.py: every public function in one
    jitted graph (one XLA compile, not one per function) checked against scipy / trimesh, and jitted gradients."""
    import jax  # noqa: F401  required (pyproject extra "jax"): a missing install fails, never skips

    from tests import helpers

    assert "OK" in helpers.run_in_jax_worker(_JAX_SCRIPT, timeout=120)
