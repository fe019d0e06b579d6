"""The `sizer` Task: SizerNet + SMPL+G trained on the authors' SizerNet .npz, the vertex error, serving.

Data: official/data/sizer_npz.py reads `train_data.path` (N subjects x 3 sizes) into the code's 9
(input size, output size) pairs per subject; inputs {garment, size_in, size_out, betas, pose, trans},
target {"garment": the registered garment in the output size}. Model: the experiment's SizerNet variant
(`model.name`, e.g. sizer_sizernet_g5_hires: its 41,724,086 weights are the trained parameters) inside
SizerPipeline, whose SMPL+G arrays come from `train_data.body_model` (a user's converted SMPL .npz:
licence-gated, never shipped) and travel in checkpoints and SavedModels. Loss (train_sizer.py): Chamfer
(squared, both ways) + task.laplacian_weight x uniform Laplacian over the faces of `garment_mesh`.
Metric (paper): vertex-to-vertex error in mm (`v2v_mm`); `evaluate` adds it over the pairs that keep
and that change the size, and the mean outward move along the template normals of S -> XL (`s_to_xl_mm`).
Serving: serving_default(garment, size_in, size_out, betas, pose, trans) -> {garment, offsets}.
"""

from __future__ import annotations

import os
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from official.core import registry
from official.core.config import ConfigError, model_kwargs
from official.core.task import Task
from official.data import sizer_npz
from official.ops.mesh_ops import neighbour_lists
from research.three_d.sizer import export as sizer_export
from research.three_d.sizer import losses, metrics
from research.three_d.sizer.config import SizerDataConfig, SizerTaskConfig
from research.three_d.sizer.model import SizerNet
from research.three_d.sizer.pipeline import INPUT_KEYS, SizerPipeline
from research.three_d.sizer.smplg import ARRAY_KEYS, SMPLFileError

SMALLEST, LARGEST = 0, 3  # size labels S and XL


def read_body_model(path: str) -> dict[str, np.ndarray]:
    """The converted SMPL(+G) arrays of `path`; a missing file or key is a SizerDataError naming both."""
    if not path:
        raise ConfigError("train_data.body_model: no body-model .npz given (a converted SMPL + garment vert_indices)")
    if not os.path.isfile(path):
        raise sizer_npz.SizerDataError(f"{path}: no such body-model file")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: np.asarray(data[k]) for k in data.files}
    except (OSError, ValueError) as err:
        raise sizer_npz.SizerDataError(f"{path}: not a readable .npz ({err})") from None
    missing = [k for k in ARRAY_KEYS if k not in arrays]
    if missing:
        raise sizer_npz.SizerDataError(f"{path}: missing key '{missing[0]}' (needs {', '.join(ARRAY_KEYS)})")
    return arrays


def read_garment_mesh(path: str, num_vertices: int) -> tuple[np.ndarray, np.ndarray]:
    """(faces (F, 3) int32, vertex normals (V, 3) float32) of the garment template .obj."""
    import trimesh

    if not os.path.isfile(path):
        raise sizer_npz.SizerDataError(f"{path}: no such garment mesh")
    try:
        mesh = trimesh.load(path, process=False, force="mesh")
    except Exception as err:  # trimesh raises many kinds on a broken file
        raise sizer_npz.SizerDataError(f"{path}: not a readable mesh ({err})") from None
    if len(mesh.vertices) != num_vertices:
        raise sizer_npz.SizerDataError(f"{path}: {len(mesh.vertices)} vertices, the model's garment has {num_vertices}")
    return np.asarray(mesh.faces, np.int32), np.asarray(mesh.vertex_normals, np.float32)


