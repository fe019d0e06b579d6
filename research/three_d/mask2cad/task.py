"""The `mask2cad` Task: Pix3D in, CPN + Mask2CAD trained jointly, retrieval / pose / AP^mesh out, and the
serving signatures of the whole inference path.

Data (official/data/pix3d.py): one record per image = image, instance mask, box, category, CAD model,
rotation, translation, K. Each image is scaled to fit the square input (longer side) and zero-padded
bottom/right; box and K scale with it. Targets per object, computed once in numpy: CPN's corner targets
(official/data/corner_targets.py, in tf.data), the rotation bin and residual (bins fitted on the training
rotations of each category, rotation_bins.py), the box-normalised projected centre, the CAD model id.
The CAD database is every model of the release (all records, both splits: the shape database of the
paper's S1 protocol), rendered by cad_views.py. Losses: the model's `compute_loss` (network.py).
Evaluation (`evaluate`, also through a SavedModel's signatures):
- heads on the GT boxes and classes (the paper's retrieval / pose accuracy): retrieval top-1, rotation
  accuracy (< 30 deg) and median error, median translation error (depth given);
- detections: AP^box at IoU 0.5 and AP^mesh (mesh F1@0.3 > 0.5 after scaling the GT's longest box edge
  to 10, Mesh R-CNN's Pix3D protocol; metrics.py), per category, averaged over the categories present.
Serving: serving_default (images, image_sizes, intrinsics, depth) -> detections + CAD model ids + poses;
on_boxes (images, boxes, classes, intrinsics, depth) -> the same per given box.
"""

from __future__ import annotations

import json
import os
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from official.core import registry
from official.core.config import ConfigError
from official.core.errors import UserError
from official.core.task import Task
from official.data import corner_targets, pix3d
from research.three_d.mask2cad import cad_views, metrics, retrieval, rotation_bins
from research.three_d.mask2cad.config import Mask2CADTaskConfig, Pix3DDataConfig

CPN_TARGETS = ("tl_heatmap", "br_heatmap", "tl_indices", "br_indices", "tl_offsets", "br_offsets", "box_mask")


class SplitFileError(UserError, ValueError):
    """A split JSON that is missing, not JSON, or without images[].file_name; the message names the file."""


def split_images(path: str) -> set[str]:
    """The image paths (images[].file_name) of a Mesh R-CNN split JSON."""
    if not os.path.isfile(path):
        raise SplitFileError(f"{path}: split file not found (data.split_file)")
    try:
        with open(path, encoding="utf-8") as f:
            images = json.load(f)["images"]
        return {str(img["file_name"]) for img in images}
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise SplitFileError(f"{path}: expected a COCO-format split JSON with images[].file_name ({err!r})") from err


def fit_and_pad(image, size: int):
    """Scales (H, W, C) so the longer side is `size`, pads bottom/right to size x size; returns (image,
    scale, the scaled image's extent (height, width))."""
    hw = tf.cast(tf.shape(image)[:2], tf.float32)
    scale = size / tf.reduce_max(hw)
    new = tf.minimum(tf.round(hw * scale), float(size))
    resized = tf.image.resize(tf.cast(image, tf.float32), tf.cast(new, tf.int32), antialias=True)
    return tf.image.pad_to_bounding_box(resized, 0, 0, size, size), scale, new


