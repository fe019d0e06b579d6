"""Full-length overfit of LIMP (spec card limp.md check 6) on CPU: the `limp` training step (LimpVaeTrainer,
reconstruction stage) on the 12-shape fixture (4 subjects x 3 poses, 194 vertices, FAUST-sized capsules,
y shifted as the reader does); the test runs a shortened form (tests/research/three_d/limp/test_limp_training.py).

    python benchmarks/limp_overfit.py --steps 3000 --json benchmarks/results/limp_overfit.json
    python benchmarks/limp_overfit.py --steps 3000 --no-sample --json ...   # a plain AE arm (z = mu in training)

Scored as the authors' test_FAUST.py / calc_allsp does: encoder in eval mode, z = mu, decoder; our metrics
(research/three_d/limp/metrics.py): metric loss (m^4) and Procrustes-aligned vertex error (mm). Adam at --lr,
divided by 10 after --decay of the steps; KL weight --kl; authors' augmentation with --augment.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=3000, help="optimizer steps")
    p.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate")
    p.add_argument("--decay", type=float, default=0.7, help="fraction of the steps after which lr / 10 (0: constant)")
    p.add_argument("--kl", type=float, default=1e-3, help="KL weight (limp_tiny_capsules: 1e-3, authors: 1)")
    p.add_argument("--augment", action="store_true", help="authors' rotation +-36 deg about y and 0.005 jitter")
    p.add_argument("--no-sample", dest="sample", action="store_false", help="decode mu in training (plain AE)")
    p.add_argument("--every", type=int, default=500, help="score every this many steps")
    p.add_argument("--seed", type=int, default=0, help="weights / data seed")
    p.add_argument("--json", default="", help="append the run's record to this JSON list")
    a = p.parse_args(argv)

    import keras
    import numpy as np
    import tensorflow as tf

    import research.three_d.limp  # noqa: F401
    from official.core import registry
    from official.data import faust
    from research.three_d.limp import metrics
    from research.three_d.limp.config import LimpTrainingConfig
    from research.three_d.limp.method import LimpVaeTrainer
    from research.three_d.limp.synthetic import fixture_shapes

    shapes, faces, identity = fixture_shapes()
    shapes = shapes.astype(np.float32)
    shapes[..., 1] -= shapes[..., 1].min(axis=1, keepdims=True) + 0.85  # the reader's y shift
    keras.utils.set_random_seed(a.seed)
    net = registry.create_model("limp_tiny", num_points=shapes.shape[1], seed=a.seed)
    if not a.sample:
        net.get_layer("sample").call = lambda mu, logvar, training=None: mu
    never = 10**9  # reconstruction stage only: the pair terms stay at weight 0 (and skipped: no XLA)
    cfg = LimpTrainingConfig(kl_weight=a.kl, pairs=1, steps_per_iteration=1, stage_starts=(never, never + 1, never + 2))
    n = shapes.shape[1]
    trainer = LimpVaeTrainer(net, faces, shapes, np.zeros((len(shapes), n, n), np.float32), cfg)
    lr = a.lr if not a.decay else keras.optimizers.schedules.PiecewiseConstantDecay(
        [int(a.decay * a.steps)], [a.lr, a.lr / 10])
    trainer.compile(optimizer=keras.optimizers.Adam(lr, epsilon=1e-8))
    ds = tf.data.Dataset.from_tensor_slices(shapes).repeat().shuffle(len(shapes), seed=a.seed)
    if a.augment:
        ds = ds.map(faust.augment)
    ds = tf.data.Dataset.zip(ds.batch(len(shapes), drop_remainder=True), faust.pair_dataset(identity, 1, a.seed))
    ds = ds.map(lambda x, q: ({"points": x, **q},))

    rows, start, done = [], time.time(), 0
    while done < a.steps:
        history = trainer.fit(ds, steps_per_epoch=a.every, epochs=1, verbose=0).history
        done += a.every
        mu, logvar = (np.asarray(t) for t in net.encoder(shapes, training=False))
        rec = np.asarray(net.decoder(mu, training=False))
        row = dict(step=done, seconds=round(time.time() - start, 1),
                   aligned_error_mm=1000 * float(np.mean([metrics.aligned_vertex_error(r, v)
                                                          for r, v in zip(rec, shapes, strict=True)])),
                   rec_metric_loss=float(np.mean([metrics.metric_loss(v, r) for v, r in zip(shapes, rec, strict=True)])),
                   posterior_sigma=float(np.exp(0.5 * logvar).mean()), mu_spread=float(mu.std(0).mean()),
                   train_rec=float(history["rec"][-1]), train_kl=float(history["kl"][-1]))
        rows.append(row)
        print(json.dumps(row), flush=True)
    record = dict(args=vars(a), shapes=len(shapes), vertices=n, variant="limp_tiny", curve=rows,
                  final=rows[-1], check6_met=bool(rows[-1]["aligned_error_mm"] < 5 and rows[-1]["rec_metric_loss"] < 1e-5))
    if a.json:
        old = json.load(open(a.json)) if os.path.isfile(a.json) else []
        with open(a.json, "w") as f:
            json.dump(old + [record], f, indent=1)
    return record


if __name__ == "__main__":
    main()
