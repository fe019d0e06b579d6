"""Writes the DRV synthetic flash capture (research/three_d/drv/synthetic.py) in COLMAP's text layout.

    python -m tools.make_drv_views --out=data/drv_synthetic [--views=26 --novel_lights=2 --size=64]

OUT/
  cameras.txt, images.txt, points3D.txt   COLMAP text model (one PINHOLE camera per view; empty point lists)
  images/view_XXX.png                     16-bit linear RGB renders of a sphere + box reflectance volume
                                          (64^3 ground truth, float64, our marcher with --samples per ray)
  lights.json                             {name: [x, y, z]} for the --novel_lights views (light moved 1.5
                                          units sideways); every other view is lit by a flash at its camera
The first --views views are collocated (the capture), the novel-light views follow. Written to a temporary
folder and renamed into place with a `.complete` marker; an existing complete set is kept unless --force.
"""

from __future__ import annotations

import os
import time

from absl import flags

from official.core.file_io import atomic_directory

FLAGS = flags.FLAGS


def define_flags() -> None:
    flags.DEFINE_string("out", None, "Output folder (the capture root).")
    flags.DEFINE_integer("views", 26, "Collocated views (camera + flash) on a radius-3 orbit.")
    flags.DEFINE_integer("novel_lights", 2, "Extra views lit by a light 1.5 units beside the camera (evaluation).")
    flags.DEFINE_integer("size", 64, "Image side in pixels (square).")
    flags.DEFINE_integer("resolution", 64, "Side of the ground-truth volume that is rendered.")
    flags.DEFINE_integer("samples", 128, "Samples per camera ray of the ground-truth renders.")
    flags.DEFINE_integer("seed", 0, "Seed of the camera orbit jitter.")
    flags.DEFINE_bool("force", False, "Rewrite an existing complete set.")


def write_drv_views(out: str, views: int = 26, novel_lights: int = 2, size: int = 64, resolution: int = 64,
                    samples: int = 128, seed: int = 0, force: bool = False) -> bool:
    """Writes the capture; returns False when a complete set is already there (and not --force)."""
    from official.core.errors import BadValueError
    from research.three_d.drv.synthetic import write_fixture

    for name, value, low in (("views", views, 1), ("novel_lights", novel_lights, 0), ("size", size, 8),
                             ("resolution", resolution, 4), ("samples", samples, 4)):
        if value < low:
            raise BadValueError(f"--{name}: expected >= {low}, got {value}")
    if os.path.exists(os.path.join(out, ".complete")) and not force:
        print(f"DRV views already at {out}; --force rewrites")
        return False
    marker = f"make_drv_views views={views} novel_lights={novel_lights} size={size} resolution={resolution} " \
             f"samples={samples} seed={seed}"
    with atomic_directory(out, marker) as tmp:
        write_fixture(tmp, num_views=views, size=size, resolution=resolution, num_samples=samples,
                      novel_lights=novel_lights, seed=seed)
    return True


def main(argv: list[str]) -> int:
    from official.core.errors import BadValueError

    if not FLAGS.out:
        raise BadValueError("--out is required")
    start = time.time()
    print(f"rendering {FLAGS.views} + {FLAGS.novel_lights} views of {FLAGS.size} px from a {FLAGS.resolution}^3 "
          f"volume ({FLAGS.samples} samples per ray) ...", flush=True)
    if write_drv_views(FLAGS.out, FLAGS.views, FLAGS.novel_lights, FLAGS.size, FLAGS.resolution, FLAGS.samples,
                       FLAGS.seed, FLAGS.force):
        print(f"wrote {FLAGS.views + FLAGS.novel_lights} views to {FLAGS.out} in {time.time() - start:.1f} s")
    return 0


if __name__ == "__main__":
    from tools import _cli

    define_flags()
    _cli.run(main)
