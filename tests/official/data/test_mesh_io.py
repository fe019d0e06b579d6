"""official/data/mesh_io.py on tiny OBJ / PLY / OFF fixtures written as plain text (and by trimesh): vertex
order and count kept, polygons fanned, padding and masks, atomic writes, and errors naming the file."""

import os

import numpy as np
import pytest
import trimesh

from official.core.errors import UserError
from official.data.mesh_io import MeshFileError, load_mesh, pad_mesh, write_mesh

# a duplicate of vertex 0 (index 5) and an unreferenced vertex (index 4): process=True would merge / drop them
VERTICES = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [5, 5, 5], [0, 0, 0], [0.5, 0.25, -2.125]],
                    np.float32)  # fmt: skip
# the quad 3-0-1-2 fanned as trimesh does ([a, b, c], [c, d, a]), then a triangle
FACES = np.array([[3, 0, 1], [1, 2, 3], [5, 1, 6]], np.int32)

OBJ = """# fixture: comments, texture and normal indices, a quad, two objects
o first
v 0 0 0
v 1 0 0
v 1 1 0
v 0 1 0
v 5 5 5
vt 0 0
vt 1 0
vt 1 1
vn 0 0 1
f 4/1/1 1/2/1 2/3/1 3/1/1
o second
v 0 0 0
v 0.5 0.25 -2.125
f 6 2 7
"""

OFF = """OFF
# fixture
7 2 0
0 0 0
1 0 0
1 1 0
0 1 0
5 5 5
0 0 0
0.5 0.25 -2.125
4 3 0 1 2
3 5 1 6
"""

PLY = """ply
format ascii 1.0
comment fixture
element vertex 7
property float x
property float y
property float z
element face 2
property list uchar int vertex_indices
end_header
0 0 0
1 0 0
1 1 0
0 1 0
5 5 5
0 0 0
0.5 0.25 -2.125
4 3 0 1 2
3 5 1 6
"""


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(path)


@pytest.mark.parametrize("name,text", [("a.obj", OBJ), ("a.off", OFF), ("a.ply", PLY), ("A.OBJ", OBJ)])
def test_plain_text_fixtures_keep_vertex_order(tmp_path, name, text):
    vertices, faces = load_mesh(_write(tmp_path, name, text))
    assert vertices.dtype == np.float32 and faces.dtype == np.int32
    np.testing.assert_array_equal(vertices, VERTICES)
    # trimesh's PLY / OFF readers list triangles before fanned quads: the same triangles, corner order kept
    np.testing.assert_array_equal(sorted(faces.tolist()), sorted(FACES.tolist()))
    if name.lower().endswith(".obj"):
        np.testing.assert_array_equal(faces, FACES)


@pytest.mark.parametrize("ext", ["obj", "ply", "off"])
def test_write_then_load_round_trip_and_trimesh_agrees(tmp_path, ext):
    mesh = trimesh.creation.icosphere(subdivisions=1)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(mesh.vertices))  # a vertex order trimesh's processing would not keep
    vertices = np.concatenate([mesh.vertices[order], [[7.0, 7.0, 7.0]]]).astype(np.float32)
    faces = np.argsort(order)[mesh.faces].astype(np.int32)
    path = write_mesh(str(tmp_path / "sub" / f"m.{ext}"), vertices, faces)
    assert os.listdir(tmp_path / "sub") == [f"m.{ext}"]  # the temp file was renamed, none left
    got_v, got_f = load_mesh(path)
    np.testing.assert_allclose(got_v, vertices, atol=1e-7)
    np.testing.assert_array_equal(got_f, faces)
    # trimesh's own binary PLY export reads back the same
    blob = trimesh.Trimesh(vertices, faces, process=False).export(file_type="ply", encoding="binary")
    got_v, got_f = load_mesh(_write(tmp_path, "bin.ply", blob))
    np.testing.assert_array_equal(got_v, vertices)
    np.testing.assert_array_equal(got_f, faces)


