"""tools.make_humans3d: atomic, deterministic sets that the layouts' readers load."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from official.core.errors import BadValueError
from official.data import human36m, mppe3d
from tools.make_humans3d import write_humans3d

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _files(root):
    out = {}
    for folder, _, names in os.walk(root):
        for name in names:
            with open(os.path.join(folder, name), "rb") as f:
                out[os.path.relpath(os.path.join(folder, name), root)] = f.read()
    return out


def test_mppe3d_set_is_deterministic_and_atomic(tmp_path):
    kwargs = dict(images=2, test_images=1, image_size=64, skeleton="mupots_17", people=(3, 3), depth_mm=(3000.0, 4000.0))
    a, b, c = (str(tmp_path / x) for x in "abc")
    assert write_humans3d("mppe3d", a, seed=3, **kwargs) == {"train": 2, "test": 1}
    write_humans3d("mppe3d", b, seed=3, **kwargs)
    write_humans3d("mppe3d", c, seed=4, **kwargs)
    fa, fb, fc = _files(a), _files(b), _files(c)
    assert fa == fb and fa.keys() == fc.keys() and fa["annotations/train.json"] != fc["annotations/train.json"]
    assert sorted(fa) == [".complete", "annotations/test.json", "annotations/train.json",
                          "images/test/000000.jpg", "images/train/000000.jpg", "images/train/000001.jpg"]
    assert sorted(os.listdir(tmp_path)) == ["a", "b", "c"]  # no temporary folders left
    records = mppe3d.load_mppe3d(os.path.join(a, "annotations", "train.json"), os.path.join(a, "images"))
    assert len(records) == 2 and records.num_joints == 17 and sum(records.skipped.values()) == 0
    assert records.num_people.tolist() == [3, 3]
    roots = records.people["keypoints_cam"][:, :3, 14, 2]  # the 3 people; padding rows are zero
    assert 3000 <= roots.min() and roots.max() <= 4000
    assert write_humans3d("mppe3d", a, seed=5, **kwargs) == {}  # complete: kept without force
    assert _files(a) == fa
    write_humans3d("mppe3d", a, force=True, seed=4, **kwargs)
    assert _files(a) == fc


def test_h36m_set(tmp_path):
    out = str(tmp_path / "h36m")
    assert write_humans3d("h36m", out, subjects=(9,), frames=2, frame_step=64, image_size=32) == {"S9": 16}
    records = human36m.load_human36m(out, [9], sampling=64)
    assert len(records) == 16 and sorted(set(records.metadata["frame_idx"].tolist())) == [0, 64]


@pytest.mark.parametrize("kwargs, name", [
    (dict(layout="coco"), "layout"), (dict(image_size=16), "image_size"), (dict(images=-1), "images"),
    (dict(skeleton="h36m"), "skeleton"), (dict(people=(3, 2)), "people"), (dict(depth_mm=(0.0, 10.0)), "depth_mm"),
])
def test_bad_arguments_name_the_flag(tmp_path, kwargs, name):
    args = dict(layout="mppe3d", images=1, test_images=0, image_size=64, skeleton="muco_21") | kwargs
    layout = args.pop("layout")
    with pytest.raises(BadValueError, match=f"^{name}:"):
        write_humans3d(layout, str(tmp_path / "x"), **args)
    assert not os.listdir(tmp_path)


def test_cli(tmp_path):
    out = tmp_path / "cli"
    env = dict(os.environ, PYTHONPATH=REPO)
    cmd = [sys.executable, "-m", "tools.make_humans3d", "--layout=mppe3d", f"--out={out}", "--images=2",
           "--test_images=0", "--image_size=48",
           "--people=1,2", "--depth_mm=3000,5000"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "train: 2/2 images" in proc.stdout and proc.stdout.strip().splitlines()[-1].startswith(
        f"wrote mppe3d to {out}: {{'train': 2, 'test': 0}}")
    assert (out / ".complete").exists() and len(os.listdir(out / "images" / "train")) == 2
    # (A bad value is a BadValueError naming the flag, test_bad_arguments_name_the_flag; tools/_cli.py
    # prints a UserError as one `error:` line, tests/tools/test_cli_errors.py.)
