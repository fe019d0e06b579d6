"""official/data/point_completion.py: PCD (ASCII / binary, byte layout of the PCD v0.7 spec), Completion3D
HDF5, the PCN and Completion3D layouts as tools.make_shapes3d writes them, resampling, bad records counted
and skipped, one-line errors naming the file and the field (SoftPoolNet card check 7)."""

from __future__ import annotations

import os
import struct

import h5py
import numpy as np
import pytest

from official.core.errors import UserError
from official.data import point_completion as pc
from official.data.image_decode import SkipCounter


def _cloud(n=5, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 3)).astype(np.float32)


def test_binary_pcd_bytes_follow_the_spec(tmp_path):
    pts = _cloud()
    path = str(tmp_path / "a.pcd")
    pc.write_pcd(path, pts, binary=True)
    raw = open(path, "rb").read()
    head, _, body = raw.partition(b"DATA binary\n")
    lines = head.decode().splitlines()
    # PCD v0.7 header entries, in the spec's order
    assert [ln.split()[0] for ln in lines if not ln.startswith("#")] == [
        "VERSION", "FIELDS", "SIZE", "TYPE", "COUNT", "WIDTH", "HEIGHT", "VIEWPOINT", "POINTS"]
    assert "FIELDS x y z" in lines and "POINTS 5" in lines and "WIDTH 5" in lines
    # binary data: little-endian float32 x y z per point, nothing else
    assert len(body) == 5 * 12
    assert struct.unpack("<15f", body) == tuple(float(v) for v in pts.ravel())
    np.testing.assert_array_equal(pc.read_pcd(path), pts)


def test_ascii_pcd_round_trip_and_extra_fields(tmp_path):
    pts = _cloud(7)
    path = str(tmp_path / "a.pcd")
    pc.write_pcd(path, pts)
    np.testing.assert_array_equal(pc.read_pcd(path), pts)  # 9 significant digits: float32 exactly
    # a hand-written file with rgb and normals before xyz, both ASCII and binary (PCL writes such files)
    header = ("VERSION 0.7\nFIELDS rgb x y z normal\nSIZE 4 4 4 4 4\nTYPE U F F F F\nCOUNT 1 1 1 1 3\n"
              "WIDTH 2\nHEIGHT 1\nPOINTS 2\nDATA {}\n")
    with open(tmp_path / "b.pcd", "w") as f:
        f.write(header.format("ascii") + "7 1 2 3 0 0 1\n8 4 5 6 0 1 0\n")
    np.testing.assert_array_equal(pc.read_pcd(str(tmp_path / "b.pcd")), [[1, 2, 3], [4, 5, 6]])
    rows = struct.pack("<I3f3f", 7, 1, 2, 3, 0, 0, 1) + struct.pack("<I3f3f", 8, 4, 5, 6, 0, 1, 0)
    with open(tmp_path / "c.pcd", "wb") as f:
        f.write(header.format("binary").encode() + rows)
    np.testing.assert_array_equal(pc.read_pcd(str(tmp_path / "c.pcd")), [[1, 2, 3], [4, 5, 6]])


def test_errors_name_the_file_and_the_field(tmp_path):
    bad = tmp_path / "bad.pcd"
    bad.write_text("VERSION 0.7\nFIELDS x y\nSIZE 4 4\nTYPE F F\nPOINTS 1\nDATA ascii\n1 2\n")
    with pytest.raises(UserError, match=r"bad.pcd: FIELDS: no z field"):
        pc.read_pcd(str(bad))
    bad.write_text("VERSION 0.7\nFIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nPOINTS 3\nDATA ascii\n1 2 3\n")
    with pytest.raises(UserError, match=r"bad.pcd: POINTS: header says 3 points"):
        pc.read_pcd(str(bad))
    bad.write_text("VERSION 0.7\nFIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nPOINTS 1\nDATA binary_compressed\n")
    with pytest.raises(UserError, match=r"bad.pcd: DATA: unsupported mode"):
        pc.read_pcd(str(bad))
    with h5py.File(tmp_path / "x.h5", "w") as f:
        f.create_dataset("points", data=np.zeros((4, 3)))
    with pytest.raises(UserError, match=r"x.h5: data: no such dataset"):
        pc.read_h5_points(str(tmp_path / "x.h5"))
    with pytest.raises(UserError, match=r"nowhere: no such dataset folder"):
        pc.list_examples("pcn", str(tmp_path / "nowhere"), "train")
    with pytest.raises(UserError, match=r"test.list: list file"):
        pc.list_examples("completion3d", str(tmp_path), "test")


def test_resample_subsets_or_repeats():
    pts = _cloud(10)
    rng = np.random.default_rng(0)
    sub = pc.resample(pts, 4, rng)
    assert len({tuple(p) for p in sub}) == 4 and all(any((p == q).all() for q in pts) for p in sub)
    up = pc.resample(pts, 25, rng)
    assert up.shape == (25, 3) and {tuple(p) for p in up} == {tuple(p) for p in pts}  # every point kept


def test_completion3d_layout_reads_back_and_skips_bad_records(tmp_path):
    from tools.make_shapes3d import write_shapes3d

    root = str(tmp_path / "c3d")
    counts = write_shapes3d("completion3d", root, per_class=1, test_per_class=1, classes=("sphere", "box"))
    assert counts == {"train": 2, "val": 2, "test": 2}
    examples = pc.list_examples("completion3d", root, "train")
    partial, gt = (pc.read_h5_points(p) for p in (examples[0].partial, examples[0].complete))
    assert partial.shape == gt.shape == (2048, 3)
    assert np.abs(gt).max() <= 0.5 + 1e-5  # the unit-box frame of shapes3d
    # one broken gt file + one missing partial: counted, skipped, the rest read
    with open(examples[1].complete, "wb") as f:
        f.write(b"not hdf5")
    with open(os.path.join(root, "train.list"), "a") as f:
        f.write("00000000/missing\n")
    skipped = SkipCounter("t")
    ds = pc.completion_dataset("completion3d", root, "train", 256, 2048, training=False, skipped=skipped)
    got = list(ds.as_numpy_iterator())
    assert len(got) == 1 and skipped.count == 2
    p, c = got[0]
    assert p.shape == (256, 3) and c.shape == (2048, 3)
    np.testing.assert_array_equal(c, gt)  # gt of the stored size is passed through unchanged
    assert all(any((q == r).all() for r in partial) for q in p[:16])  # the partial is a subset of the file's


def test_pcn_layout_views_and_complete(tmp_path):
    from tools.make_shapes3d import write_shapes3d

    root = str(tmp_path / "pcn")
    write_shapes3d("pcn", root, per_class=1, test_per_class=1, classes=("cone",))
    examples = pc.list_examples("pcn", root, "train")
    assert [e.name for e in examples] == ["00000000/shape0000/00", "00000000/shape0000/01"]
    complete = pc.read_pcd(examples[0].complete)
    assert complete.shape == (pc.PCN_COMPLETE_POINTS, 3)
    assert open(examples[0].complete, "rb").read().count(b"DATA binary") == 1
    assert open(examples[0].partial, "rb").read().count(b"DATA ascii") == 1
    a, b = (pc.read_pcd(e.partial) for e in examples)
    assert a.shape == b.shape == (1500, 3) and not np.array_equal(a, b)  # two different views
    ds = pc.completion_dataset("pcn", root, "train", 512, 1024, training=True, seed=0)
    p, c = next(iter(ds))
    assert p.shape == (512, 3) and c.shape == (1024, 3)
