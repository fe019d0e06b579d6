"""A COLMAP-text flash capture as tf.data: random ray batches for training, whole views for evaluation.

The capture (spec card "Data"): ROOT/cameras.txt + images.txt (official/data/colmap.py), ROOT/images/NAME
(16- or 8-bit PNG, linear), and optionally ROOT/lights.json {name: [x, y, z]} for views lit from elsewhere;
every other view has its light at the camera centre (the collocated flash).
Training elements: ({"origins", "directions", "light"} (rays, 3), rgb (rays, 3)), each batch made of
`rays_per_view` random pixels from each of (batch / rays_per_view) shuffled photos.
Evaluation: `views()` yields whole views ({...} (H*W, 3), rgb (H*W, 3)) in name order (the task's
PSNR / SSIM); `dataset(training=False)` the same rays in batches (Keras's in-training validation).
Views whose image file is missing are counted, skipped and logged; a wrong size or a non-PNG file is a
one-line error naming the file and the field.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np

from official.core.config import ConfigError
from official.core.errors import UserError
from official.data.colmap import ColmapFormatError, load_colmap_scene
from research.three_d.drv import render
from research.three_d.drv.config import CaptureDataConfig

log = logging.getLogger(__name__)
SPLITS = ("train", "test", "all")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: str) -> tuple[int, int]:
    """(height, width) from a PNG's IHDR chunk (24 bytes read), or a UserError naming the file."""
    with open(path, "rb") as f:
        head = f.read(24)
    if len(head) < 24 or head[:8] != PNG_SIGNATURE or head[12:16] != b"IHDR":
        raise UserError(f"{path}: not a PNG file (DRV reads linear 8- or 16-bit PNG photos)")
    return int.from_bytes(head[20:24], "big"), int.from_bytes(head[16:20], "big")


