"""The `sizer_parser` Task: ParserNet trained on the authors' ParserNet .npz in its two stages; v2v in mm.

Data (train_parser.py, load_data.ParserData): `path` = the code's ParserNet .npz (reg (N, V_in, 3)
registered clothed body, <layer> (N, V_out, 3) registered garment; official/data/sizer_npz.py) and the
meta files <meta_data>/<class>/<layer>_<res>{.obj, _id.npy, _<K>_gar_order.npy}. Inputs: reg; target
{"vertices": garment}. Model: the experiment's ParserNet variant, built as StagedParserNet
(parser_objective.py) with its (V_out, K) candidate table from the _gar_order file (a non-trainable
weight: checkpoints carry it, and a restored model uses the checkpoint's table). Objective
(losses.staged_parser_loss): identity L1 for the first `task.identity_steps` steps (-1: the code's 16
epochs), then Chamfer + 100 x Laplacian (template faces) + the local regulariser. Metric (paper):
v2v_mm = mean vertex distance of the parsed garment to the registered one; copy_v2v_mm = the same for
reg's template vertices copied (what identity pretraining converges to); chamfer_mm2 = the loss's term.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import tensorflow as tf

from official.core import registry
from official.core.config import ConfigError, model_kwargs
from official.core.errors import BadValueError
from official.core.task import Task
from official.data import sizer_npz
from official.ops.mesh_ops import neighbour_lists
from research.three_d.sizer import losses, metrics
from research.three_d.sizer.config import ParserDataConfig, ParserTaskConfig
from research.three_d.sizer.model import ParserNet
from research.three_d.sizer.parser_objective import ParserObjective, StagedParserNet
from research.three_d.sizer.task import read_garment_mesh


def meta_paths(data: ParserDataConfig, num_neighbours: int) -> dict[str, str]:
    """The code's meta files of data's class, layer and resolution (train_parser.py's names)."""
    stem = os.path.join(data.meta_data, data.garment_class, f"{data.layer}_{data.resolution}")
    return {"mesh": stem + ".obj", "vert_indices": stem + "_id.npy",
            "neighbours": f"{stem}_{num_neighbours}_gar_order.npy"}


def read_index_file(path: str, shape: tuple[int, ...], upper: int) -> np.ndarray:
    """An int .npy of `shape` with values in [0, upper); a SizerDataError naming the file otherwise."""
    if not os.path.isfile(path):
        raise sizer_npz.SizerDataError(f"{path}: no such file")
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise sizer_npz.SizerDataError(f"{path}: not a readable .npy ({err})") from None
    if array.shape != shape or not np.issubdtype(array.dtype, np.integer):
        raise sizer_npz.SizerDataError(f"{path}: {array.dtype} array of shape {array.shape}, expected integers "
                                       f"of shape {shape} (the model's vertex counts)")
    if array.size and (array.min() < 0 or array.max() >= upper):
        raise sizer_npz.SizerDataError(f"{path}: vertex index {array.min() if array.min() < 0 else array.max()} "
                                       f"outside the {upper} input vertices")
    return array.astype(np.int32)


@registry.register_task("sizer_parser")
class ParserTask(Task):
    def __init__(self, config):
        super().__init__(config)
        if not isinstance(config.task, ParserTaskConfig):
            raise ConfigError("task: sizer_parser needs a ParserTaskConfig section")
        for key in ("train_data", "eval_data"):
            if not isinstance(getattr(config, key), ParserDataConfig):
                raise ConfigError(f"{key}: sizer_parser needs a ParserDataConfig (path, meta_data, garment_class, ...)")
        self._scans: dict[str, dict[str, np.ndarray]] = {}
        self._meta: dict[str, np.ndarray] | None = None

    # --- model -------------------------------------------------------------------------------
    def _sizes(self) -> tuple[int, int, int]:
        m = self.config.model
        return int(m.num_input_vertices), int(m.num_output_vertices), int(m.num_neighbours)

    def meta(self) -> dict[str, np.ndarray]:
        """vert_indices (V,), neighbours (V, K), identity (V, K), face_neighbours / face_mask (V, D)."""
        if self._meta is None:
            n_in, n_out, k = self._sizes()
            paths = meta_paths(self.config.train_data, k)
            vert_indices = read_index_file(paths["vert_indices"], (n_out,), n_in)
            neighbours = read_index_file(paths["neighbours"], (n_out, k), n_in)
            try:
                identity = losses.identity_targets(neighbours, vert_indices)
            except ValueError as err:
                raise sizer_npz.SizerDataError(f"{paths['neighbours']}: {err}") from None
            faces, _ = read_garment_mesh(paths["mesh"], n_out)
            face_neighbours, face_mask = neighbour_lists(faces, n_out)
            self._meta = {"vert_indices": vert_indices, "neighbours": neighbours, "identity": identity,
                          "face_neighbours": face_neighbours, "face_mask": face_mask}
        return self._meta

    def build_model(self) -> StagedParserNet:
        """The experiment's ParserNet variant (as StagedParserNet) with the _gar_order candidate table."""
        cfg = self.config.model
        if cfg.keras_file or getattr(registry.get_model_builder(cfg.name), "model_cls", None) is not ParserNet:
            raise ConfigError(f"model.name: the sizer_parser task trains a registered ParserNet variant, got {cfg.name!r}"
                              + (" with a keras_file" if cfg.keras_file else ""))
        if cfg.feature_dim != 3:
            raise ConfigError(f"model.feature_dim: {cfg.feature_dim}; the reader gives vertices only (the code's "
                              "feat: v); normals (feat: vn, 6) are not read")
        model = StagedParserNet(**model_kwargs(cfg))
        model.set_neighbours(self.meta()["neighbours"])
        return model

    # --- data --------------------------------------------------------------------------------
    def scans(self, data: ParserDataConfig) -> dict[str, np.ndarray]:
        """{reg (N, V_in, 3), garment (N, V_out, 3)} of data.path, cut to the model's counts like ParserData."""
        if data.path not in self._scans:
            if not data.path:
                raise ConfigError("train_data.path: no ParserNet .npz given")
            raw = sizer_npz.load_parser_npz(data.path, data.layer)
            n_in, n_out, _ = self._sizes()
            for key, count, field in (("reg", n_in, "num_input_vertices"), (data.layer, n_out, "num_output_vertices")):
                if raw[key].shape[1] < count:
                    raise sizer_npz.SizerDataError(f"{data.path}: key '{key}' has {raw[key].shape[1]} vertices, "
                                                   f"model.{field} is {count}")
            if not len(raw["reg"]):
                raise sizer_npz.SizerDataError(f"{data.path}: no valid scan left")
            self._scans[data.path] = {"reg": raw["reg"][:, :n_in], "garment": raw[data.layer][:, :n_out]}
        return self._scans[data.path]

    def num_examples(self, data) -> int | None:
        return len(self.scans(data)["reg"])

    def build_inputs(self, data, training: bool, global_batch_size: int, input_context: Any = None):
        """(reg, {"vertices": garment}); endless, shuffled and full batches (the code's drop_last) when training."""
        scans = self.scans(data)
        ds = tf.data.Dataset.from_tensor_slices((scans["reg"], {"vertices": scans["garment"]}))
        batch = global_batch_size
        if input_context is not None:
            batch = input_context.get_per_replica_batch_size(global_batch_size)
            if input_context.num_input_pipelines > 1:
                ds = ds.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
        if training:
            ds = ds.shuffle(min(data.shuffle_buffer, len(scans["reg"])), seed=self.config.runtime.seed,
                            reshuffle_each_iteration=True).repeat().batch(batch, drop_remainder=True)
        else:
            ds = ds.batch(batch)
        return ds.prefetch(tf.data.AUTOTUNE)

    # --- objective ---------------------------------------------------------------------------
    def identity_steps(self) -> int:
        """Steps of identity pretraining: task.identity_steps, or identity_epochs x the trainer's steps per epoch."""
        t = self.config.task
        if t.identity_steps >= 0:
            return int(t.identity_steps)
        from official.core.trainer import plan_run

        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        return int(t.identity_epochs) * plan_run(self.config, self, replicas).steps_per_epoch

    def build_losses(self) -> Any:
        return None  # StagedParserNet.compute_loss (losses.staged_parser_loss)

    def compile_model(self, model, optimizer: Any, jit_compile: bool) -> None:
        t, meta = self.config.task, self.meta()
        steps = self.identity_steps()
        model.compile(optimizer=optimizer, loss=None, jit_compile=jit_compile)
        model.set_objective(ParserObjective(meta["identity"], meta["face_neighbours"], meta["face_mask"], steps,
                                            t.laplacian_weight, t.local_weight))
        print(f"ParserNet stages: identity L1 for steps 0-{steps - 1}, then Chamfer + {t.laplacian_weight:g} x "
              f"Laplacian + {t.local_weight:g} x local regulariser")

    # --- evaluation --------------------------------------------------------------------------
    def evaluate(self, model, dataset, steps=None, tide=False, predictions_out=None) -> dict[str, Any]:
        """v2v_mm (paper), copy_v2v_mm (reg's template vertices), chamfer_mm2, scans."""
        self.check_tide(tide)
        meta = self.meta()
        network = getattr(model, "inference_model", model)
        predict = tf.function(lambda x: network(x, training=False)["vertices"], reduce_retracing=True)
        errors, copies, chamfer = [], [], []
        for i, (reg, target) in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            y = np.asarray(target["vertices"])
            pred = np.asarray(predict(reg))
            errors.append(np.asarray(metrics.vertex_errors_mm(pred, y)))
            copies.append(np.asarray(metrics.vertex_errors_mm(np.asarray(reg)[:, meta["vert_indices"]], y)))
            terms = losses.garment_loss(pred, y, meta["face_neighbours"], meta["face_mask"], 0.0)
            chamfer.append(float(terms["chamfer"]) * len(y))
        if not errors:
            return {}
        err = np.concatenate(errors)
        return {"v2v_mm": float(err.mean()), "copy_v2v_mm": float(np.concatenate(copies).mean()),
                "chamfer_mm2": float(np.sum(chamfer) / len(err)) * metrics.MM_PER_M ** 2, "scans": int(len(err))}

    # --- export ------------------------------------------------------------------------------
    def serving_signatures(self, model, image_size: int) -> dict:
        raise BadValueError("tools.export: ParserNet has no serving signature yet (research/three_d/sizer/README.md, "
                            "Not done); evaluate checkpoints with tools.evaluate --model_dir")