def test_pad_mesh_shapes_values_and_masks():
    out = pad_mesh(VERTICES, FACES, max_vertices=10, max_faces=5)
    assert out["vertices"].shape == (10, 3) and out["vertices"].dtype == np.float32
    assert out["faces"].shape == (5, 3) and out["faces"].dtype == np.int32
    np.testing.assert_array_equal(out["vertices"][:7], VERTICES)
    np.testing.assert_array_equal(out["vertices"][7:], 0.0)
    np.testing.assert_array_equal(out["faces"][:3], FACES)
    np.testing.assert_array_equal(out["faces"][3:], 0)
    np.testing.assert_array_equal(out["vertex_mask"], [1] * 7 + [0] * 3)
    np.testing.assert_array_equal(out["face_mask"], [1, 1, 1, 0, 0])
    assert out["num_vertices"] == 7 and out["num_faces"] == 3
    exact = pad_mesh(VERTICES, FACES, 7, 3)
    assert exact["vertex_mask"].all() and exact["face_mask"].all()
    with pytest.raises(UserError, match="max_vertices=6 is below the mesh's 7 vertices"):
        pad_mesh(VERTICES, FACES, 6, 5)
    with pytest.raises(UserError, match="max_faces=2"):
        pad_mesh(VERTICES, FACES, 10, 2)


def test_padding_faces_do_not_change_normals_or_neighbours():
    """Padded [0, 0, 0] faces are degenerate: the same vertex normals and edge graph as the real mesh."""
    from official.ops import mesh_ops

    out = pad_mesh(VERTICES, FACES, 9, 6)
    real = np.asarray(mesh_ops.vertex_normals(VERTICES[None], FACES))[0]
    padded = np.asarray(mesh_ops.vertex_normals(out["vertices"][None], out["faces"]))[0]
    np.testing.assert_allclose(padded[:7], real, atol=1e-7)
    nb_real, mask_real = mesh_ops.neighbour_lists(FACES, 9)
    nb_pad, mask_pad = mesh_ops.neighbour_lists(out["faces"], 9)
    np.testing.assert_array_equal(nb_pad, nb_real)
    np.testing.assert_array_equal(mask_pad, mask_real)


CORRUPT = [
    ("short.off", "OFF\n4 2 0\n0 0 0\n1 0 0\n", "unreadable OFF"),
    ("index.off", "OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 9\n", "OFF"),
    ("garbage.ply", b"garbage\x00\x01\x02", "unreadable PLY"),
    ("short.ply", PLY[: PLY.index("1 1 0")], "declares 7 vertices and 2 faces, the file holds 2 of 9 records"),
    ("lastface.ply", PLY[: PLY.index("3 5 1 6")], "holds 8 of 9 records"),  # trimesh alone reads 1 face
    ("lastface.off", OFF[: OFF.index("3 5 1 6")], "holds 8 of 9 records"),
    ("index.obj", "v 0 0 0\nv 1 0 0\nf 1 2 7\n", "OBJ"),
    ("empty.obj", "hello world\n", "faces"),
    ("points.ply", PLY.replace("element face 2\n", "element face 0\n").split("4 3 0 1 2")[0], "faces"),
]


@pytest.mark.parametrize("name,text,what", CORRUPT, ids=[c[0] for c in CORRUPT])
def test_corrupt_file_raises_user_error_naming_the_file(tmp_path, name, text, what):
    path = _write(tmp_path, name, text)
    with pytest.raises(MeshFileError, match=what) as info:
        load_mesh(path)
    assert str(info.value).startswith(path) and "\n" not in str(info.value)
    assert isinstance(info.value, UserError)


def test_missing_path_and_unknown_extension(tmp_path):
    missing = str(tmp_path / "nope.obj")
    (tmp_path / "folder.obj").mkdir()
    with pytest.raises(MeshFileError, match="no such mesh file") as info:
        load_mesh(missing)
    assert str(info.value).startswith(missing)
    with pytest.raises(MeshFileError, match="no such mesh file"):
        load_mesh(str(tmp_path / "folder.obj"))  # a folder is not a mesh file
    stl = _write(tmp_path, "m.stl", "solid x\nendsolid x\n")
    with pytest.raises(MeshFileError, match="unknown mesh extension 'stl'"):
        load_mesh(stl)
    with pytest.raises(MeshFileError, match="m.glb: unknown mesh extension"):
        write_mesh(str(tmp_path / "m.glb"), VERTICES, FACES)
