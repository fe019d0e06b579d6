"""ONet-layout reader and writer on a fixture written in the real format: 2 synsets x (sphere, cube,
torus) from trimesh, bit-packed occupancies from trimesh's `contains`, split lists, metadata.yaml, and a
rooms-style scene with points_iou_00/01 + pointcloud_00/01."""

import os

import numpy as np
import pytest
import trimesh

from official.core.errors import PathNotFoundError
from official.data import onet_shapes


def _meshes():
    return [trimesh.creation.icosphere(2, radius=0.4), trimesh.creation.box((0.6, 0.5, 0.8)),
            trimesh.creation.torus(0.3, 0.1, major_sections=16, minor_sections=8)]


@pytest.fixture(scope="module")
def onet_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("onet"))
    rng = np.random.default_rng(0)
    splits = {split: [(c, f"class{c}", m) for c in range(2) for m in _meshes()[:n]]
              for split, n in (("train", 3), ("val", 1), ("test", 1))}
    counts = onet_shapes.write_onet(root, splits, rng)
    assert counts == {"train": 6, "val": 2, "test": 2}
    return root


def test_written_files_are_onet_format(onet_root):
    """points.npz: float16 points, np.packbits occupancies that unpack (truncated) to trimesh.contains."""
    folder = os.path.join(onet_root, "90000000", "train_0000")
    with np.load(os.path.join(folder, "points.npz")) as data:
        assert data["points"].dtype == np.float16 and data["occupancies"].dtype == np.uint8
        assert data["occupancies"].shape == ((onet_shapes.NUM_POINTS + 7) // 8,)
        occ = np.unpackbits(data["occupancies"])[: len(data["points"])].astype(bool)
        points = data["points"].astype(np.float32)
    inside = np.linalg.norm(points, axis=1) < 0.39  # the icosphere (radius 0.4, faceted) away from its surface
    outside = np.linalg.norm(points, axis=1) > 0.41
    assert occ[inside].all() and not occ[outside].any() and 0.1 < occ.mean() < 0.7
    with open(os.path.join(onet_root, "90000001", "val.lst")) as f:
        assert f.read().split() == ["val_0001"]
    assert onet_shapes.class_names(onet_root) == {"90000000": "class0", "90000001": "class1"}


def test_reader_examples_and_dataset(onet_root):
    reader = onet_shapes.OnetReader(onet_root, "train", input_points=300, query_points=128, eval_points=500)
    assert len(reader) == 6 and reader.records[3].category == "90000001"
    pts, q, occ, ok = reader.example(0, seed=1, training=True)
    assert ok and pts.shape == (300, 3) and q.shape == (128, 3) and set(np.unique(occ)) <= {0.0, 1.0}
    # inputs: surface points of the r = 0.4 sphere + N(0, 0.005) noise
    radius = np.linalg.norm(pts, axis=1)
    assert abs(radius.mean() - 0.4) < 0.01 and 0.003 < radius.std() < 0.02
    # labels agree with the geometry of the queries (float16 storage + 1e-4 jitter)
    far = np.abs(np.linalg.norm(q, axis=1) - 0.4) > 0.02
    np.testing.assert_array_equal(occ[far], (np.linalg.norm(q, axis=1) < 0.4)[far])
    e1, e2 = reader.example(2, 2, training=False), reader.example(2, 2, training=False)
    assert e1[1].shape == (500, 3) and all(np.array_equal(a, b) for a, b in zip(e1, e2, strict=True))
    batch = next(iter(reader.dataset(True, 4, seed=0)))
    assert batch[0]["points"].shape == (4, 300, 3) and batch[0]["queries"].shape == (4, 128, 3)
    assert batch[1].shape == (4, 128)
    evals = list(reader.dataset(False, 4))
    assert [b[1].shape[0] for b in evals] == [4, 2]


def test_bad_record_is_skipped_and_counted(onet_root, tmp_path):
    import shutil

    root = str(tmp_path / "copy")
    shutil.copytree(onet_root, root)
    with open(os.path.join(root, "90000000", "train_0001", "points.npz"), "wb") as f:
        f.write(b"not a zip file")
    reader = onet_shapes.OnetReader(root, "train", input_points=64, query_points=32)
    assert sum(1 for _ in reader.dataset(False, 1)) == 5
    assert reader.skipped() == 1


def test_errors_name_file_and_field(onet_root, tmp_path):
    with pytest.raises(PathNotFoundError, match="no_such"):
        onet_shapes.OnetReader(str(tmp_path / "no_such"))
    with pytest.raises(PathNotFoundError, match=r"90000000/train\.lst"):
        onet_shapes.list_records(str(_strip_list(onet_root, tmp_path)), "train")
    bad = tmp_path / "bad" / "c" / "m"
    bad.mkdir(parents=True)
    (tmp_path / "bad" / "c" / "train.lst").write_text("m\n")
    np.savez(bad / "points.npz", points=np.zeros((8, 3), np.float16))
    np.savez(bad / "pointcloud.npz", points=np.zeros((8, 3)), normals=np.zeros((8, 3)))
    with pytest.raises(onet_shapes.OnetFormatError, match=r"points\.npz: no field 'occupancies'"):
        onet_shapes.OnetReader(str(tmp_path / "bad"))


def _strip_list(onet_root, tmp_path):
    import shutil

    root = tmp_path / "nolist"
    shutil.copytree(onet_root, root)
    os.remove(root / "90000000" / "train.lst")
    return root


def test_rooms_multi_files(tmp_path):
    """Rooms layout: points_iou/points_iou_0k.npz + pointcloud/pointcloud_0k.npz, one file drawn per load."""
    rng = np.random.default_rng(0)
    scene = tmp_path / "rooms_04" / "00000000"
    onet_shapes.write_model(str(scene), trimesh.creation.box((0.9, 0.3, 0.9)), rng, multi_files=2, num_points=512,
                            num_surface=512)
    (tmp_path / "rooms_04" / "train.lst").write_text("00000000\n")
    assert sorted(os.listdir(scene / "points_iou")) == ["points_iou_00.npz", "points_iou_01.npz"]
    reader = onet_shapes.OnetReader(str(tmp_path), "train", points_file="points_iou", pointcloud_file="pointcloud",
                                    multi_files=2, input_points=64, query_points=32)
    stored = [np.load(scene / "points_iou" / f"points_iou_0{k}.npz")["points"].astype(np.float32) for k in range(2)]
    drawn = {next(k for k in range(2) if np.array_equal(reader._load(0, np.random.default_rng(s), True)[0], stored[k]))
             for s in range(8)}
    assert drawn == {0, 1}  # both alternatives are drawn in training
    np.testing.assert_array_equal(reader._load(0, np.random.default_rng(0), False)[0], stored[0])  # eval: file 00
