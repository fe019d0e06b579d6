"""Writes the Crowd3DPose synthetic crowd (research/three_d/crowd3dpose/synthetic.py) in the pipeline's layout.

    python -m tools.make_crowd_views --out=data/crowd --cameras=3 --frames=3 --seed=0

OUT/
  calibration.json             {"cameras": [{"name", "K", "R", "t", "P", "width", "height"}]}
  homographies.json            {"C0->C1": 3x3 ground-plane homography, ...} (every ordered pair)
  C<i>/alphapose-results.json  AlphaPose result list per camera (image_id "%08d.png", id, keypoints 69, score)
  images/C<i>_%08d.png         with --images: the views rendered at --image_scale (official.data.humans3d
                               render_people: limbs as coloured capsules, one colour per person)
  annotations/person_keypoints.json   with --images: COCO person_keypoints JSON, 23 keypoints per person
                               (FEET23 order; v = 2 where the joint's pixel shows the person, else 1)
  gt_3d.json                   {"3D": {frame: {person: 69 floats}}, "P4": P_C0, "P6": P_C1, "person_of":
                               {camera: {id: person}}, "detections": {camera: {frame: [ids]}}} (metres)
Written to a temporary folder and renamed into place with a `.complete` marker; an existing complete
set is kept unless --force.
"""

from __future__ import annotations

import json
import os

import numpy as np
from absl import flags

from official.core.file_io import atomic_directory

FLAGS = flags.FLAGS


def define_flags() -> None:
    flags.DEFINE_string("out", None, "Output folder.")
    flags.DEFINE_integer("people", 12, "People in the crowd.")
    flags.DEFINE_integer("cameras", 3, "Cameras (2-4).")
    flags.DEFINE_integer("frames", 3, "Frames.")
    flags.DEFINE_float("noise", 1.0, "Gaussian pixel noise (std, px).")
    flags.DEFINE_integer("occluded", 3, "Occluded joints per view and frame (score 0.05, wrong position).")
    flags.DEFINE_integer("seed", 0, "Random seed.")
    flags.DEFINE_bool("force", False, "Rewrite an existing complete set.")
    flags.DEFINE_bool("images", False, "Also render the views and write a 23-keypoint COCO JSON (2D training).")
    flags.DEFINE_float("image_scale", 0.25, "Rendered image size / camera size (0.25: 320 x 180).")


def _dump(value, path: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f)


def write_keypoint_images(out: str, crowd, scale: float, seed: int) -> int:
    """Renders every view of every frame into OUT/images and writes OUT/annotations/person_keypoints.json."""
    from PIL import Image

    from official.data import humans3d
    from official.data.skeletons3d import COCO_FEET_23
    from research.three_d.crowd3dpose.geometry import project
    from research.three_d.crowd3dpose.keypoints import FEET23

    rng = np.random.default_rng(seed + 7)
    colors = humans3d.person_colors(rng, crowd.poses.shape[1])
    os.makedirs(os.path.join(out, "images"))
    images, annotations = [], []
    for c in crowd.cameras:
        hw = (round(c.size[1] * scale), round(c.size[0] * scale))
        for f, poses in enumerate(crowd.poses):
            uv = project(c.P, poses) * scale
            depth = 1000.0 * (poses @ c.R.T + c.t)[..., 2]  # mm, for the painter's order
            image, labels = humans3d.render_people(hw, list(uv), COCO_FEET_23, colors, depths=list(depth),
                                                   radii_px=[2.0] * len(uv), return_labels=True)
            image_id = len(images) + 1
            name = f"{c.name}_{f:08d}.png"
            Image.fromarray(image).save(os.path.join(out, "images", name))
            images.append({"id": image_id, "file_name": name, "width": hw[1], "height": hw[0]})
            for n in range(len(uv)):
                vis = 1 + humans3d.visibility(uv[n], labels, n)
                box = humans3d.person_box(uv[n], 2.0, hw)
                kps = np.concatenate([uv[n], vis[:, None]], -1)
                annotations.append({"id": len(annotations) + 1, "image_id": image_id, "category_id": 1,
                                    "bbox": np.round(box, 2).tolist(), "area": float(box[2] * box[3]), "iscrowd": 0,
                                    "keypoints": np.round(kps, 2).reshape(-1).tolist(), "num_keypoints": 23})
    os.makedirs(os.path.join(out, "annotations"))
    _dump({"images": images, "annotations": annotations,
           "categories": [{"id": 1, "name": "person", "supercategory": "person", "keypoints": list(FEET23.names),
                           "skeleton": [[a + 1, b + 1] for a, b in COCO_FEET_23.limbs]}]},
          os.path.join(out, "annotations", "person_keypoints.json"))
    return len(images)


