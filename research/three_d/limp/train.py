"""LIMP training loop (TensorFlow: GradientTape + Adam), evaluation and the fixture small run.

One step = train_FAUST.py's inner step: the reconstruction batch (augmented, BN in training mode) plus,
by the step-driven stage weights, an interpolation pair, an intra-subject pair and an inter-subject pair
(encoder BN in inference mode, z = mu). The geodesic terms sit in `tf.cond` so that stages without them do
not pay for the dense solves. Small run (2 CPU cores, a few minutes):

    python -m research.three_d.limp.train --steps=600 --model_dir=/tmp/limp_run
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import tensorflow as tf
from scipy.linalg import orthogonal_procrustes

from research.three_d.limp import losses


class LimpTrainer:
    """Holds the optimizer and the compiled step for one model and one mesh collection (shared faces)."""

    def __init__(self, model, faces, vertices, geodesics, identity, learning_rate: float = 2e-5,
                 steps_per_iteration: int = 20, stage_starts=None, heat_t: float | None = 0.1,
                 jit_compile: bool = False, kl_weight: float = 1.0):
        self.model = model
        self.faces = np.asarray(faces, np.int32)
        self.vertices = tf.constant(vertices, tf.float32)
        self.geodesics = tf.constant(geodesics, tf.float32)
        self.identity = np.asarray(identity)
        import keras

        self.optimizer = keras.optimizers.Adam(learning_rate)
        self.steps_per_iteration = steps_per_iteration
        self.stage_starts = stage_starts
        self.heat_t = heat_t
        self.kl_weight = kl_weight  # authors: 1; the fixture small run uses less (see README "Known differences")
        self.step_var = tf.Variable(0, dtype=tf.int64, trainable=False)
        self._step = tf.function(self._train_step, jit_compile=jit_compile)

    def _decode_pair(self, pair, alpha, part):
        x = tf.gather(self.vertices, pair)
        z = self.model.encoder(x, training=False)[0]
        z_t = losses.interpolate(z[:1], z[1:], alpha, self.model.pose_size, part)
        return self.model.decoder(z_t, training=False)

    def _train_step(self, points, interp_pair, intra_pair, inter_pair, alphas):
        w = losses.stage_weights(self.step_var, self.steps_per_iteration, self.stage_starts)
        with tf.GradientTape() as tape:
            rec, mu, logvar = self.model(points, training=True)
            rec_loss = losses.reconstruction_metric_loss(points, rec) + self.kl_weight * losses.kl_loss(mu, logvar)

            a = alphas[0]
            dg = tf.gather(self.geodesics, interp_pair)
            de = losses.euclidean_distances(tf.gather(self.vertices, interp_pair))
            dg_t = a * dg[:1] + (1 - a) * dg[1:]
            de_t = a * de[:1] + (1 - a) * de[1:]
            x_t = self._decode_pair(interp_pair, a, "all")
            interp = w["interp_euc"] * losses.local_euclidean_loss(dg_t, de_t, x_t)
            interp += tf.cond(w["interp_geo"] > 0,
                              lambda: w["interp_geo"] * losses.geodesic_loss(dg_t, x_t, self.faces, self.heat_t),
                              lambda: tf.constant(0.0))

            x_intra = self._decode_pair(intra_pair, alphas[1], "style")
            de_a = losses.euclidean_distances(tf.gather(self.vertices, intra_pair[:1]))
            intra = w["intra_euc"] * losses.relative_euclidean_loss(de_a, x_intra)

            def inter_term():
                x_inter = self._decode_pair(inter_pair, alphas[2], "pose")
                dg_a = tf.gather(self.geodesics, inter_pair[:1])
                return w["inter_geo"] * losses.geodesic_loss(dg_a, x_inter, self.faces, self.heat_t)

            inter = tf.cond(w["inter_geo"] > 0, inter_term, lambda: tf.constant(0.0))
            total = losses.total_loss(rec_loss, interp, intra, inter)
        variables = self.model.trainable_variables
        grads = tape.gradient(total, variables)
        self.optimizer.apply_gradients(zip(grads, variables, strict=False))
        self.step_var.assign_add(1)
        return dict(loss=total, rec=rec_loss, interp=interp, intra=intra, inter=inter)

    def step(self, points, rng: np.random.Generator):
        """One optimizer step on `points` (batch, N, 3) with freshly drawn pairs and mixing weights."""
        from official.data.faust import pair_indices

        interp = pair_indices(self.identity, 1, False, rng)[0]
        intra = pair_indices(self.identity, 1, True, rng)[0]
        inter = pair_indices(self.identity, 1, False, rng)[0]
        alphas = rng.uniform(size=3).astype(np.float32)
        out = self._step(tf.constant(points, tf.float32), tf.constant(interp), tf.constant(intra),
                         tf.constant(inter), tf.constant(alphas))
        return {k: float(v) for k, v in out.items()}


def aligned_vertex_error(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean vertex distance after the best orthogonal map + translation (the metric loss fixes shape only up
    to a rigid motion or reflection)."""
    p = pred - pred.mean(0)
    q = target - target.mean(0)
    rot, _ = orthogonal_procrustes(p, q)
    return float(np.linalg.norm(p @ rot - q, axis=1).mean())


