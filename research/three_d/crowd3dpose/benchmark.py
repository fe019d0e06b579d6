"""Matching benchmark on the synthetic crowd: feet homography graph vs the epipolar baseline.

    python -m research.three_d.crowd3dpose.benchmark --people=12,20 --noise=1,3 --frames=5 --repeats=20

Per crowd size and pixel noise: matching accuracy (fraction of people of the reference view paired with
the right person in each other view) and the matching stage's time per frame (median over repeats), for
both cost functions on the same detections. numpy/scipy only.
"""

from __future__ import annotations

import time

import numpy as np
from absl import app, flags

from research.three_d.crowd3dpose.geometry import fundamental_matrix, view_homography
from research.three_d.crowd3dpose.matching import match_epipolar, match_feet
from research.three_d.crowd3dpose.synthetic import IMAGE_SIZE, make_crowd

flags.DEFINE_list("people", ["12", "20"], "Crowd sizes.")
flags.DEFINE_list("noise", ["1", "3"], "Pixel noise std.")
flags.DEFINE_integer("frames", 5, "Frames per crowd.")
flags.DEFINE_integer("repeats", 20, "Timing repeats per frame.")
flags.DEFINE_integer("seed", 0, "Random seed.")
flags.DEFINE_list("azimuths", ["0", "100", "210"], "Camera azimuths in degrees (view 0 is the reference).")
FLAGS = flags.FLAGS


def _view(crowd, camera, frame):
    records = crowd.detections[camera][frame]
    kps = np.asarray([r["keypoints"] for r in records], np.float64).reshape(-1, 23, 3)
    return kps, [crowd.person_of[camera][frame][r["id"]] for r in records]


def run(people: int, noise: float, frames: int, repeats: int, seed: int,
        azimuths: tuple[float, ...] = (0.0, 100.0, 210.0)) -> dict[str, dict[str, float]]:
    crowd = make_crowd(seed, people, 3, frames, noise, azimuths_deg=azimuths)
    cams = [c.P for c in crowd.cameras]
    methods = {
        "feet": lambda a, b, v: match_feet(a, b, view_homography(cams[0], cams[v]), IMAGE_SIZE, IMAGE_SIZE),
        "epipolar": lambda a, b, v: match_epipolar(a, b, fundamental_matrix(cams[0], cams[v])),
    }
    out = {}
    for name, match in methods.items():
        correct = total = 0
        times = []
        for f in range(frames):
            ka, pa = _view(crowd, 0, f)
            views = [_view(crowd, v, f) for v in (1, 2)]
            for v, (kb, pb) in zip((1, 2), views, strict=True):
                pairs = match(ka, kb, v)
                correct += sum(pa[i] == pb[j] for i, j in pairs)
                total += people
            for _ in range(repeats):
                start = time.perf_counter()
                for v, (kb, _) in zip((1, 2), views, strict=True):
                    match(ka, kb, v)
                times.append(time.perf_counter() - start)
        out[name] = {"accuracy": correct / total, "ms_per_frame": 1000 * float(np.median(times))}
    return out


def main(argv):
    del argv
    for people in map(int, FLAGS.people):
        for noise in map(float, FLAGS.noise):
            res = run(people, noise, FLAGS.frames, FLAGS.repeats, FLAGS.seed, tuple(map(float, FLAGS.azimuths)))
            print(f"people={people} noise={noise:g}px " + " ".join(
                f"{k}: acc={v['accuracy']:.4f} {v['ms_per_frame']:.3f} ms/frame" for k, v in res.items()))


if __name__ == "__main__":
    app.run(main)