def write_crowd_views(out: str, people: int = 12, cameras: int = 3, frames: int = 3, noise: float = 1.0,
                      occluded: int = 3, seed: int = 0, force: bool = False, images: bool = False,
                      image_scale: float = 0.25) -> bool:
    """Writes the set; returns False when a complete set is already there (and not --force)."""
    from official.core.errors import BadValueError
    from research.three_d.crowd3dpose.geometry import view_homography
    from research.three_d.crowd3dpose.synthetic import make_crowd

    if not 2 <= cameras <= 4:
        raise BadValueError(f"--cameras: expected 2-4, got {cameras}")
    if os.path.exists(os.path.join(out, ".complete")) and not force:
        print(f"crowd views already at {out}; --force rewrites")
        return False
    crowd = make_crowd(seed, people, cameras, frames, noise, occluded)
    with atomic_directory(out, f"make_crowd_views people={people} cameras={cameras} frames={frames} noise={noise} seed={seed}") as tmp:
        cams = crowd.cameras
        _dump({"cameras": [{"name": c.name, "K": c.K.tolist(), "R": c.R.tolist(), "t": c.t.tolist(), "P": c.P.tolist(),
                            "width": c.size[0], "height": c.size[1]} for c in cams]},
              os.path.join(tmp, "calibration.json"))
        _dump({f"{a.name}->{b.name}": view_homography(a.P, b.P).tolist() for a in cams for b in cams if a is not b},
              os.path.join(tmp, "homographies.json"))
        for c, records in zip(cams, crowd.detections, strict=True):
            os.makedirs(os.path.join(tmp, c.name))
            _dump([r for frame in records for r in frame], os.path.join(tmp, c.name, "alphapose-results.json"))
        gt = {
            "3D": {f"{f:08d}": {f"{n:03d}": np.round(p, 6).reshape(-1).tolist() for n, p in enumerate(poses)}
                   for f, poses in enumerate(crowd.poses)},
            "P4": cams[0].P.tolist(), "P6": cams[1].P.tolist(),
            "person_of": {c.name: {str(i): n for frame in ids for i, n in frame.items()}
                          for c, ids in zip(cams, crowd.person_of, strict=True)},
            "detections": {c.name: {f"{f:08d}": sorted(frame) for f, frame in enumerate(ids)}
                           for c, ids in zip(cams, crowd.person_of, strict=True)},
            "units": "m",
        }
        _dump(gt, os.path.join(tmp, "gt_3d.json"))
        if images:
            write_keypoint_images(tmp, crowd, image_scale, seed)
    return True


def main(argv: list[str]) -> int:
    from official.core.errors import BadValueError

    if not FLAGS.out:
        raise BadValueError("--out is required")
    if write_crowd_views(FLAGS.out, FLAGS.people, FLAGS.cameras, FLAGS.frames, FLAGS.noise, FLAGS.occluded,
                         FLAGS.seed, FLAGS.force, FLAGS.images, FLAGS.image_scale):
        print(f"wrote {FLAGS.people} people x {FLAGS.frames} frames in {FLAGS.cameras} views to {FLAGS.out}")
    return 0


if __name__ == "__main__":
    from tools import _cli

    define_flags()
    _cli.run(main, tensorflow=False)
