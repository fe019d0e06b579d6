"""tools/make_poses: real COCO person_keypoints format, labels that agree with the pixels (v=2 on the
figure's own part, v=1 under something else, v=0 outside), left/right by facing, determinism, CLI."""

from __future__ import annotations

import colorsys
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO

from official.data.coco_keypoints import load_coco_keypoints
from tools.make_poses import (
    KEYPOINT_PART,
    OCCLUDER,
    PARTS,
    Figure,
    image_rng,
    random_colors,
    render_figures,
    render_image,
    skeleton,
    write_poses,
)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SIZE = 96
# Written out here, not imported, so a wrong order in the tool shows up (COCO person_keypoints JSON).
NAMES = ["nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
         "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
         "right_knee", "left_ankle", "right_ankle"]
SKELETON = [[16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7], [6, 8], [7, 9],
            [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7]]
K = {n: i for i, n in enumerate(NAMES)}
# Which colour of `figure_colors` each keypoint is drawn in (eyes and nose: dark face dots).
COLOR_OF = ["face", "face", "face", "left", "right"] + ["left", "right"] * 6
OPTS = dict(max_persons=2, occlusion_fraction=0.6, back_fraction=0.3, truncate_fraction=0.3)


@pytest.fixture(scope="module")
def poses(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("poses"))
    written = write_poses(root, 40, 4, size=SIZE, seed=0, image_format="png", **OPTS)
    json_path, image_dir, counts = written["train"]
    with open(json_path) as f:
        return json.load(f), image_dir, json_path, root, counts


def _kpts(ann) -> np.ndarray:
    return np.asarray(ann["keypoints"], np.float64).reshape(17, 3)


def _pixel(c: float) -> int:
    """Index of the pixel whose centre (at integers) is nearest to coordinate c."""
    return math.floor(c + 0.5)


def _files(root: str) -> dict[str, bytes]:
    out = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            with open(os.path.join(dirpath, name), "rb") as f:
                out[os.path.relpath(os.path.join(dirpath, name), root)] = f.read()
    return out


def test_real_coco_person_keypoints_format(poses):
    data, image_dir, json_path, root, counts = poses
    assert sorted(os.listdir(os.path.join(root, "annotations"))) == [
        "person_keypoints_train.json", "person_keypoints_val.json"]
    assert len(os.listdir(os.path.join(root, "val"))) == 4
    (cat,) = data["categories"]
    assert (cat["id"], cat["name"], cat["supercategory"]) == (1, "person", "person")
    assert cat["keypoints"] == NAMES and cat["skeleton"] == SKELETON
    coco = COCO(json_path)
    assert len(coco.getImgIds()) == 40 and coco.getCatIds(catNms=["person"]) == [1]
    anns = data["annotations"]
    assert len({a["id"] for a in anns}) == len(anns) == counts["persons"]
    assert 40 < len(anns) <= 80 and {len(coco.getAnnIds(imgIds=i)) for i in coco.getImgIds()} == {1, 2}
    for img in data["images"]:
        assert (img["width"], img["height"]) == (SIZE, SIZE)
        assert os.path.isfile(os.path.join(image_dir, img["file_name"]))
    for a in anns:
        assert a["category_id"] == 1 and a["iscrowd"] == 0 and len(a["keypoints"]) == 51
        kp = _kpts(a)
        assert set(kp[:, 2]) <= {0, 1, 2}
        assert a["num_keypoints"] == int((kp[:, 2] > 0).sum()) >= 5
        assert (kp[kp[:, 2] == 0, :2] == 0).all()
        labelled = kp[kp[:, 2] > 0, :2]
        assert ((labelled >= 0) & (labelled <= SIZE - 1)).all()
        x, y, w, h = a["bbox"]
        assert w > 0 and h > 0 and 0 <= x and x + w <= SIZE and 0 <= y and y + h <= SIZE
        assert a["area"] == pytest.approx(w * h) and a["area"] > 0
        # The box holds every labelled keypoint (amodal: occluded ones too).
        assert ((labelled[:, 0] >= x) & (labelled[:, 0] <= x + w)).all()
        assert ((labelled[:, 1] >= y) & (labelled[:, 1] <= y + h)).all()
    # All three visibilities and both views occur in this small split.
    v = np.concatenate([_kpts(a)[:, 2] for a in anns])
    assert {0, 1, 2} == set(v) and (v == 2).mean() > 0.6
    assert {a["figure_view"] for a in anns} == {"front", "back"}
    # The zoo's reader takes every person, with the same keypoints.
    records = load_coco_keypoints(json_path, image_dir)
    assert len(records) == len(anns) and sum(records.skipped.values()) == 0
    np.testing.assert_allclose(records.keypoints, np.stack([_kpts(a) for a in anns]), atol=1e-4)
    np.testing.assert_allclose(records.areas, [a["area"] for a in anns], rtol=1e-6)