@registry.register_task("sizer")
class SizerTask(Task):
    def __init__(self, config):
        super().__init__(config)
        if not isinstance(config.task, SizerTaskConfig):
            raise ConfigError("task: sizer needs a SizerTaskConfig section")
        for key in ("train_data", "eval_data"):
            if not isinstance(getattr(config, key), SizerDataConfig):
                raise ConfigError(f"{key}: sizer needs a SizerDataConfig (path, body_model, garment_mesh)")
        self._pairs: dict[str, dict[str, np.ndarray]] = {}
        self._mesh: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    # --- model -------------------------------------------------------------------------------
    def _num_vertices(self) -> int:
        return int(self.config.model.num_vertices)

    def build_model(self) -> SizerPipeline:
        """The experiment's SizerNet variant + SMPL+G holding train_data.body_model's arrays."""
        cfg = self.config.model
        if cfg.keras_file or getattr(registry.get_model_builder(cfg.name), "model_cls", None) is not SizerNet:
            raise ConfigError(f"model.name: the sizer task trains a registered SizerNet variant, got {cfg.name!r}"
                              + (" with a keras_file" if cfg.keras_file else ""))
        path = self.config.train_data.body_model
        arrays = read_body_model(path)
        if arrays["vert_indices"].shape != (self._num_vertices(),):
            raise sizer_npz.SizerDataError(f"{path}: key 'vert_indices' has shape {arrays['vert_indices'].shape}, "
                                           f"model.num_vertices is {self._num_vertices()}")
        parents = tuple(arrays["parents"].tolist()) if "parents" in arrays else None
        kwargs = dict(model_kwargs(cfg), num_body_vertices=int(arrays["v_template"].shape[0]))
        model = SizerPipeline(**kwargs, **({"parents": parents} if parents else {}))
        try:
            model.load_body_model(arrays, path)
        except SMPLFileError as err:
            raise sizer_npz.SizerDataError(str(err)) from None
        scale = self.config.task.offset_init_scale
        if scale != 1.0:  # offsets start near 0: the garment starts on the skinned body (small run)
            kernel = model.sizer.get_layer("dec_fc3").kernel
            kernel.assign(kernel * scale)
        return model

    # --- data --------------------------------------------------------------------------------
    def pairs(self, data: SizerDataConfig) -> dict[str, np.ndarray]:
        """The 9 pairs per subject of data.path (read once per file)."""
        if data.path not in self._pairs:
            if not data.path:
                raise ConfigError("train_data.path: no SizerNet .npz given")
            pairs = sizer_npz.sizer_pairs(sizer_npz.load_sizer_npz(data.path))
            if pairs["garment"].shape[1] != self._num_vertices():
                raise sizer_npz.SizerDataError(f"{data.path}: key 'pose_upper0' has {pairs['garment'].shape[1]} "
                                               f"vertices, model.num_vertices is {self._num_vertices()}")
            if not len(pairs["garment"]):
                raise sizer_npz.SizerDataError(f"{data.path}: no valid subject left")
            self._pairs[data.path] = pairs
        return self._pairs[data.path]

    def num_examples(self, data) -> int | None:
        return len(self.pairs(data)["garment"])

    def build_inputs(self, data, training: bool, global_batch_size: int, input_context: Any = None):
        """({garment, size_in, size_out, betas, pose, trans}, {"garment": target}); endless and shuffled when training."""
        pairs = self.pairs(data)
        ds = tf.data.Dataset.from_tensor_slices(({k: pairs[k] for k in INPUT_KEYS}, {"garment": pairs["target"]}))
        batch = global_batch_size
        if input_context is not None:
            batch = input_context.get_per_replica_batch_size(global_batch_size)
            if input_context.num_input_pipelines > 1:
                ds = ds.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
        if training:  # drop_remainder: static batch for XLA
            ds = ds.shuffle(min(data.shuffle_buffer, len(pairs["garment"])), seed=self.config.runtime.seed,
                            reshuffle_each_iteration=True).repeat().batch(batch, drop_remainder=True)
        else:
            ds = ds.batch(batch)
        return ds.prefetch(tf.data.AUTOTUNE)

    # --- objective ---------------------------------------------------------------------------
    def mesh(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(neighbours, mask, template normals) of train_data.garment_mesh."""
        if self._mesh is None:
            faces, normals = read_garment_mesh(self.config.train_data.garment_mesh, self._num_vertices())
            self._mesh = (*neighbour_lists(faces, self._num_vertices()), normals)
        return self._mesh

    def build_losses(self) -> Any:
        neighbours, mask, _ = self.mesh()
        weight = self.config.task.laplacian_weight

        def garment_loss(y_true, y_pred):
            return losses.garment_loss(y_pred, y_true, neighbours, mask, weight)["total"]

        return {"garment": garment_loss, "offsets": None}

    def build_metrics(self) -> list[Any]:
        """None compiled: Keras' metrics of a dict-output model need a target for every output (offsets has
        none); `evaluate` (validation and tools.evaluate) reports the vertex error instead."""
        return []

    def compile_model(self, model, optimizer: Any, jit_compile: bool) -> None:
        model.compile(optimizer=optimizer, loss=self.build_losses(), jit_compile=jit_compile)  # metrics: see above

    # --- evaluation --------------------------------------------------------------------------
    def evaluate(self, model, dataset, steps=None, tide=False, predictions_out=None) -> dict[str, Any]:
        self.check_tide(tide)
        network = getattr(model, "inference_model", model)
        predict = tf.function(lambda x: network(x, training=False), reduce_retracing=True)
        return self._score(lambda x: {k: np.asarray(v) for k, v in predict(x).items()}, dataset, steps)

    def _score(self, predict_fn, dataset, steps=None) -> dict[str, float]:
        """v2v_mm (all pairs), v2v_same_size_mm / v2v_resize_mm, chamfer_mm2 (the loss's term), s_to_xl_mm."""
        neighbours, mask, normals = self.mesh()
        errors, same, chamfer, outward = [], [], [], []
        eye = np.eye(self.config.task.num_classes, dtype=np.float32)
        for i, (inputs, target) in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            x = {k: np.asarray(v) for k, v in inputs.items()}
            y = np.asarray(target["garment"])
            pred = predict_fn(x)["garment"]
            errors.append(np.asarray(metrics.vertex_errors_mm(pred, y)))
            same.append(x["size_in"].argmax(-1) == x["size_out"].argmax(-1))
            terms = losses.garment_loss(pred, y, neighbours, mask, 0.0)
            chamfer.append(float(terms["chamfer"]) * len(y))
            n = len(y)
            to_s = predict_fn({**x, "size_out": np.repeat(eye[[SMALLEST]], n, 0)})["offsets"]
            to_xl = predict_fn({**x, "size_out": np.repeat(eye[[LARGEST]], n, 0)})["offsets"]
            outward.append(np.sum((np.asarray(to_xl) - np.asarray(to_s)) * normals, -1).mean(-1) * metrics.MM_PER_M)
        if not errors:
            return {}
        err, same = np.concatenate(errors), np.concatenate(same)
        out = {"v2v_mm": float(err.mean()), "chamfer_mm2": float(np.sum(chamfer) / len(err)) * metrics.MM_PER_M ** 2,
               "s_to_xl_mm": float(np.concatenate(outward).mean()), "pairs": int(len(err))}
        if same.any():
            out["v2v_same_size_mm"] = float(err[same].mean())
        if (~same).any():
            out["v2v_resize_mm"] = float(err[~same].mean())
        return out

    def evaluate_predict_fn(self, predict_fn, dataset, steps=None, tide=False, predictions_out=None):
        self.check_tide(tide)
        return self._score(predict_fn, dataset, steps)

    def saved_model_predict_fn(self, loaded):
        serve = loaded.signatures["serving_default"]
        return lambda x: {k: v.numpy() for k, v in serve(**{k: tf.constant(x[k]) for k in INPUT_KEYS}).items()}

    # --- export ------------------------------------------------------------------------------
    def _num_betas(self) -> int:
        return int(self.config.model.num_betas)

    def serving_signatures(self, model, image_size: int) -> dict:
        specs = sizer_export.specs_for(self._num_vertices(), self._num_betas())

        def serve(garment, size_in, size_out, betas, pose, trans):
            x = dict(zip(INPUT_KEYS, (garment, size_in, size_out, betas, pose, trans), strict=True))
            return dict(model(x, training=False))

        return {"serving_default": (serve, [specs[k] for k in INPUT_KEYS])}

    def _examples(self, n: int, seed: int = 0) -> dict[str, np.ndarray]:
        """Eval pairs when the eval file exists (real garments), else plausible random inputs."""
        data = self.config.eval_data
        if data.path and os.path.isfile(data.path):
            pairs = self.pairs(data)
            return {k: pairs[k][:n] for k in INPUT_KEYS}
        return sizer_export.inputs_for(self._num_vertices(), self._num_betas(), n, seed)

    def warmup_inputs(self, image_size: int, n: int) -> list[tuple[str, dict]]:
        return [("serving_default", self._examples(1, i)) for i in range(n)]

    def serving_verification(self, model, n: int, image_size: int) -> list[tuple[str, dict, dict]]:
        x = self._examples(max(min(n, 4), 1), 123)
        want = model(x, training=False)
        return [("serving_default", x, {k: np.asarray(want[k]) for k in ("garment", "offsets")})]

    def export_body(self, model) -> keras.Model:
        """TFLite: the pipeline over one packed input row (export.packed_body), garment out."""
        return sizer_export.packed_body(model)

    def verification_inputs(self, num_examples: int, image_size: int) -> np.ndarray:
        """Packed rows (export.pack_inputs) of eval pairs (or plausible random inputs) for the TFLite check."""
        x = self._examples(max(min(num_examples, 4), 1), 123)
        return sizer_export.pack_inputs(x, self._num_vertices(), self._num_betas())
