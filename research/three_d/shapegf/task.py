"""The `shapegf` Task: PC15k data, reconstruction / generation metrics, and the serving signatures.

Evaluation (task.mode):
- auto_encode (trainers/ae_trainer_3D.py validate): each test shape's 2,048 input points (train pool) are
  encoded and decoded by Langevin dynamics into as many points; the reconstruction and the 2,048 reference
  points (test pool) are denormalised (x scale + mean) and compared: CD (mean squared nearest distance both
  ways, summed) x 1e4 and EMD (mean matched distance, auction assignment) x 1e2; `oracle_*` compares the
  input points with the reference (two samplings of one shape).
- generate (trainers/lgan_trainer_3D.py validate): as many samples z = G(N(0, I)) as test shapes, decoded,
  against the normalised reference clouds: 1-NNA, MMD, COV under CD and EMD, and JSD
  (official/evaluation/generation3d.py).
The sampler's start points and noise come from numpy with `task.eval_seed`, so a metric is reproducible.
Serving (tools.export): `serving_default` points (B, N, 3) -> z; `score` (points, z, sigma) -> field;
`sample` (z, x0, noise) -> points with the model's fixed step count (noise (steps, B, n, 3) is an input,
so a SavedModel and Keras agree exactly); `generate` (prior, x0, noise) -> points for generation models.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from official.core import registry
from official.core.config import ConfigError
from official.core.task import Task
from official.data import shapenet_pc15k
from official.evaluation import generation3d
from official.losses.chamfer import chamfer_distance
from official.losses.emd import earth_movers_distance
from research.three_d.shapegf import score_matching as sm
from research.three_d.shapegf.config import PC15kDataConfig, ShapeGFTaskConfig

MODES = ("auto_encode", "generate")


def start_and_noise(model, batch: int, num_points: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """x0 ~ U([-1.5, 1.5]^3) (batch, n, 3) and the sampler's noise (steps, batch, n, 3), float32, from `rng`."""
    x0 = rng.uniform(-sm.PRIOR_BOUND, sm.PRIOR_BOUND, (batch, num_points, 3)).astype(np.float32)
    noise = rng.standard_normal((model.total_steps(), batch, num_points, 3)).astype(np.float32)
    return x0, noise