def evaluate(model, vertices: np.ndarray, geodesics: np.ndarray, faces: np.ndarray, heat_t=0.1) -> dict:
    """Reconstruction (metric loss, aligned vertex error in mm) and mid-point interpolation distortion."""
    from official.ops.heat_geodesics import heat_geodesics

    rec = np.asarray(model(vertices, training=False)[0])
    metric = float(losses.reconstruction_metric_loss(vertices, rec))
    errors = [aligned_vertex_error(r, v) for r, v in zip(rec, vertices, strict=False)]
    mu = np.asarray(model.encoder(vertices, training=False)[0])
    distortion, baseline = [], []
    for i in range(len(vertices) - 1):  # neighbouring pairs: poses of one subject and subject changes
        mid = np.asarray(model.decoder(0.5 * (mu[i : i + 1] + mu[i + 1 : i + 2]), training=False))[0]
        target = 0.5 * (geodesics[i] + geodesics[i + 1])
        d_mid = np.asarray(heat_geodesics(mid.astype(np.float64), faces, t=heat_t))
        distortion.append(np.abs(d_mid - target).mean() / target.mean())
        lin = 0.5 * (vertices[i] + vertices[i + 1])  # vertex-space linear interpolation, for reference
        baseline.append(np.abs(np.asarray(heat_geodesics(lin.astype(np.float64), faces, t=heat_t)) - target).mean()
                        / target.mean())
    return dict(rec_metric_loss=metric, aligned_error_mm=1000 * float(np.mean(errors)),
                aligned_error_max_mm=1000 * float(np.max(errors)),
                interp_geodesic_distortion=float(np.mean(distortion)),
                linear_vertex_interp_distortion=float(np.mean(baseline)))


def main(argv=None) -> dict:
    import keras

    import research.three_d.limp  # noqa: F401  (registers the variants)
    from official.core import registry
    from official.data import faust
    from research.three_d.limp.synthetic import write_fixture

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model_dir", required=True)
    parser.add_argument("--variant", default="limp_tiny")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch_size", type=int, default=12)
    parser.add_argument("--learning_rate", type=float, default=1e-3)
    parser.add_argument("--stage_starts", default="0.5,0.7,0.85", help="fractions of --steps (authors: 7k,10k,15k of 20k)")
    parser.add_argument("--kl_weight", type=float, default=1e-3, help="authors: 1 (collapses on 12 shapes in 1k steps)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    data_root = os.path.join(args.model_dir, "fixture")
    write_fixture(data_root, fmt="off")
    meshes = faust.load_faust2500(data_root, "all", num_meshes=12, num_train=12, poses_per_subject=3, min_y=None)
    dg = faust.geodesics(data_root, meshes, t=None)
    model = registry.create_model(args.variant, num_points=meshes.vertices.shape[1])
    starts = tuple(int(float(f) * args.steps) for f in args.stage_starts.split(","))
    trainer = LimpTrainer(model, meshes.faces, meshes.vertices, dg, meshes.identity, args.learning_rate,
                          steps_per_iteration=1, stage_starts=starts, heat_t=None,
                          kl_weight=args.kl_weight)
    ds = iter(faust.dataset(meshes, args.batch_size, training=True, seed=args.seed))
    rng = np.random.default_rng(args.seed)
    start = time.time()
    for step in range(args.steps):
        out = trainer.step(next(ds)["points"].numpy(), rng)
        if step % 100 == 0 or step == args.steps - 1:
            print(f"train | step {step} | " + " | ".join(f"{k} {v:.3e}" for k, v in out.items()), flush=True)
    seconds = time.time() - start
    result = dict(steps=args.steps, train_seconds=seconds, **evaluate(model, meshes.vertices, dg, meshes.faces, None))
    print(json.dumps(result, indent=1))
    os.makedirs(args.model_dir, exist_ok=True)
    model.save(os.path.join(args.model_dir, "limp.keras"))
    with open(os.path.join(args.model_dir, "eval_results.json"), "w") as f:
        json.dump(result, f, indent=1)
    return result


if __name__ == "__main__":
    main()