def test_visibility_agrees_with_the_pixels(poses):
    """v=2: the written pixel is the colour of the keypoint's own part and unlike the background;
    v=1: an occluder or another part is drawn there; v=0 (not a back-view face): outside the image."""
    data, image_dir, _, _, _ = poses
    by_image: dict[int, list] = {}
    for a in data["annotations"]:
        by_image.setdefault(a["image_id"], []).append(a)
    seen = {"v2": 0, "occluder": 0, "other_part": 0, "outside": 0}
    for index, img in enumerate(data["images"]):
        pixels = np.asarray(Image.open(os.path.join(image_dir, img["file_name"])), np.float64)
        rendered = render_image(SIZE, image_rng(0, "train", index), **OPTS)
        np.testing.assert_array_equal(rendered.pixels, pixels)  # the file is this rendering
        background = rendered.background.astype(np.float64)
        for p, a in enumerate(by_image[img["id"]]):
            for k, (x, y, v) in enumerate(_kpts(a)):
                if v == 0:
                    if a["figure_view"] == "back" and k < 3:
                        continue
                    xy = skeleton(rendered.figures[p])["keypoints"][k]
                    assert not (0 <= xy[0] <= SIZE - 1 and 0 <= xy[1] <= SIZE - 1)
                    seen["outside"] += 1
                    continue
                col, row = _pixel(x), _pixel(y)
                label = rendered.labels[row, col]
                own = 1 + p * len(PARTS) + KEYPOINT_PART[k]
                if v == 2:
                    assert label == own
                    colour = np.asarray(a["figure_colors"][COLOR_OF[k]], np.float64)
                    assert np.abs(pixels[row, col] - colour).max() <= 16, (img["file_name"], NAMES[k])
                    if COLOR_OF[k] == "face":  # a dark dot on the head disc
                        assert np.abs(colour - a["figure_colors"]["torso"]).sum() > 100
                    else:  # saturated limbs on a low-saturation texture
                        assert np.abs(pixels[row, col] - background[row, col]).sum() > 60
                    seen["v2"] += 1
                else:
                    assert label != own and label != 0
                    seen["occluder" if label == OCCLUDER else "other_part"] += 1
                    if label == OCCLUDER and COLOR_OF[k] != "face":  # grey texture, not the limb colour
                        colour = np.asarray(a["figure_colors"][COLOR_OF[k]], np.float64)
                        assert np.abs(pixels[row, col] - colour).max() > 16
    assert min(seen.values()) > 0, seen


def test_left_right_follow_the_facing(poses):
    """Front view: the person's left shoulder is on the image right; back view: on the image left. The
    left limbs are drawn in the 'left' colour, and which shade is the left one is random per person."""
    data, _, _, _, _ = poses
    for a in data["annotations"]:
        kp = _kpts(a)
        ls, rs = kp[K["left_shoulder"]], kp[K["right_shoulder"]]
        if ls[2] and rs[2]:
            assert (ls[0] > rs[0]) == (a["figure_view"] == "front"), a["id"]
        assert a["figure_colors"]["left"] != a["figure_colors"]["right"]
    # Colour does not encode the side: the left hue is +60 deg from the torso's for some persons,
    # -60 deg for others (so horizontal-flip augmentation, which swaps labels, stays consistent).
    offsets = set()
    for a in data["annotations"]:
        hue = {n: colorsys.rgb_to_hsv(*np.divide(a["figure_colors"][n], 255))[0] for n in ("torso", "left")}
        offsets.add(round(((hue["left"] - hue["torso"] + 0.5) % 1.0 - 0.5) * 6))
    assert offsets == {-1, 1}


def _raised_left_arm(view: str) -> Figure:
    return Figure(height=80.0, hip=(64.0, 72.0), rotation=0.0, lean=0.0,
                  arms=((math.pi, 0.0), (0.3, 0.0)), legs=((0.15, 0.0), (0.15, 0.0)), view=view,
                  colors=random_colors(np.random.default_rng(3)))


