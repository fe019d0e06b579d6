"""Writes a synthetic SIZER set in the authors' file layouts (official/data/sizer_npz.py reads it).

    python -m tools.make_sizer --out=data/sizer_synthetic [--subjects=4] [--val_subjects=2] [--seed=0] [--force]
        [--parser_slide=0]

A skinned stand-in for SMPL (research/three_d/sizer/synthetic.py: a 578-vertex tube with SMPL's 24-joint
tree, 10 shape directions, pose correctives, joint regressor), a "T-shirt" garment = its 192 vertices
between hip and neck, and sizes S/M/L/XL = 5/10/15/20 mm along the template normals (SMPL+G offsets).
Each subject (own shape) is posed in 3 distinct random sizes with its own pose and translation. Files:
    OUT/g5_size.npz                      SizerNet training file: pose_upper/betas/pose/trans/size/scan_name 0..2
    OUT/g5_size_val.npz                  held-out subjects, same layout
    OUT/parser_train.npz                 ParserNet layout: reg, UpperClothes (= reg's garment vertices, or slid
                                         --parser_slide of an edge around the body), betas, pose, trans, name
    OUT/body_model.npz                   the converted-SMPL arrays SMPL+G takes (+ garment vert_indices)
    OUT/g5/UpperClothes_lres.obj, _id.npy, _<K>_gar_order.npy   the code's meta files
Written to a temporary folder and renamed into place with a `.complete` marker; an existing complete
set is kept unless --force. Train on it: python -m tools.train --experiment=sizernet_tiny_synthetic
--data_dir=data (the experiment reads data/sizer_synthetic); ParserNet: --experiment=parsernet_tiny_synthetic.
"""

from __future__ import annotations

import os

from absl import flags

from official.core.file_io import atomic_directory
from tools import _cli

FLAGS = flags.FLAGS


def write_sizer(out: str, subjects: int = 4, val_subjects: int = 2, seed: int = 0, neighbours: int = 8,
                force: bool = False, parser_slide: float = 0.0) -> dict:
    """Writes the set atomically; returns {"train": subjects, "val": subjects} ({} if an existing set was kept)."""
    if subjects < 1 or val_subjects < 0 or neighbours < 1 or not 0.0 <= parser_slide < 1.0:
        raise ValueError(f"--subjects must be >= 1, --val_subjects >= 0, --neighbours >= 1 and --parser_slide in "
                         f"[0, 1), got {subjects}, {val_subjects}, {neighbours}, {parser_slide}")
    if os.path.exists(os.path.join(out, ".complete")) and not force:
        print(f"SIZER set already at {out}; --force rewrites")
        return {}
    from research.three_d.sizer import synthetic

    marker = (f"make_sizer seed={seed} subjects={subjects} val_subjects={val_subjects} neighbours={neighbours} "
              f"parser_slide={parser_slide}")
    with atomic_directory(out, marker) as tmp:
        print(f"writing {subjects} + {val_subjects} subjects x 3 sizes (seed {seed}) ...", flush=True)
        synthetic.write_sizer_files(tmp, num_subjects=subjects, seed=seed, num_neighbours=neighbours,
                                    val_subjects=val_subjects, parser_slide=parser_slide)
    return {"train": subjects, "val": val_subjects}


def define_flags() -> None:
    flags.DEFINE_string("out", None, "Output folder (the experiment's data root, e.g. data/sizer_synthetic).")
    flags.DEFINE_integer("subjects", 4, "Training subjects in g5_size.npz (each gives 9 size pairs).")
    flags.DEFINE_integer("val_subjects", 2, "Held-out subjects in g5_size_val.npz (0 = none).")
    flags.DEFINE_integer("neighbours", 8, "K candidates per garment vertex in the ParserNet *_gar_order.npy file.")
    flags.DEFINE_integer("seed", 0, "Random seed (template, shapes, poses, sizes).")
    flags.DEFINE_float("parser_slide", 0.0, "ParserNet file: slide the garment this fraction of an edge around the "
                       "body against reg (0 = the garment is reg's garment vertices).")
    flags.DEFINE_bool("force", False, "Rewrite the set even if OUT already holds a complete one.")


def main(argv: list[str]) -> None:
    del argv
    if not FLAGS.out:
        _cli.fail("--out is required (the output folder)")
    try:
        counts = write_sizer(FLAGS.out, FLAGS.subjects, FLAGS.val_subjects, FLAGS.seed, FLAGS.neighbours, FLAGS.force,
                             FLAGS.parser_slide)
    except (ValueError, OSError) as err:
        _cli.fail(f"make_sizer: {err}")
    if counts:
        print(f"wrote SIZER set to {FLAGS.out}: {counts}")


if __name__ == "__main__":
    define_flags()
    _cli.run(main)
