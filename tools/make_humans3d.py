"""Writes synthetic people (official/data/humans3d.py) in a real 3D human pose dataset's on-disk layout.

    python -m tools.make_humans3d --layout=mppe3d --out=data/humans3d --images=200 --test_images=50
    python -m tools.make_humans3d --layout=h36m --out=data/h36m_synth --image_size=256

Layouts (each writer lives beside its reader in official/data/):
- mppe3d: the 3DMPPE / RootNet JSON of MuCo-3DHP and MuPoTS-3D (official/data/mppe3d.py):
  OUT/images/{train,test}/NNNNNN.jpg and OUT/annotations/{train,test}.json; --skeleton joints
  (default muco_21), 2-4 people per image at 2-8 m, f = 1500 px for 512 x 512 (scaled with --image_size).
- h36m: the per-subject Human3.6M layout of 3DMPPE (official/data/human36m.py): OUT/images/
  s_XX_act_YY_subact_ZZ_ca_WW/*.jpg and OUT/annotations/Human36M_subjectX_{data,camera,joint_3d}.json;
  H36M_17 joints, one person seen by 4 cameras (f = 1145 px, c = (500, 500) for 1000 x 1000, scaled
  with --image_size), --subjects x 1 action x 2 subactions x --frames frames.
Every image is drawn from its own generator seeded by (--seed, split, index), so a seed gives identical
files. The CLI computes with Keras' numpy backend (unless KERAS_BACKEND is set): no TensorFlow start-up. The set is written to a temporary folder and renamed into place, with a `.complete` marker; an
existing complete set is kept unless --force.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
from absl import flags

from official.core.errors import BadValueError
from official.core.file_io import atomic_directory
from official.data import humans3d, skeletons3d
from tools import _cli

FLAGS = flags.FLAGS
LAYOUTS = ("mppe3d", "h36m")
_SPLITS = ("train", "test")


def define_flags() -> None:
    flags.DEFINE_enum("layout", None, list(LAYOUTS), "On-disk layout to write (mppe3d: MuCo/MuPoTS JSON; "
                      "h36m: Human3.6M per-subject JSON of 3DMPPE).")
    flags.DEFINE_string("out", None, "Output folder (written atomically; holds a .complete marker when done).")
    flags.DEFINE_integer("images", 200, "mppe3d: training images (2-4 people each).")
    flags.DEFINE_integer("test_images", 50, "mppe3d: test images.")
    flags.DEFINE_integer("image_size", None, "Image height and width in pixels (default 512 for mppe3d, 1000 for "
                         "h36m); the focal length scales with it.")
    flags.DEFINE_string("skeleton", None, "Joint order, one of skeletons3d.SKELETONS (default muco_21 for "
                        "mppe3d; h36m is always h36m_17).")
    flags.DEFINE_list("people", ["2", "4"], "mppe3d: min,max people per image (HMOR card: 2-4).")
    flags.DEFINE_list("depth_mm", ["2000", "8000"], "mppe3d: min,max root depth in mm (HMOR card: 2-8 m).")
    flags.DEFINE_list("subjects", ["1", "5", "9", "11"], "h36m: subject numbers to write (protocol "
                      "train subjects 1, 5, 6, 7, 8; test 9, 11).")
    flags.DEFINE_integer("frames", 8, "h36m: frames per subaction (frame_idx = 0, frame_step, ...).")
    flags.DEFINE_integer("frame_step", 32, "h36m: frame_idx step between written frames (every-64th-frame "
                         "test sampling then keeps every other one).")
    flags.DEFINE_integer("seed", 0, "Random seed (poses, cameras, colours).")
    flags.DEFINE_bool("force", False, "Rewrite the set even if OUT already holds a complete one.")


def _progress(done: int, total: int, start: float, what: str) -> None:
    if done == total or done % max(1, total // 10) == 0:
        print(f"  {what}: {done}/{total} images, {time.time() - start:.1f} s", flush=True)


def write_mppe3d_set(out: str, images: int = 200, test_images: int = 50, image_size: int = 512,
                     skeleton: str = "muco_21", people: tuple[int, int] = (2, 4),
                     depth_mm: tuple[float, float] = (2000.0, 8000.0), seed: int = 0) -> dict[str, int]:
    """Writes train and test splits of `humans3d.scene` images into `out` (module docstring)."""
    from official.data.mppe3d import write_mppe3d

    skel = skeletons3d.get_skeleton(skeleton)
    counts = {}
    for split_index, (split, count) in enumerate(zip(_SPLITS, (images, test_images), strict=True)):
        start, scenes = time.time(), []
        for i in range(count):
            rng = np.random.default_rng([seed, split_index, i])
            scenes.append(humans3d.scene(rng, skel, tuple(people), tuple(depth_mm), (image_size, image_size)))
            _progress(i + 1, count, start, split)
        write_mppe3d(out, split, scenes)
        counts[split] = count
    return counts


def write_h36m_set(out: str, subjects: tuple[int, ...] = (1, 5, 9, 11), frames: int = 8, frame_step: int = 32,
                   image_size: int = 1000, seed: int = 0) -> dict[str, int]:
    """Writes the Human3.6M layout (official/data/human36m.py) for `subjects`."""
    from official.data.human36m import synthetic_subject, write_human36m

    counts = {}
    for subject in subjects:
        start = time.time()
        data = synthetic_subject(np.random.default_rng([seed, 100 + subject]), subject, frames=frames,
                                 frame_step=frame_step, image_size=image_size)
        counts[f"S{subject}"] = write_human36m(out, subject, data)
        _progress(counts[f"S{subject}"], counts[f"S{subject}"], start, f"S{subject}")
    return counts


def _check(name: str, ok: bool, message: str) -> None:
    if not ok:
        raise BadValueError(f"{name}: {message}")


def write_humans3d(layout: str, out: str, force: bool = False, **kwargs: Any) -> dict[str, int]:
    """Writes the set atomically (temp folder renamed when complete); {} when a complete set exists."""
    _check("layout", layout in LAYOUTS, f"expected one of {LAYOUTS}, got {layout!r}")
    for key, least in (("images", 0), ("test_images", 0), ("frames", 1), ("frame_step", 1)):
        if key in kwargs:
            _check(key, kwargs[key] >= least, f"expected >= {least}, got {kwargs[key]}")
    if "people" in kwargs:
        lo, hi = kwargs["people"]
        _check("people", 1 <= lo <= hi, f"expected 1 <= min <= max, got {lo},{hi}")
    if "depth_mm" in kwargs:
        lo, hi = kwargs["depth_mm"]
        _check("depth_mm", 0 < lo <= hi, f"expected 0 < min <= max, got {lo},{hi}")
    if "subjects" in kwargs:
        _check("subjects", all(s >= 1 for s in kwargs["subjects"]), f"expected positive numbers, got {kwargs['subjects']}")
    if "image_size" in kwargs:
        _check("image_size", 32 <= kwargs["image_size"] <= 4096, f"expected 32..4096, got {kwargs['image_size']}")
    if "skeleton" in kwargs:
        _check("skeleton", kwargs["skeleton"] in skeletons3d.SKELETONS,
               f"expected one of {sorted(skeletons3d.SKELETONS)}, got {kwargs['skeleton']!r}")
    marker = os.path.join(out, ".complete")
    if os.path.exists(marker) and not force:
        print(f"{layout} set already at {out}; --force rewrites")
        return {}
    with atomic_directory(out, f"make_humans3d layout={layout} {' '.join(f'{k}={v}' for k, v in sorted(kwargs.items()))}") as tmp:
        write = write_mppe3d_set if layout == "mppe3d" else write_h36m_set
        counts = write(tmp, **kwargs)
    return counts


def _pair(name: str, values: list[str], kind: type) -> tuple[Any, Any]:
    """A two-item list flag (min,max) as numbers; BadValueError naming the flag otherwise."""
    try:
        lo, hi = (kind(v) for v in values)
    except ValueError:
        raise BadValueError(f"{name}: expected two numbers min,max, got {','.join(values)}") from None
    return lo, hi


def main(argv: list[str]) -> None:
    del argv
    if not FLAGS.layout or not FLAGS.out:
        _cli.fail("make_humans3d: --layout and --out are required")
    if FLAGS.layout == "mppe3d":
        kwargs: dict[str, Any] = dict(images=FLAGS.images, test_images=FLAGS.test_images,
                                      image_size=FLAGS.image_size or 512, skeleton=FLAGS.skeleton or "muco_21",
                                      people=_pair("people", FLAGS.people, int),
                                      depth_mm=_pair("depth_mm", FLAGS.depth_mm, float))
    else:
        try:
            subjects = tuple(int(s) for s in FLAGS.subjects)
        except ValueError:
            raise BadValueError(f"subjects: expected subject numbers, got {FLAGS.subjects}") from None
        kwargs = dict(subjects=subjects, frames=FLAGS.frames, frame_step=FLAGS.frame_step,
                      image_size=FLAGS.image_size or 1000)
    start = time.time()
    counts = write_humans3d(FLAGS.layout, FLAGS.out, FLAGS.force, seed=FLAGS.seed, **kwargs)
    if counts:
        print(f"wrote {FLAGS.layout} to {FLAGS.out}: {counts} in {time.time() - start:.1f} s")


if __name__ == "__main__":
    # The generator is numpy; keras' numpy backend runs official.ops.camera without loading TensorFlow
    # (set here, not at import, so a process that imports this module keeps its backend).
    os.environ.setdefault("KERAS_BACKEND", "numpy")
    define_flags()
    _cli.run(main, tensorflow=False)