@registry.register_task("shapegf")
class ShapeGFTask(Task):
    def __init__(self, config):
        super().__init__(config)
        if not isinstance(config.task, ShapeGFTaskConfig):
            raise ConfigError("task: shapegf needs a ShapeGFTaskConfig section")
        if config.task.mode not in MODES:
            raise ConfigError(f"task.mode: expected one of {MODES}, got {config.task.mode!r}")
        for key in ("train_data", "eval_data"):
            if not isinstance(getattr(config, key), PC15kDataConfig):
                raise ConfigError(f"{key}: shapegf needs a PC15kDataConfig (path, split, categories, tr_points)")
        self._splits: dict[tuple, shapenet_pc15k.PC15kSplit] = {}

    # --- data --------------------------------------------------------------------------------
    def split(self, data: PC15kDataConfig) -> shapenet_pc15k.PC15kSplit:
        key = (data.path, data.split, tuple(data.categories), data.recenter_per_shape)
        if key not in self._splits:
            self._splits[key] = shapenet_pc15k.load_split(data.path, tuple(data.categories), data.split,
                                                          data.recenter_per_shape)
        return self._splits[key]

    def num_examples(self, data: PC15kDataConfig) -> int:
        return len(self.split(data))

    def skipped_examples(self) -> int:
        return sum(len(s.skipped) for s in self._splits.values())

    def build_inputs(self, data, training: bool, global_batch_size: int, input_context: Any = None):
        batch = input_context.get_per_replica_batch_size(global_batch_size) if input_context else global_batch_size
        ds = shapenet_pc15k.dataset(self.split(data), training, batch, data.tr_points, data.te_points,
                                    seed=self.config.runtime.seed + (input_context.input_pipeline_id if input_context else 0))
        return ds

    # --- objective: the shapegf_ae / shapegf_gan methods' train_step ----------------------------
    def build_losses(self) -> Any:
        return None

    def compile_model(self, model: keras.Model, optimizer: Any, jit_compile: bool) -> None:
        model.compile(optimizer=optimizer, jit_compile=jit_compile)

    # --- evaluation --------------------------------------------------------------------------
    def distances(self) -> dict[str, Any]:
        t = self.config.task

        cd_fn = tf.function(lambda a, b: chamfer_distance(a, b, squared=True), jit_compile=True, reduce_retracing=True)
        emd_fn = tf.function(lambda a, b: earth_movers_distance(a, b, iterations=t.emd_iterations), jit_compile=True,
                             reduce_retracing=True)  # the auction is a while loop: compiled, as emd.py asks

        def cd(a, b):
            return np.asarray(cd_fn(tf.constant(a, tf.float32), tf.constant(b, tf.float32)), np.float64)

        def emd(a, b):
            return np.asarray(emd_fn(tf.constant(a, tf.float32), tf.constant(b, tf.float32)), np.float64)

        return {"CD": cd, "EMD": emd} if t.emd else {"CD": cd}

    def evaluate(self, model, dataset, steps=None, tide=False, predictions_out=None) -> dict[str, Any]:
        self.check_tide(tide)
        network = getattr(model, "inference_model", model)
        rng = np.random.default_rng(self.config.task.eval_seed)
        if self.config.task.mode == "generate":
            return self._evaluate_generation(network, dataset, steps, rng)
        return self._evaluate_reconstruction(network, dataset, steps, rng)

    def _evaluate_reconstruction(self, network, dataset, steps, rng) -> dict[str, float]:
        decode = tf.function(network.reconstruct, reduce_retracing=True)
        dist = self.distances()
        sums = {f"{k}{name}": 0.0 for k in ("", "oracle_") for name in dist}
        count = 0
        for i, (inputs, extras) in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            points, ref = np.asarray(inputs["points"]), np.asarray(extras["ref"])
            mean, scale = np.asarray(extras["mean"]), np.asarray(extras["scale"])
            x0, noise = start_and_noise(network, len(points), ref.shape[1], rng)
            rec = np.asarray(decode(points, x0, noise)) * scale + mean
            ref_d, inp_d = ref * scale + mean, points * scale + mean
            for name, fn in dist.items():
                sums[name] += float(np.sum(fn(rec, ref_d)))
                if inp_d.shape == ref_d.shape:
                    sums[f"oracle_{name}"] += float(np.sum(fn(inp_d, ref_d)))
            count += len(points)
        out = {"shapes": float(count)}
        for key, value in sums.items():
            factor, label = (1e4, "cd_x1e4") if key.endswith("CD") else (1e2, "emd_x1e2")
            out[("oracle_" if key.startswith("oracle_") else "") + label] = value / max(count, 1) * factor
        return out

    def _evaluate_generation(self, network, dataset, steps, rng) -> dict[str, float]:
        sample = tf.function(network.sample, reduce_retracing=True)
        zdim = int(network.constructor_args["zdim"])
        refs, smps = [], []
        for i, (_, extras) in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            ref = np.asarray(extras["ref"])
            prior = rng.standard_normal((len(ref), zdim)).astype(np.float32)
            x0, noise = start_and_noise(network, len(ref), ref.shape[1], rng)
            smps.append(np.asarray(sample(prior, x0, noise)))
            refs.append(ref)
        ref, smp = np.concatenate(refs), np.concatenate(smps)
        out = generation3d.generation_metrics(smp, ref, self.distances(), batch=self.config.task.metric_batch)
        out["shapes"] = float(len(ref))
        return out

    # --- export ------------------------------------------------------------------------------
    def _sizes(self, model) -> tuple[int, int, int]:
        """(zdim, points of a served sample, Langevin steps)."""
        a = model.constructor_args
        return int(a["zdim"]), int(a["num_points"]), model.total_steps()

    def serving_signatures(self, model: keras.Model, image_size: int) -> dict:
        zdim, n, steps = self._sizes(model)
        f32 = tf.float32

        def encode(points):
            return {"z": model.encoder(points, training=False)}

        def score(points, z, sigma):
            return {"field": model.field(points, z, sigma)}

        def sample(z, x0, noise):
            return {"points": model.decode(z, x0, noise)}

        sigs = {
            "serving_default": (encode, [tf.TensorSpec([None, None, 3], f32, name="points")]),
            "score": (score, [tf.TensorSpec([None, None, 3], f32, name="points"), tf.TensorSpec([None, zdim], f32, name="z"),
                              tf.TensorSpec([None], f32, name="sigma")]),
            "sample": (sample, [tf.TensorSpec([None, zdim], f32, name="z"), tf.TensorSpec([None, n, 3], f32, name="x0"),
                                tf.TensorSpec([steps, None, n, 3], f32, name="noise")]),
        }
        if model.constructor_args["generator_dims"]:
            def generate(prior, x0, noise):
                return {"points": model.sample(prior, x0, noise)}

            sigs["generate"] = (generate, [tf.TensorSpec([None, zdim], f32, name="prior"),
                                           tf.TensorSpec([None, n, 3], f32, name="x0"),
                                           tf.TensorSpec([steps, None, n, 3], f32, name="noise")])
        return sigs

    def _example(self, model, batch: int = 2) -> dict[str, np.ndarray]:
        zdim, n, _ = self._sizes(model)
        rng = np.random.default_rng(0)
        x0, noise = start_and_noise(model, batch, n, rng)
        return {"points": rng.uniform(-1, 1, (batch, n, 3)).astype(np.float32),
                "z": rng.standard_normal((batch, zdim)).astype(np.float32),
                "sigma": np.array([0.5, 0.05][:batch], np.float32), "x0": x0, "noise": noise}

    def warmup_inputs(self, image_size: int, n: int) -> list[tuple[str, dict]]:
        points = np.random.default_rng(0).uniform(-1, 1, (1, int(self.config.model.num_points), 3)).astype(np.float32)
        return [("serving_default", {"points": points}) for _ in range(n)]

    def serving_verification(self, model: keras.Model, n: int, image_size: int) -> list[tuple[str, dict, dict]]:
        ex = self._example(model)
        want_z = np.asarray(model.encoder(ex["points"], training=False))
        field = model.field(ex["points"], ex["z"], ex["sigma"])
        checks = [
            ("serving_default", {"points": ex["points"]}, {"z": want_z}),
            ("score", {k: ex[k] for k in ("points", "z", "sigma")}, {"field": np.asarray(field)}),
            ("sample", {k: ex[k] for k in ("z", "x0", "noise")},
             {"points": np.asarray(model.decode(ex["z"], ex["x0"], ex["noise"]))}),
        ]
        if model.constructor_args["generator_dims"]:
            checks.append(("generate", {"prior": ex["z"], "x0": ex["x0"], "noise": ex["noise"]},
                           {"points": np.asarray(model.sample(ex["z"], ex["x0"], ex["noise"]))}))
        return checks
