"""Draws layouts that a trained NDN generates for user constraints (research/generative/ndn/constraints.py):
    python -m tools.layout --experiment=ndn_tiny_magazine_synth --model_dir=runs/ndn --constraints=c.json --out=layout.png
The constraints file names the elements and a partial set of relations; NDN completes the relation graph,
places and refines the boxes; `samples` layouts (latents from `seed`) are drawn side by side and the
satisfied fraction of the given relations is printed.
"""

from __future__ import annotations

import os

from absl import flags

from tools import _cli

FLAGS = flags.FLAGS


def define_flags() -> None:
    flags.DEFINE_string("experiment", None, "Registered ndn experiment (gives the model and the label names).",
                        required=True)
    flags.DEFINE_string("model_dir", None, "Training folder: uses its newest checkpoint.", required=True)
    flags.DEFINE_string("constraints", None, "JSON file: elements, relations, samples, seed.", required=True)
    flags.DEFINE_string("out", None, "Output PNG path.", required=True)
    flags.DEFINE_integer("samples", 0, "Layouts to draw (0 = the file's 'samples', default 1).")
    flags.DEFINE_multi_string("config_file", [], "YAML overrides, as in tools.train.")
    flags.DEFINE_string("params_override", "", "Comma-separated overrides, as in tools.train.")


def generate(cfg, model, constraints: dict, samples: int):
    """(boxes (S, N, 4), given relations) for `samples` latent draws."""
    import numpy as np

    rng = np.random.default_rng(constraints["seed"])
    n, z = int(model.max_elements), int(model.latent_dim)
    x = {k: np.repeat(constraints[k][None], samples, 0)
         for k in ("categories", "mask", "loc_relations", "size_relations")}
    x["z_relation"] = rng.normal(size=(samples, z)).astype(np.float32)
    x["z_layout"] = rng.normal(size=(samples, n, z)).astype(np.float32)
    return np.asarray(model(x, training=False)["boxes"])


def main(argv: list[str]) -> None:
    del argv

    from official.core import config as config_lib
    from official.core import trainer
    from official.data.magazine_layouts import LABELS as MAGAZINE
    from official.data.rico_layouts import LABELS as RICO
    from official.evaluation.layout_metrics import constraint_satisfaction
    from research.generative.ndn.constraints import draw_layouts, load_constraints

    cfg = config_lib.resolve(FLAGS.experiment, FLAGS.config_file, FLAGS.params_override)
    labels = {"magazine": MAGAZINE, "rico": RICO}[cfg.eval_data.source]
    with _cli.naming_config_keys(cfg):
        model, _, step = trainer.restore_for_inference(cfg, FLAGS.model_dir)
    c = load_constraints(FLAGS.constraints, labels, int(model.max_elements))
    samples = FLAGS.samples or c["samples"]
    boxes = generate(cfg, model, c, samples)
    keep = c["mask"] > 0
    layouts = [(b[keep], c["categories"][keep]) for b in boxes]
    for k, b in enumerate(boxes):
        sat, given = constraint_satisfaction(b, keep, c["loc_relations"], c["size_relations"])
        print(f"layout {k}: {sat}/{given} given relations hold")
    os.makedirs(os.path.dirname(os.path.abspath(FLAGS.out)), exist_ok=True)
    tmp = FLAGS.out + ".tmp.png"
    draw_layouts(layouts, labels).save(tmp)
    os.replace(tmp, FLAGS.out)
    print(f"wrote {samples} layout(s) from step {step} to {FLAGS.out}")


if __name__ == "__main__":
    define_flags()
    _cli.run(main)