def test_a_raised_left_arm_is_the_left_wrist():
    """A front-view figure raising its LEFT arm straight up: the arm is drawn on the image right, above
    the left shoulder, in the left colour, and the left_wrist keypoint is at its top."""
    fig = _raised_left_arm("front")
    rendered = render_figures(128, [fig], np.random.default_rng(0))
    (person,) = rendered.persons
    kp = _kpts(person)
    assert (kp[:, 2] == 2).all()  # nothing hides anything: every joint is drawn and visible
    lw, ls, rw = kp[K["left_wrist"]], kp[K["left_shoulder"]], kp[K["right_wrist"]]
    assert lw[0] > 64 and abs(lw[0] - ls[0]) < 1 and lw[1] < ls[1] - 20  # straight up, image right
    assert rw[1] > kp[K["right_shoulder"], 1] and rw[0] < 64  # right arm hangs on the image left
    left, right = (np.asarray(fig.colors[s], float) for s in ("left", "right"))
    column = rendered.pixels[_pixel(lw[1]) + 2 : _pixel(ls[1]) - 2, _pixel(ls[0])].astype(float)
    assert np.abs(column - left).max() <= 16  # the raised arm is left-coloured all the way up
    assert np.abs(rendered.pixels[_pixel(rw[1]), _pixel(rw[0])] - right).max() <= 16
    # Seen from behind (mirrored): the same left arm is on the image left, the face unlabelled.
    back = render_figures(128, [_raised_left_arm("back")], np.random.default_rng(0))
    kb = _kpts(back.persons[0])
    assert kb[K["left_wrist"], 0] < 64 and kb[K["left_wrist"], 1] == pytest.approx(lw[1], abs=0.01)
    assert (kb[:3] == 0).all() and (kb[3:, 2] == 2).all()


def test_deterministic_for_a_seed(tmp_path):
    write_poses(str(tmp_path / "a"), 3, 2, size=64, seed=5)
    write_poses(str(tmp_path / "b"), 3, 2, size=64, seed=5)
    write_poses(str(tmp_path / "c"), 3, 2, size=64, seed=6)
    a, b, c = (_files(str(tmp_path / x)) for x in "abc")
    assert sorted(a) == sorted(c) and len(a) == 3 + 2 + 2  # no temp files left
    assert a == b
    assert all(a[name] != c[name] for name in a)
    write_poses(str(tmp_path / "d"), 2, 0, size=64, seed=5)  # image i does not depend on the count
    assert _files(str(tmp_path / "d"))["train/000000000002.jpg"] == a["train/000000000002.jpg"]


def test_cli(tmp_path):
    env = dict(os.environ, PYTHONPATH=REPO)
    out = tmp_path / "cli"
    cmd = [sys.executable, "-m", "tools.make_poses", f"--out={out}", "--train=3", "--val=1", "--size=64"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("train: 3 images") and "val: 1 images" in proc.stdout
    assert len(os.listdir(out / "train")) == 3 and len(os.listdir(out / "val")) == 1
    run = lambda args: subprocess.run(  # noqa: E731
        args, cwd=REPO, capture_output=True, text=True, env=env, timeout=60
    )
    bad = run(cmd[:-1] + ["--size=32"])
    assert bad.returncode == 2 and bad.stderr.splitlines() == [bad.stderr.strip()]
    assert bad.stderr.startswith("error: size:")
    helped = run([sys.executable, "-m", "tools.make_poses", "--help"])
    for flag in ("out", "train", "val", "size", "seed", "format", "max_persons", "min_height", "max_height",
                 "occlusion_fraction", "back_fraction", "truncate_fraction"):
        line = next(ln for ln in helped.stdout.splitlines() if ln.strip().startswith(f"--{flag}:"))
        assert len(line.split(":", 1)[1].strip()) > 10, line  # every flag has help text


@pytest.mark.parametrize("kwargs, name", [
    (dict(size=32), "size"), (dict(max_persons=0), "max_persons"),
    (dict(min_height=0.9, max_height=0.5), "min_height"),
    (dict(occlusion_fraction=1.5), "occlusion_fraction"), (dict(image_format="gif"), "image_format"),
    (dict(num_train=-1), "train"),
])
def test_bad_arguments(tmp_path, kwargs, name):
    args = dict(num_train=1, num_val=0, size=64) | kwargs
    with pytest.raises(ValueError, match=name):
        write_poses(str(tmp_path), **args)
    assert not os.listdir(tmp_path)