@registry.register_task("mask2cad")
class Mask2CADTask(Task):
    def __init__(self, config):
        super().__init__(config)
        if not isinstance(config.task, Mask2CADTaskConfig):
            raise ConfigError("task: mask2cad needs a Mask2CADTaskConfig section")
        for key in ("train_data", "eval_data"):
            if not isinstance(getattr(config, key), Pix3DDataConfig):
                raise ConfigError(f"{key}: mask2cad needs a Pix3DDataConfig (path = pix3d.json, split_file)")
        categories = tuple(config.task.categories) or pix3d.CATEGORIES
        unknown = [c for c in categories if c not in pix3d.CATEGORIES]
        if unknown:
            raise ConfigError(f"task.categories: {unknown} are not Pix3D categories {pix3d.CATEGORIES}")
        if len(categories) != config.task.num_classes:
            raise ConfigError(f"task.num_classes is {config.task.num_classes} but task.categories has "
                              f"{len(categories)} entries")
        self.categories = categories
        self._all: dict[str, Any] = {}
        self._cache: dict[Any, Any] = {}

    # --- records, database, bins -------------------------------------------------------------
    def _release(self, json_path: str) -> tuple[pix3d.Pix3DRecords, dict[str, int]]:
        """All records of a pix3d.json (kept categories only) and its CAD models: path -> id (sorted)."""
        if json_path not in self._all:
            if not json_path:
                raise ConfigError("train_data.path / eval_data.path: the release's pix3d.json is required")
            rec = pix3d.load_pix3d(json_path)
            paths = sorted({m for m, c in zip(rec.model, rec.category, strict=True)
                            if pix3d.CATEGORIES[c] in self.categories})
            self._all[json_path] = (rec, {p: i for i, p in enumerate(paths)})
        return self._all[json_path]

    def records(self, data: Pix3DDataConfig) -> dict[str, np.ndarray]:
        """The split's records as arrays: paths, class, box, K, quaternion, translation, model id."""
        key = ("records", data.path, data.split_file)
        if key not in self._cache:
            rec, model_ids = self._release(data.path)
            root = os.path.dirname(os.path.abspath(data.path))
            keep_images = split_images(data.split_file) if data.split_file else None
            rows = [i for i in range(len(rec)) if pix3d.CATEGORIES[rec.category[i]] in self.categories
                    and (keep_images is None or os.path.relpath(rec.image[i], root) in keep_images)]
            if not rows:
                raise ConfigError(f"{data.split_file or data.path}: no record of the categories {self.categories}")
            self._cache[key] = {
                "image": np.array([rec.image[i] for i in rows]), "mask": np.array([rec.mask[i] for i in rows]),
                "class": np.array([self.categories.index(pix3d.CATEGORIES[rec.category[i]]) for i in rows], np.int32),
                "box": rec.bbox[rows], "intrinsics": rec.intrinsics[rows], "quaternion": rec.quaternion[rows],
                "rotation": rec.rotation[rows], "translation": rec.translation[rows],
                "model_id": np.array([model_ids[rec.model[i]] for i in rows], np.int32)}
        return self._cache[key]

    def database(self) -> dict[str, np.ndarray]:
        """The rendered CAD views of every model of the training release (cad_views.py)."""
        if "database" not in self._cache:
            data, t = self.config.train_data, self.config.task
            rec, model_ids = self._release(data.path)
            category = {m: self.categories.index(pix3d.CATEGORIES[c]) for m, c in zip(rec.model, rec.category,
                                                                                      strict=True) if m in model_ids}
            paths = list(model_ids)
            size = int(self.config.model.view_size)
            self._cache["database"] = cad_views.cad_database(
                os.path.dirname(os.path.abspath(data.path)), paths, [category[p] for p in paths],
                t.views_per_model, size, t.view_elevation, t.view_cache)
        return self._cache["database"]

    def bins(self) -> np.ndarray:
        """Rotation bins (C, B, 4) fitted on the training rotations of each category."""
        if "bins" not in self._cache:
            r = self.records(self.config.train_data)
            self._cache["bins"] = rotation_bins.fit_rotation_bins(
                r["quaternion"], r["class"], self.config.task.num_classes, int(self.config.model.num_bins))
        return self._cache["bins"]

    def build_model(self) -> keras.Model:
        model = super().build_model()
        db = self.database()
        if model.num_classes != self.config.task.num_classes:
            raise ConfigError(f"model.num_classes is {model.num_classes}, task.num_classes "
                              f"{self.config.task.num_classes}")
        if len(db["views"]) != model.views.shape[0]:
            raise ConfigError(f"model.num_cad_views is {model.views.shape[0]} but the release has "
                              f"{len(db['views']) // self.config.task.views_per_model} CAD models x "
                              f"{self.config.task.views_per_model} views = {len(db['views'])}")
        model.set_cad_database(db["views"], db["view_models"], db["view_categories"])
        model.set_rotation_bins(self.bins())
        return model

    # --- data --------------------------------------------------------------------------------
    def num_examples(self, data) -> int | None:
        return len(self.records(data)["class"])

    def _slices(self, data: Pix3DDataConfig) -> dict[str, np.ndarray]:
        r = self.records(data)
        index, delta = rotation_bins.rotation_targets(r["quaternion"], r["class"], self.bins())
        uvw = np.einsum("nij,nj->ni", r["intrinsics"], r["translation"])
        offset = np.asarray(retrieval.encode_centre(uvw[:, :2] / uvw[:, 2:], r["box"]), np.float32)
        return {"image_path": r["image"], "mask_path": r["mask"], "class": r["class"], "box": r["box"],
                "intrinsics": r["intrinsics"].astype(np.float32), "quaternion": r["quaternion"].astype(np.float32),
                "translation": r["translation"].astype(np.float32), "model_id": r["model_id"],
                "rotation_bin": index, "rotation_delta": delta.astype(np.float32), "centre_offset": offset,
                "index": np.arange(len(index), dtype=np.int32)}

    def _example(self, ex: dict, size: int, training: bool):
        t = self.config.task
        image = tf.io.decode_image(tf.io.read_file(ex["image_path"]), channels=3, expand_animations=False)
        mask = tf.io.decode_image(tf.io.read_file(ex["mask_path"]), channels=1, expand_animations=False)
        image, scale, extent = fit_and_pad(image, size)
        mask, _, _ = fit_and_pad(tf.cast(mask > 127, tf.float32), size)
        box = ex["box"] * scale
        k = ex["intrinsics"] * tf.constant([[1.0], [1.0], [0.0]]) * scale + ex["intrinsics"] * tf.constant(
            [[0.0], [0.0], [1.0]])
        x = {"image": image, "boxes": box[None], "classes": ex["class"][None], "valid": tf.ones([1], tf.bool)}
        y = {"rotation_bin": ex["rotation_bin"][None], "rotation_delta": ex["rotation_delta"][None],
             "centre_offset": ex["centre_offset"][None], "model_id": ex["model_id"][None]}
        if training:
            cpn = corner_targets.encode_corner_targets(box[None], ex["class"][None], size, -(-size // t.output_stride),
                                                       t.num_classes, 1, t.gaussian_iou)
            x.update(gt_boxes=cpn["gt_boxes"], gt_classes=cpn["gt_classes"], box_mask=cpn["box_mask"],
                     gt_masks=tf.cast(mask >= 0.5, tf.float32))
            y.update({k2: cpn[k2] for k2 in CPN_TARGETS})
        else:
            x.update(image_size=extent, intrinsics=k,
                     depth=ex["translation"][2])
            y.update(quaternion=ex["quaternion"][None], translation=ex["translation"][None], index=ex["index"])
        return x, y

    def build_inputs(self, data, training: bool, global_batch_size: int, input_context: Any = None):
        batch = input_context.get_per_replica_batch_size(global_batch_size) if input_context else global_batch_size
        ds = tf.data.Dataset.from_tensor_slices(self._slices(data))
        if input_context is not None and input_context.num_input_pipelines > 1:
            ds = ds.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
        if training:
            ds = ds.shuffle(len(self.records(data)["class"]), seed=self.config.runtime.seed,
                            reshuffle_each_iteration=True).repeat()
        ds = ds.map(lambda ex: self._example(ex, data.image_size, training), num_parallel_calls=tf.data.AUTOTUNE,
                    deterministic=not training or data.deterministic)
        return ds.batch(batch, drop_remainder=training).prefetch(tf.data.AUTOTUNE)

    # --- objective ---------------------------------------------------------------------------
    def build_losses(self):
        return None  # the model's compute_loss

    def compile_model(self, model, optimizer, jit_compile: bool) -> None:
        model.compile(optimizer=optimizer, loss=None, jit_compile=jit_compile)

    # --- evaluation --------------------------------------------------------------------------
    def _mesh_points(self, model_id: int) -> tuple[np.ndarray, np.ndarray]:
        """(surface samples (n, 3), vertices) of a CAD model in its own frame (sampling commutes with a
        rigid pose, so posed samples = R p + t)."""
        key = ("mesh", model_id)
        if key not in self._cache:
            from official.data.mesh_io import load_mesh

            data = self.config.train_data
            _, model_ids = self._release(data.path)
            path = os.path.join(os.path.dirname(os.path.abspath(data.path)), list(model_ids)[model_id])
            v, f = load_mesh(path)
            self._cache[key] = (metrics.sample_surface(v, f, self.config.task.mesh_samples, seed=model_id), v)
        return self._cache[key]

    def score(self, detections: list[dict], on_boxes: list[dict], truth: list[dict]) -> dict[str, float]:
        """Metrics from per-image numpy predictions (see the module docstring)."""
        from scipy.spatial.transform import Rotation

        t = self.config.task
        gt_q = np.stack([g["quaternion"] for g in truth])
        gt_t = np.stack([g["translation"] for g in truth])
        gt_model = np.array([g["model_id"] for g in truth])
        gt_class = np.array([g["class"] for g in truth])
        gb = {k: np.stack([p[k] for p in on_boxes]) for k in on_boxes[0]}
        out = {"retrieval_top1": metrics.retrieval_top1(gb["model_id"], gt_model),
               **metrics.rotation_metrics(gb["quaternion"], gt_q),
               "median_translation_error_m": float(np.median(np.linalg.norm(gb["translation"] - gt_t, axis=1)))}
        gt_points, gt_scale = [], []
        for g in truth:
            pts, v = self._mesh_points(int(g["model_id"]))
            rot = Rotation.from_quat(g["quaternion"], scalar_first=True).as_matrix()
            gt_points.append(pts @ rot.T + g["translation"])
            gt_scale.append(metrics.gt_scale(v @ rot.T))
        ap_box, ap_mesh = [], []
        for c in range(t.num_classes):
            gts = np.flatnonzero(gt_class == c)
            if not len(gts):
                continue
            column = {int(i): j for j, i in enumerate(gts)}
            scores, iou, f1 = [], [], []
            for i, det in enumerate(detections):
                for d in np.flatnonzero(det["valid"] & (det["classes"] == c)):
                    scores.append(det["scores"][d])
                    row_iou, row_f1 = np.full(len(gts), -np.inf), np.full(len(gts), -np.inf)
                    if i in column:
                        row_iou[column[i]] = box_iou(det["boxes"][d], truth[i]["box"])
                        pts, _ = self._mesh_points(int(det["model_id"][d]))
                        rot = Rotation.from_quat(det["quaternion"][d], scalar_first=True).as_matrix()
                        row_f1[column[i]] = metrics.points_f1(pts @ rot.T + det["translation"][d], gt_points[i],
                                                              gt_scale[i], t.f1_threshold)["f1"]
                    iou.append(row_iou)
                    f1.append(row_f1)
            shape = (len(scores), len(gts))
            ap_box.append(metrics.average_precision(np.array(scores), np.reshape(iou, shape), len(gts), 0.5))
            ap_mesh.append(metrics.average_precision(np.array(scores), np.reshape(f1, shape), len(gts), t.ap_mesh_f1))
        out.update(ap_box50=float(np.mean(ap_box)), ap_mesh=float(np.mean(ap_mesh)), images=float(len(truth)))
        return out

    def _run(self, detect_fn, boxes_fn, dataset, steps=None) -> dict[str, float]:
        detections, on_boxes, truth, full = [], [], [], None
        for i, (x, y) in enumerate(dataset):
            if steps is not None and i >= steps:
                break
            full = full or int(x["image"].shape[0])
            xp = pad_batch(x, full)  # the last, smaller batch padded: one graph trace, not two
            det = {k: np.asarray(v) for k, v in detect_fn(xp).items()}
            gb = {k: np.asarray(v)[:, 0] for k, v in boxes_fn(xp).items()}
            for b in range(int(x["image"].shape[0])):
                detections.append({k: v[b] for k, v in det.items()})
                on_boxes.append({k: v[b] for k, v in gb.items()})
                truth.append({"quaternion": y["quaternion"][b, 0].numpy(), "translation": y["translation"][b, 0].numpy(),
                              "model_id": int(y["model_id"][b, 0]), "class": int(x["classes"][b, 0]),
                              "box": x["boxes"][b, 0].numpy()})
        return self.score(detections, on_boxes, truth)

    def evaluate(self, model, dataset, steps=None, tide=False, predictions_out=None) -> dict[str, Any]:
        """The metrics through the serving functions' graphs (`serving_functions`): an export of the same model
        afterwards reuses these traces instead of tracing CPN again."""
        self.check_tide(tide)
        network = getattr(model, "inference_model", model)
        fns = self.serving_functions(network, int(network.detector.input_size))

        def detect(x):
            return fns["serving_default"](x["image"], x["image_size"], x["intrinsics"], x["depth"])

        def boxes(x):
            return fns["on_boxes"](x["image"], x["boxes"], x["classes"], x["intrinsics"], x["depth"])

        return self._run(detect, boxes, dataset, steps)

    def evaluate_saved_model(self, loaded, global_batch_size: int, steps=None, tide=False, predictions_out=None):
        """The same metrics through the SavedModel's serving_default and on_boxes signatures."""
        self.check_tide(tide)
        serve, on_boxes = loaded.signatures["serving_default"], loaded.signatures["on_boxes"]
        dataset = self.build_inputs(self.config.eval_data, False, global_batch_size)

        def detect(x):
            return serve(images=x["image"], image_sizes=x["image_size"], intrinsics=x["intrinsics"], depth=x["depth"])

        def boxes(x):
            return on_boxes(images=x["image"], boxes=x["boxes"], classes=x["classes"], intrinsics=x["intrinsics"],
                            depth=x["depth"])

        return self._run(detect, boxes, dataset, steps)

    # --- export ------------------------------------------------------------------------------
    def serving_functions(self, model, image_size: int) -> dict:
        """serving_default and on_boxes as tf.functions with the serving input signatures, made once per model
        (after `refresh_view_table`) and kept on it: `evaluate` and an export of the same model (tools.train
        then an export in one process, the tests) share one trace of each (the SavedModel writer traces them
        once more in its save context)."""
        model.refresh_view_table()
        made = model.__dict__.get("_mask2cad_serving_functions", {})
        if image_size in made:
            return made[image_size]
        keys = ("boxes", "scores", "classes", "num_detections", "valid", "model_id", "similarity", "quaternion", "translation")
        images = tf.TensorSpec([None, image_size, image_size, 3], tf.float32, name="images")
        k = tf.TensorSpec([None, 3, 3], tf.float32, name="intrinsics")
        depth = tf.TensorSpec([None], tf.float32, name="depth")

        def detect(images, image_sizes, intrinsics, depth):
            out = model.detect_and_retrieve(images, image_sizes, intrinsics, depth)
            return {key: out[key] for key in keys}

        def on_boxes(images, boxes, classes, intrinsics, depth):
            out = model.predict_on_boxes(images, boxes, classes, intrinsics, depth)
            return {key: out[key] for key in ("model_id", "similarity", "quaternion", "translation", "centre_uv")}

        specs = {"serving_default": [images, tf.TensorSpec([None, 2], tf.float32, name="image_sizes"), k, depth],
                 "on_boxes": [images, tf.TensorSpec([None, None, 4], tf.float32, name="boxes"),
                              tf.TensorSpec([None, None], tf.int32, name="classes"), k, depth]}
        fns = {name: tf.function(fn, input_signature=specs[name], autograph=False)
               for name, fn in (("serving_default", detect), ("on_boxes", on_boxes))}
        # object.__setattr__: a plain attribute, not tracked by Keras / the SavedModel object graph
        object.__setattr__(model, "_mask2cad_serving_functions", {**made, image_size: fns})
        return fns

    def serving_signatures(self, model, image_size: int) -> dict:
        fns = self.serving_functions(model, image_size)
        return {name: (fn, fn.input_signature) for name, fn in fns.items()}

    def _eval_batch(self, n: int) -> dict[str, np.ndarray]:
        x, _ = next(iter(self.build_inputs(self.config.eval_data, False, max(1, min(n, 4)))))
        return {k: np.asarray(v) for k, v in x.items()}

    def serving_verification(self, model, n: int, image_size: int) -> list:
        x = self._eval_batch(n)
        sig = self.serving_signatures(model, image_size)
        det_in = {"images": x["image"], "image_sizes": x["image_size"], "intrinsics": x["intrinsics"],
                  "depth": x["depth"]}
        box_in = {"images": x["image"], "boxes": x["boxes"], "classes": x["classes"], "intrinsics": x["intrinsics"],
                  "depth": x["depth"]}
        det = {k: np.asarray(v) for k, v in sig["serving_default"][0](**det_in).items()}
        gb = {k: np.asarray(v) for k, v in sig["on_boxes"][0](**box_in).items()}
        return [("serving_default", det_in, det), ("on_boxes", box_in, gb)]

    def warmup_inputs(self, image_size: int, n: int) -> list:
        x = self._eval_batch(1)
        req = {"images": x["image"][:1], "image_sizes": x["image_size"][:1], "intrinsics": x["intrinsics"][:1],
               "depth": x["depth"][:1]}
        return [("serving_default", req) for _ in range(n)]


def pad_batch(x: dict, size: int) -> dict:
    """A batch dict with its rows repeated from the last up to `size` rows (outputs past the real rows are
    ignored by the caller, which iterates over the real images only)."""
    n = int(x["image"].shape[0])
    if n == size:
        return x
    return {k: tf.concat([v, tf.repeat(v[-1:], size - n, axis=0)], 0) for k, v in x.items()}


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two (x1, y1, x2, y2) boxes."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0
