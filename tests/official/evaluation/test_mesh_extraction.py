"""Mesh extraction: marching cubes (scikit-image) on dense grids and ONet's MISE refinement."""

import numpy as np
import trimesh

from official.evaluation import mesh_extraction as me


def _sphere(radius=0.3, centre=(0.05, -0.02, 0.0)):
    return lambda p: radius - np.linalg.norm(p - np.asarray(centre), axis=-1)  # > 0 inside, like a logit


def test_dense_marching_cubes_sphere():
    """Vertices sit on the analytic sphere in world units; faces point outwards (positive volume)."""
    values = me.dense_values(_sphere(), 33)
    verts, faces = me.extract_mesh(values, 0.0)
    radius = np.linalg.norm(verts - np.array([0.05, -0.02, 0.0]), axis=1)
    assert np.abs(radius - 0.3).max() < 2e-3  # linear interpolation of a distance field: exact up to curvature
    mesh = trimesh.Trimesh(verts, faces, process=False)
    assert mesh.is_watertight
    assert abs(mesh.volume - 4 / 3 * np.pi * 0.3 ** 3) < 0.02 * 4 / 3 * np.pi * 0.3 ** 3


def test_grid_points_order_and_empty_grid():
    pts = me.grid_points(3, 1.1)
    np.testing.assert_allclose(pts[[0, 1, 3, 9]], [[-.55, -.55, -.55], [-.55, -.55, 0], [-.55, 0, -.55], [0, -.55, -.55]],
                               atol=1e-6)
    verts, faces = me.extract_mesh(np.full((4, 4, 4), -1.0), 0.0)
    assert verts.shape == (0, 3) and faces.shape == (0, 3)


def test_mise_equals_dense_near_the_surface_with_fewer_evaluations():
    """MISE 16 -> 64 (2 steps) yields the same mesh as a dense 65^3 grid, evaluating far fewer points;
    points never evaluated are filled (to_dense) and lie away from the surface."""
    f = _sphere()
    grid, evaluated = me.mise(f, 16, 2, 0.0)
    dense = me.dense_values(f, 65)
    assert grid.shape == (65, 65, 65) and evaluated < 0.15 * dense.size
    np.testing.assert_array_equal(grid >= 0, dense >= 0)
    v1, f1 = me.extract_mesh(grid, 0.0)
    v2, f2 = me.extract_mesh(dense, 0.0)
    np.testing.assert_array_equal(f1, f2)
    np.testing.assert_allclose(v1, v2, atol=1e-6)


def test_mise_subdivides_only_voxels_that_straddle_the_level():
    m = me.MISE(4, 1, threshold=0.5)
    pts = m.query()
    assert len(pts) == 5 ** 3 and pts.max() == 8 and (pts % 2 == 0).all()
    values = (pts[:, 0] >= 4).astype(float)  # a plane x = 3..4 crossing the level between grid x 2 and 4
    m.update(pts, values)
    new = m.query()
    assert len(new) and set(np.unique(new[:, 0])) <= {2, 3, 4}
    assert (new % 2 == 1).any(axis=1).all()  # only the new mid points
