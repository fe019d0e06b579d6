"""The `ndn` Task: layouts + relation graphs in tf.data, NDN's losses via the model's compute_loss, and
layout metrics (constraint accuracy, alignment, overlap, max-IoU) of constrained generations.

Training input (dict): categories, mask, boxes, loc/size_full (the complete graph by the const_layout
rules), loc/size_partial (a random 50-80 % of unordered pairs hidden, per layout), and the noise
eps_relation, eps_layout, box_noise; the targets are the boxes. Evaluation hides relations with a fixed
seed, generates with fixed latents and scores the generated layouts against the given relations.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from official.core import registry
from official.core.config import ConfigError
from official.core.task import Task
from official.data import element_seeds
from official.data.augment_ops import split_seed
from official.data.layouts import split_indices
from official.data.magazine_layouts import load_magazine
from official.data.rico_layouts import load_rico
from official.evaluation import layout_metrics as M
from official.evaluation.layout_relations import relation_matrices
from research.generative.ndn import export
from research.generative.ndn.config import LayoutDataConfig, NdnTaskConfig


def hide_relations(loc, size, unknown, rng):
    """Zeroes a random `unknown` fraction (per layout) of the unordered pairs, each vocabulary separately."""
    n1 = loc.shape[-1]
    upper = np.triu(np.ones((n1, n1), bool), 1)
    out = []
    for rel in (loc, size):
        keep = rng.uniform(size=rel.shape) >= np.asarray(unknown)[:, None, None]
        keep = np.where(upper, keep, np.swapaxes(keep, 1, 2))
        out.append(np.where(keep, rel, 0).astype(np.int32))
    return out


@registry.register_task("ndn")
class NdnTask(Task):
    def __init__(self, config):
        super().__init__(config)
        if not isinstance(config.task, NdnTaskConfig):
            raise ConfigError("task: ndn needs an NdnTaskConfig section")
        for key in ("train_data", "eval_data"):
            if not isinstance(getattr(config, key), LayoutDataConfig):
                raise ConfigError(f"{key}: ndn needs a LayoutDataConfig (source, path, split, max_elements)")
        self._cache: dict[tuple, dict] = {}

    def arrays(self, data: LayoutDataConfig) -> dict:
        """Padded layouts of one split with their complete relation graphs (cached)."""
        key = (data.source, data.path, data.split, data.split_seed, data.max_elements)
        if key not in self._cache:
            if data.source == "magazine":
                layouts = load_magazine(data.path, data.max_elements)
            elif data.source == "rico":
                layouts = load_rico(data.path, data.max_elements)
            else:
                raise ConfigError(f"train_data.source / eval_data.source: unknown layout source {data.source!r} "
                                  "(magazine | rico)")
            if len(layouts.label_names) != self.config.task.num_classes:
                raise ConfigError(f"task.num_classes: {self.config.task.num_classes}, but {data.source} has "
                                  f"{len(layouts.label_names)} labels")
            splits = split_indices(len(layouts), data.split_seed)
            if data.split not in splits:
                raise ConfigError(f"{data.split!r} is not a split (train | val | test)")
            packed = layouts.padded(data.max_elements)
            idx = np.sort(splits[data.split])
            packed = {k: v[idx] for k, v in packed.items()}
            rel = [relation_matrices(b, m > 0) for b, m in zip(packed["boxes"], packed["mask"], strict=True)]
            packed["loc_full"] = np.stack([r[0] for r in rel]).astype(np.int32)
            packed["size_full"] = np.stack([r[1] for r in rel]).astype(np.int32)
            self._cache[key] = packed
            print(f"{data.source} {data.split}: {len(idx)} layouts from {data.path}", flush=True)
        return self._cache[key]

    def num_examples(self, data) -> int:
        return len(self.arrays(data)["boxes"])

    def eval_inputs(self, data: LayoutDataConfig, seed: int = 1) -> dict:
        """Fixed partial graphs and latents for evaluation (the same on every call)."""
        a = self.arrays(data)
        rng = np.random.default_rng(seed)
        m = len(a["boxes"])
        unknown = rng.uniform(data.unknown_min, data.unknown_max, m)
        loc, size = hide_relations(a["loc_full"], a["size_full"], unknown, rng)
        latent = int(self.config.model.latent_dim)
        return {"categories": a["labels"], "mask": a["mask"], "loc_relations": loc, "size_relations": size,
                "z_relation": rng.normal(size=(m, latent)).astype(np.float32),
                "z_layout": rng.normal(size=(m, data.max_elements, latent)).astype(np.float32)}

    def build_inputs(self, data, training: bool, global_batch_size: int, input_context: Any = None):
        batch = input_context.get_per_replica_batch_size(global_batch_size) if input_context else global_batch_size
        pipeline = input_context.input_pipeline_id if input_context else 0
        seed = self.config.runtime.seed + pipeline
        if not training:
            x = self.eval_inputs(data)
            ds = tf.data.Dataset.from_tensor_slices(x)
            return ds.map(lambda d: (d, d["mask"])).batch(batch)
        a = self.arrays(data)
        latent = int(self.config.model.latent_dim)
        n = data.max_elements
        lo, hi, noise = data.unknown_min, data.unknown_max, data.box_noise

        def hide(rel, unknown, hide_seed):
            keep = tf.random.stateless_uniform(tf.shape(rel), hide_seed) >= unknown
            upper = tf.linalg.band_part(tf.ones((n + 1, n + 1)), 0, -1) - tf.eye(n + 1) > 0
            keep = tf.where(upper, keep, tf.transpose(keep))
            return tf.where(keep, rel, tf.zeros_like(rel))

        def add(d, element_seed):  # every draw from the element's own seed: a seeded run is reproducible
            s = split_seed(element_seed, 6)
            unknown = tf.random.stateless_uniform((), s[0], lo, hi)
            x = {"categories": d["labels"], "mask": d["mask"], "boxes": d["boxes"],
                 "loc_full": d["loc_full"], "size_full": d["size_full"],
                 "loc_partial": hide(d["loc_full"], unknown, s[1]), "size_partial": hide(d["size_full"], unknown, s[2]),
                 "eps_relation": tf.random.stateless_normal((latent,), s[3]),
                 "eps_layout": tf.random.stateless_normal((n, latent), s[4]),
                 "box_noise": tf.random.stateless_normal((n, 4), s[5], stddev=noise)}
            return x, d["boxes"]

        tf.random.set_seed(seed)
        ds = tf.data.Dataset.from_tensor_slices(a).repeat().shuffle(min(len(a["boxes"]), 10_000), seed=seed)
        ds = element_seeds.with_element_seeds(ds, seed)
        return ds.map(add, num_parallel_calls=tf.data.AUTOTUNE).batch(batch, drop_remainder=True).prefetch(2)

    # --- objective: NeuralDesignNetwork.compute_loss ------------------------------------------
    def build_losses(self) -> Any:
        return None

    def compile_model(self, model, optimizer: Any, jit_compile: bool) -> None:
        model.kl_weight = float(self.config.task.kl_weight)
        model.compile(optimizer=optimizer, jit_compile=jit_compile)

    # --- evaluation --------------------------------------------------------------------------
    def score(self, generate, data: LayoutDataConfig, batch: int = 64, steps: int | None = None) -> dict:
        """Metrics of `generate(inputs) -> boxes (B, N, 4)` on the fixed evaluation inputs of `data`."""
        x = self.eval_inputs(data)
        real = self.arrays(data)
        m = len(x["mask"]) if steps is None else min(len(x["mask"]), steps * batch)
        boxes = np.concatenate([np.asarray(generate({k: v[i:i + batch] for k, v in x.items()}))
                                for i in range(0, m, batch)])
        mask = x["mask"][:m] > 0
        pairs = [M.constraint_satisfaction(b, k, lo, si) for b, k, lo, si in
                 zip(boxes, mask, x["loc_relations"][:m], x["size_relations"][:m], strict=True)]
        gen_set = [(b[k], c[k]) for b, k, c in zip(boxes, mask, x["categories"][:m], strict=True)]
        real_set = [(b[k], c[k]) for b, k, c in zip(real["boxes"][:m], mask, real["labels"][:m], strict=True)]
        return {"constraint_accuracy": M.constraint_accuracy(pairs),
                "alignment": float(np.mean(M.alignment(boxes, mask))),
                "overlap": float(np.mean(M.overlap(boxes, mask))),
                "max_iou": M.max_iou(gen_set, real_set),
                "real_alignment": float(np.mean(M.alignment(real["boxes"][:m], mask))),
                "real_overlap": float(np.mean(M.overlap(real["boxes"][:m], mask))),
                "layouts": int(m)}

    def evaluate(self, model, dataset, steps=None, tide=False, predictions_out=None) -> dict[str, Any]:
        self.check_tide(tide)
        network = getattr(model, "inference_model", model)
        fn = tf.function(lambda x: network(x, training=False)["boxes"], reduce_retracing=True)
        return self.score(lambda x: fn({k: tf.constant(v) for k, v in x.items()}), self.config.eval_data, steps=steps)

    def evaluate_saved_model(self, loaded, global_batch_size: int, steps=None, tide=False, predictions_out=None):
        self.check_tide(tide)
        sig = loaded.signatures["serving_default"]
        return self.score(lambda x: sig(**{k: tf.constant(v) for k, v in x.items()})["boxes"].numpy(),
                          self.config.eval_data, steps=steps)

    # --- export ------------------------------------------------------------------------------
    def serving_signatures(self, model, image_size: int) -> dict:
        return export.signatures(model)

    def export_body(self, model):
        return model

    def _verification(self, n: int) -> dict:
        x = self.eval_inputs(self.config.eval_data)
        return {k: v[:n] for k, v in x.items()}

    def warmup_inputs(self, image_size: int, n: int) -> list[tuple[str, dict]]:
        return [("serving_default", self._verification(1)) for _ in range(n)]

    def serving_verification(self, model, n: int, image_size: int) -> list[tuple[str, dict, dict]]:
        x = self._verification(max(1, min(n, 2)))
        y = model({k: tf.constant(v) for k, v in x.items()}, training=False)
        return [("serving_default", x, {k: np.asarray(v) for k, v in y.items()})]

    def verification_inputs(self, num_examples: int, image_size: int):
        return self._verification(max(1, min(num_examples, 2)))
