"""The `limp` Task: FAUST-2500 meshes in tf.data, LIMP's metrics, and the encode / decode serving signatures.

Training input (official/data/faust.py): ({"points": (B, N, 3) augmented, "interp_pair" / "intra_pair" /
"inter_pair": (P, 2), "alphas": (P, 3)}, {"vertices", "index"}); the `limp` training method
(research/three_d/limp/method.py) holds the losses and the step. Evaluation input: ({"points"}, {"vertices",
"index"}) in file order; `evaluate` reports research/three_d/limp/metrics.py (reconstruction metric loss,
Procrustes-aligned vertex error in mm, geodesic distortion of latent mid-points, pose / style
disentanglement) from the network or from an exported SavedModel's encode / decode signatures.
Serving (research/three_d/limp/export.py): encode(points) -> {mu, logvar}; decode(latent) -> {vertices}
(= serving_default); TFLite holds the decoder.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from official.core import registry
from official.core.config import ConfigError
from official.core.task import Task
from official.data import faust
from research.three_d.limp import export, method, metrics  # noqa: F401  (method: registers training.method=limp)
from research.three_d.limp.config import Faust2500DataConfig, LimpTaskConfig, LimpTrainingConfig


@registry.register_task("limp")
class LimpTask(Task):
    def __init__(self, config):
        super().__init__(config)
        if not isinstance(config.task, LimpTaskConfig):
            raise ConfigError("task: limp needs a LimpTaskConfig section")
        for key in ("train_data", "eval_data"):
            if not isinstance(getattr(config, key), Faust2500DataConfig):
                raise ConfigError(f"{key}: limp needs a Faust2500DataConfig (path, split, num_meshes, ...)")
        self._meshes: dict[tuple, faust.FaustMeshes] = {}
        self._geodesics: dict[tuple, np.ndarray] = {}

    # --- data --------------------------------------------------------------------------------
    @staticmethod
    def _key(data: Faust2500DataConfig) -> tuple:
        return (data.path, data.split, data.num_meshes, data.num_train, data.poses_per_subject, data.shift_y,
                data.min_y)

    def meshes(self, data: Faust2500DataConfig) -> faust.FaustMeshes:
        key = self._key(data)
        if key not in self._meshes:
            self._meshes[key] = faust.load_faust2500(data.path, data.split, data.num_meshes, data.num_train,
                                                     data.poses_per_subject, data.min_y if data.shift_y else None)
            want, got = getattr(self.config.model, "num_points", None), self._meshes[key].vertices.shape[1]
            if want is not None and int(want) != got:
                raise ConfigError(f"model.num_points: {want}, but the meshes in {data.path} have {got} vertices "
                                  f"(set model.num_points={got})")
        return self._meshes[key]

    def geodesics(self, data: Faust2500DataConfig) -> np.ndarray:
        """(M, N, N) target geodesic matrices of `data`'s meshes (computed once, cached in ROOT/processed/)."""
        key = (*self._key(data), data.heat_t)
        if key not in self._geodesics:
            meshes = self.meshes(data)
            print(f"geodesics of {len(meshes)} meshes ({meshes.vertices.shape[1]} vertices) in {data.path}/processed",
                  flush=True)
            self._geodesics[key] = faust.geodesics(data.path, meshes, t=data.heat_t or None)
        return self._geodesics[key]

    def training_shapes(self) -> tuple[faust.FaustMeshes, np.ndarray]:
        """The training meshes and their geodesics, indexed by the pairs of the training input."""
        return self.meshes(self.config.train_data), self.geodesics(self.config.train_data)

    def num_examples(self, data) -> int:
        return len(self.meshes(data))

    def skipped_examples(self) -> int:
        return sum(len(m.skipped) for m in self._meshes.values())

    def _pairs_per_replica(self) -> int:
        training = self.config.training
        return int(training.pairs) if isinstance(training, LimpTrainingConfig) else 1

    def build_inputs(self, data, training: bool, global_batch_size: int, input_context: Any = None):
        batch = input_context.get_per_replica_batch_size(global_batch_size) if input_context else global_batch_size
        pipeline = input_context.input_pipeline_id if input_context else 0
        seed = self.config.runtime.seed + pipeline
        meshes = self.meshes(data)
        shapes = faust.dataset(meshes, batch, training, seed, data.rotate_degrees, data.translate)
        if not training:
            return shapes.map(lambda d: ({"points": d["points"]}, {"vertices": d["vertices"], "index": d["index"]}))
        # positions in the training arrays (the method's variables), not FAUST indices
        pairs = faust.pair_dataset(meshes.identity, self._pairs_per_replica(), seed)
        return tf.data.Dataset.zip(shapes, pairs).map(
            lambda d, p: ({"points": d["points"], **p}, {"vertices": d["vertices"], "index": d["index"]}))

    # --- objective: the `limp` method's train_step ---------------------------------------------
    def build_losses(self) -> Any:
        return None

    def compile_model(self, model, optimizer: Any, jit_compile: bool) -> None:
        if not hasattr(model, "step_losses"):
            raise ConfigError("training.method: limp experiments train with training.method=limp")
        model.compile(optimizer=optimizer, jit_compile=jit_compile)

    # --- evaluation --------------------------------------------------------------------------
    def _score(self, encode, decode, dataset, steps=None) -> dict[str, float]:
        data = self.config.eval_data
        meshes, geodesics = self.meshes(data), self.geodesics(data)
        where = {int(i): k for k, i in enumerate(meshes.index)}
        rows = []
        for b, (_, extras) in enumerate(dataset):
            if steps is not None and b >= steps:
                break
            rows += [where[int(i)] for i in np.asarray(extras["index"])]
        t = self.config.task
        pose_size = int(self.config.model.pose_size) if hasattr(self.config.model, "pose_size") else 64
        return metrics.evaluate_shapes(encode, decode, meshes.vertices[rows], geodesics[rows], meshes.faces,
                                       pose_size, t.heat_t or None, t.interp_pairs)

    def evaluate(self, model, dataset, steps=None, tide=False, predictions_out=None) -> dict[str, Any]:
        self.check_tide(tide)
        network = getattr(model, "inference_model", model)
        encode = tf.function(lambda x: network.encoder(x, training=False)[0], reduce_retracing=True)
        decode = tf.function(lambda z: network.decoder(z, training=False), reduce_retracing=True)
        return self._score(lambda x: encode(tf.constant(x)), lambda z: decode(tf.constant(z)), dataset, steps)

    def evaluate_saved_model(self, loaded, global_batch_size: int, steps=None, tide=False, predictions_out=None):
        self.check_tide(tide)
        enc, dec = loaded.signatures["encode"], loaded.signatures["decode"]
        dataset = self.build_inputs(self.config.eval_data, False, global_batch_size)
        return self._score(lambda x: enc(points=tf.constant(x))["mu"].numpy(),
                           lambda z: dec(latent=tf.constant(z))["vertices"].numpy(), dataset, steps)

    # --- export ------------------------------------------------------------------------------
    def serving_signatures(self, model, image_size: int) -> dict:
        return export.signatures(model)

    def _examples(self, model, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Training-like inputs: the template (a FAUST-sized blob if no data) and latent codes near the prior."""
        rng = np.random.default_rng(0)
        points_count = int(model.decoder.outputs[0].shape[1])
        latent = int(model.decoder.inputs[0].shape[-1])
        points = rng.normal(scale=[0.2, 0.5, 0.1], size=(n, points_count, 3)).astype(np.float32)
        return points, rng.normal(size=(n, latent)).astype(np.float32)

    def warmup_inputs(self, image_size: int, n: int) -> list[tuple[str, dict]]:
        latent = int(getattr(self.config.model, "latent_size", 256))
        return [("serving_default", {"latent": np.zeros((1, latent), np.float32)}) for _ in range(n)]

    def serving_verification(self, model, n: int, image_size: int) -> list[tuple[str, dict, dict]]:
        points, z = self._examples(model, max(1, min(n, 2)))
        mu, logvar = (np.asarray(t) for t in model.encoder(points, training=False))
        vertices = np.asarray(model.decoder(z, training=False))
        return [("encode", {"points": points}, {"mu": mu, "logvar": logvar}),
                ("decode", {"latent": z}, {"vertices": vertices}),
                ("serving_default", {"latent": z}, {"vertices": vertices})]

    def export_body(self, model):
        return model.decoder

    def verification_inputs(self, num_examples: int, image_size: int):
        latent = int(getattr(self.config.model, "latent_size", 256))
        return np.random.default_rng(1).normal(size=(max(1, min(num_examples, 2)), latent)).astype(np.float32)