class CaptureReader:
    """The views of one split of a capture, their rays and photos."""

    def __init__(self, data: CaptureDataConfig):
        if data.split not in SPLITS:
            raise ConfigError(f"split: expected one of {', '.join(SPLITS)}, got {data.split!r}")
        self.data = data
        root = data.path
        scene = load_colmap_scene(root)
        names = [str(n) for n in scene["names"]]
        cameras_txt = os.path.join(root, "cameras.txt")
        for name, (h, w) in zip(names, scene["size"], strict=True):
            if (h, w) != (data.image_size, data.image_size):
                raise ColmapFormatError(f"{cameras_txt}: camera of {name}: field WIDTH/HEIGHT: {w}x{h}, but "
                                        f"image_size is {data.image_size} (square photos of that side)")
        unknown = sorted(set(data.holdout) - set(names))
        if unknown:
            raise UserError(f"{os.path.join(root, 'images.txt')}: holdout view {unknown[0]!r} is not an image NAME there")
        centres = np.asarray(render.camera_centres(scene["rotation"], scene["translation"]))
        collocated = np.linalg.norm(scene["light"] - centres, axis=-1) < render.COLLOCATED_TOL
        every = data.holdout_every
        held = np.array([n in data.holdout or (every > 0 and k % every == 0) for k, n in enumerate(names)])
        chosen = {"train": collocated & ~held, "test": held | ~collocated, "all": np.ones(len(names), bool)}[data.split]
        paths = [os.path.join(root, data.images_dir, n) for n in names]
        present = np.array([os.path.isfile(p) for p in paths])
        missing = chosen & ~present
        if missing.any():
            log.warning("drv capture %s: %d of %d %s views have no image under %s/, skipped (first: %s)", root,
                        int(missing.sum()), int(chosen.sum()), data.split, data.images_dir,
                        paths[int(np.flatnonzero(missing)[0])])
        self.skipped = int(missing.sum())
        self.index = np.flatnonzero(chosen & present)
        if not len(self.index):
            raise UserError(f"{root}: no {data.split} views with images (split={data.split}, "
                            f"{len(data.holdout)} held out by name, holdout_every={every})")
        for k in self.index:
            h, w = png_size(paths[k])
            if (h, w) != (data.image_size, data.image_size):
                raise UserError(f"{paths[k]}: PNG is {w}x{h}, but cameras.txt and image_size say "
                                f"{data.image_size}x{data.image_size}")
        self.names = [names[k] for k in self.index]
        self.collocated = collocated[self.index]
        self.arrays = {
            "path": np.array(paths)[self.index],
            "rotation": scene["rotation"][self.index].astype(np.float32),
            "translation": scene["translation"][self.index].astype(np.float32),
            "intrinsics": scene["intrinsics"][self.index].astype(np.float32),
            "light": scene["light"][self.index].astype(np.float32),
        }

    def __len__(self) -> int:
        return len(self.index)

    def num_rays(self) -> int:
        return len(self) * self.data.image_size**2

    def cameras(self) -> np.ndarray:
        """(V, 16) float32 camera vectors [R (9), t (3), fx, fy, cx, cy] of the views (the serving input)."""
        a = self.arrays
        return np.concatenate([a["rotation"].reshape(-1, 9), a["translation"], a["intrinsics"]], -1)

    def _photos(self, input_context: Any = None):
        import tensorflow as tf

        ds = tf.data.Dataset.from_tensor_slices(self.arrays)
        if input_context is not None and input_context.num_input_pipelines > 1:
            ds = ds.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)

        def decode(ex):
            img = tf.io.decode_png(tf.io.read_file(ex["path"]), channels=3, dtype=tf.uint16)
            size = self.data.image_size
            img = tf.ensure_shape(tf.cast(img, tf.float32) / 65535.0, (size, size, 3))
            return {**{k: v for k, v in ex.items() if k != "path"}, "image": img}

        return ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE)

    def views(self):
        """Whole views in name order: ({"origins", "directions", "light"} (H*W, 3), rgb (H*W, 3)), unbatched."""
        import tensorflow as tf

        size = self.data.image_size

        def whole(ex):
            o, d = render.camera_rays(ex["rotation"][None], ex["translation"][None], ex["intrinsics"][None], size, size)
            light = tf.broadcast_to(ex["light"], (size * size, 3))
            return {"origins": o[0], "directions": d[0], "light": light}, tf.reshape(ex["image"], (-1, 3))

        return self._photos().map(whole)

    def dataset(self, training: bool, batch: int, seed: int = 0, input_context: Any = None):
        """Training: endless random ray batches. Otherwise: every ray of the views once, in order, in
        batches of `batch` rays (Keras's in-training validation; `num_rays()` of them)."""
        import tensorflow as tf

        local = input_context.get_per_replica_batch_size(batch) if input_context is not None else batch
        if not training:
            return self.views().unbatch().batch(local).prefetch(tf.data.AUTOTUNE)
        size = self.data.image_size
        ds = self._photos(input_context)
        if self.data.cache:
            ds = ds.cache()
        k = self.data.rays_per_view
        if k <= 0 or local % k:
            raise ConfigError(f"train_data.rays_per_view: {k} must divide the per-replica batch of {local} rays "
                              "(trainer.global_batch_size / replicas)")
        ds = ds.repeat().shuffle(max(1, min(self.data.shuffle_buffer, len(self))), seed=seed)
        ds = tf.data.Dataset.zip((ds, tf.data.Dataset.random(seed=seed)))

        def sample(ex, s):
            pixel = tf.random.stateless_uniform((k,), tf.stack([s, tf.constant(0, tf.int64)]), 0, size * size,
                                                dtype=tf.int32)
            uv = tf.cast(tf.stack([pixel % size, pixel // size], -1), tf.float32) + 0.5  # (column, row)
            o, d = render.pixel_rays(ex["rotation"][None], ex["translation"][None], ex["intrinsics"][None], uv[None])
            rgb = tf.gather(tf.reshape(ex["image"], (-1, 3)), pixel)
            return {"origins": o[0], "directions": d[0], "light": tf.broadcast_to(ex["light"], (k, 3))}, rgb

        def flatten(x, y):
            return {key: tf.reshape(v, (-1, 3)) for key, v in x.items()}, tf.reshape(y, (-1, 3))

        ds = ds.map(sample, num_parallel_calls=tf.data.AUTOTUNE).batch(local // k, drop_remainder=True)
        return ds.map(flatten).prefetch(tf.data.AUTOTUNE)
