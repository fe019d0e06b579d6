"""The `reflectance_volume` Task: per-scene DRV optimisation on a COLMAP-text flash capture.

Training: random ray batches of the collocated training views (research/three_d/drv/data.py), L2 on
linear RGB (spec card "Loss"; the model adds its opacity / normal priors, priors.py, when their weights are > 0),
PSNR of the rays as the compiled metric.
`evaluate` renders every view of the eval split whole (collocated views with T_l = T, others with shadow
rays marched to their light: the serving signature's render) and reports PSNR / SSIM (official/evaluation/image_quality.py, equal to
scikit-image's) over the collocated views (`psnr`, `ssim`) and the novel-light views (`novel_light_*`).
Serving (SavedModel): serving_default(camera (B, 16), light (B, 3)) -> {"image": (B, S, S, 3)}, the
fitted volume baked in (research/three_d/drv/export.py); `tools.evaluate --saved_model` scores that
signature on the eval views. TFLite is not targeted (card).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from official.core import registry
from official.core.config import ConfigError
from official.core.task import Task
from official.evaluation.image_quality import psnr, ssim
from research.three_d.drv import export as drv_export
from research.three_d.drv.config import CaptureDataConfig, ReflectanceTaskConfig
from research.three_d.drv.data import CaptureReader


class RayPSNR(keras.metrics.Metric):
    """PSNR (dB, peak 1) of all rays seen: 10 log10(1 / mean squared error over rays and channels)."""

    def __init__(self, name: str = "psnr", **kwargs):
        super().__init__(name=name, **kwargs)
        self.sse = self.add_variable(shape=(), initializer="zeros", name="sse")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        err = keras.ops.square(keras.ops.cast(y_pred, "float32") - keras.ops.cast(y_true, "float32"))
        self.sse.assign_add(keras.ops.sum(err))
        self.count.assign_add(keras.ops.cast(keras.ops.size(err), "float32"))

    def result(self):
        return -10.0 * keras.ops.log10(self.sse / keras.ops.maximum(self.count, 1.0))


def score_views(render: Callable[[int], np.ndarray], images: list[np.ndarray], names: list[str],
                collocated: np.ndarray) -> dict[str, Any]:
    """PSNR / SSIM of render(i) (H, W, 3) against images[i], clipped to [0, 1], float64, grouped by lighting."""
    out = np.stack([np.clip(np.asarray(render(i), np.float64), 0.0, 1.0) for i in range(len(images))])
    gt = np.stack(images).astype(np.float64)
    p, s = np.asarray(psnr(out, gt)), np.asarray(ssim(out, gt))
    metrics: dict[str, Any] = {"loss": float(np.mean((out - gt) ** 2)), "views": len(images)}
    for prefix, group in (("", collocated), ("novel_light_", ~collocated)):
        if group.any():
            metrics[f"{prefix}psnr"] = float(np.mean(p[group]))
            metrics[f"{prefix}ssim"] = float(np.mean(s[group]))
            metrics[f"{prefix or 'collocated_'}views"] = int(group.sum())
    metrics["per_view_psnr"] = {n: float(v) for n, v in zip(names, p, strict=True)}
    return metrics


@registry.register_task("reflectance_volume")
class ReflectanceVolumeTask(Task):
    def __init__(self, config):
        super().__init__(config)
        if not isinstance(config.task, ReflectanceTaskConfig):
            raise ConfigError("task: reflectance_volume needs a ReflectanceTaskConfig section")
        for key in ("train_data", "eval_data"):
            if not isinstance(getattr(config, key), CaptureDataConfig):
                raise ConfigError(f"{key}: reflectance_volume needs a CaptureDataConfig (path, split, holdout, ...)")
        self._readers: dict[int, CaptureReader] = {}

    def reader(self, data: CaptureDataConfig) -> CaptureReader:
        if id(data) not in self._readers:
            self._readers[id(data)] = CaptureReader(data)
        return self._readers[id(data)]

    # --- data --------------------------------------------------------------------------------
    def num_examples(self, data) -> int | None:
        """Rays (pixels): an epoch is one ray per training pixel; in-training validation one pass over the eval rays."""
        return self.reader(data).num_rays()

    def build_inputs(self, data, training: bool, global_batch_size: int, input_context: Any = None):
        return self.reader(data).dataset(training, global_batch_size, self.config.runtime.seed, input_context)

    def skipped_examples(self) -> int:
        return sum(r.skipped for r in self._readers.values())

    # --- objective ---------------------------------------------------------------------------
    def build_losses(self) -> Any:
        return keras.losses.MeanSquaredError(name="l2")

    def build_metrics(self) -> list[Any]:
        return [RayPSNR()]

    # --- evaluation --------------------------------------------------------------------------
    def _views(self) -> tuple[CaptureReader, list[dict], list[np.ndarray]]:
        """The eval split's reader, each view's rays {origins, directions, light} (H*W, 3) and photo (H, W, 3)."""
        reader = self.reader(self.config.eval_data)
        size = reader.data.image_size
        rays, images = [], []
        for x, y in reader.views():
            rays.append(x)
            images.append(y.numpy().reshape(size, size, 3))
        return reader, rays, images

    def evaluate(self, model, dataset=None, steps=None, tide=False, predictions_out=None) -> dict[str, Any]:
        """Whole eval views rendered by the model (chunks of task.eval_chunk_rays rays); `dataset` and
        `steps` are unused: every view of the split is scored."""
        self.check_tide(tide)
        network = getattr(model, "inference_model", model)
        reader, rays, images = self._views()
        chunk = self.config.task.eval_chunk_rays
        # As served (collocated=None): lights at the camera reuse T (as in training), others march shadow
        # rays; a collocated view skips the march it would discard (True: the same numbers, a third of the time).
        render = {flag: tf.function(lambda x, flag=flag: network(x, collocated=flag), reduce_retracing=True)
                  for flag in (True, None)}

        def render_view(i):
            x = rays[i]
            n = x["origins"].shape[0]
            fn = render[True if reader.collocated[i] else None]
            parts = [fn({k: v[s : s + chunk] for k, v in x.items()})
                     for s in range(0, n, chunk)]
            return np.concatenate([np.asarray(p) for p in parts]).reshape(images[i].shape)

        return score_views(render_view, images, reader.names, reader.collocated)

    def evaluate_saved_model(self, loaded, global_batch_size, steps=None, tide=False, predictions_out=None):
        """serving_default(camera, light) of a loaded SavedModel on every eval view."""
        self.check_tide(tide)
        serve = loaded.signatures["serving_default"]
        reader, _, images = self._views()
        cams, lights = reader.cameras(), reader.arrays["light"]

        def render_view(i):
            return serve(camera=tf.constant(cams[i : i + 1]), light=tf.constant(lights[i : i + 1]))["image"][0].numpy()

        return score_views(render_view, images, reader.names, reader.collocated)

    # --- export ------------------------------------------------------------------------------
    def _check_size(self, model, image_size: int) -> None:
        if image_size and image_size != model.image_size:
            raise ConfigError(f"export.image_size: {image_size}, but the volume renders {model.image_size} px images "
                              "(model.image_size; set both)")

    def serving_signatures(self, model, image_size: int) -> dict:
        self._check_size(model, image_size)
        return {"serving_default": drv_export.serving_default(model)}

    def warmup_inputs(self, image_size: int, n: int) -> list[tuple[str, dict]]:
        return [("serving_default", drv_export.warmup_inputs(image_size)) for _ in range(n)]

    def serving_verification(self, model, n: int, image_size: int) -> list[tuple[str, dict, dict]]:
        """The reloaded signature against the same render traced as a Keras graph (other lights than the camera)."""
        inputs = drv_export.verification_inputs(model.image_size, min(max(n, 1), 2))
        return [("serving_default", inputs, {"image": drv_export.graph_render(model, inputs["camera"], inputs["light"])})]
