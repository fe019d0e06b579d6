"""Mask2CAD small run on rendered primitives (synthetic.py): 4 CAD models in 2 categories, one object per
64x64 image, GT boxes and classes given (the detector is not part of this run), GT depth given (Pix3D
protocol), written as a Pix3D release and read back through official/data/pix3d.py. Trains the second stage (mask head, Mask2CAD heads, view encoder) jointly and reports, on held-out
images: CAD retrieval top-1, rotation accuracy (< 30 deg) and median error, median translation error, mean
mesh F1@0.3 of the retrieved model at the predicted pose, mask IoU.

    PYTHONPATH=. python -m research.three_d.mask2cad.small_run --steps=800

The loop is a plain TensorFlow GradientTape loop (TF backend) on GT boxes; the full model (CPN + heads) trains
through tools.train as experiment `mask2cad_small_pix3d` (task.py, network.py).
"""

from __future__ import annotations

import argparse
import json
import time

import keras
import numpy as np

from research.three_d.mask2cad import losses, metrics, retrieval, rotation_bins, synthetic
from research.three_d.mask2cad.model import Mask2CADRoI, mask_loss


def load_pix3d_scenes(json_path: str) -> dict:
    """A Pix3D release written by synthetic.write_pix3d, read through official/data/pix3d.py, as arrays."""
    from official.data import pix3d

    rec = pix3d.load_pix3d(json_path)
    examples = list(pix3d.pix3d_dataset(rec).as_numpy_iterator())
    names = {f"{synthetic.CATEGORIES[m['category']]}/{m['name']}": m["id"] for m in synthetic.cad_models()}
    model = [names["/".join(path.split("/")[1:3])] for path in rec.model]
    if not np.allclose(rec.intrinsics, rec.intrinsics[:1]):
        raise ValueError(f"{json_path}: the small run expects one camera for all images")
    return {"image": np.stack([e["image"] for e in examples]), "mask": np.stack([e["mask"] for e in examples]),
            "box": rec.bbox, "model": np.array(model), "rotation": rec.rotation, "quaternion": rec.quaternion,
            "translation": rec.translation, "K": rec.intrinsics[0],
            "category": np.array([synthetic.CATEGORIES.index(pix3d.CATEGORIES[c]) for c in rec.category])}


def _targets(data: dict, bins: np.ndarray, views: dict) -> dict:
    k = data["K"]
    uvw = data["translation"] @ k.T
    uv = uvw[:, :2] / uvw[:, 2:]
    index, delta = rotation_bins.rotation_targets(data["quaternion"], data["category"], bins)
    pos = views["view_models"][None, :] == data["model"][:, None]
    neg = (views["view_categories"][None, :] == data["category"][:, None]) & ~pos
    return {"classes": data["category"].astype(np.int32), "rotation_bin": index,
            "rotation_delta": delta.astype(np.float32),
            "centre_offset": np.asarray(retrieval.encode_centre(uv, data["box"]), np.float32),
            "positive_mask": pos.astype(np.float32), "negative_mask": neg.astype(np.float32)}


def evaluate(model: Mask2CADRoI, data: dict, views: dict, bins: np.ndarray, f1_samples: int = 2000) -> dict:
    """Metrics on `data` with GT boxes, classes and depths."""
    out = model({"images": data["image"], "boxes": data["box"][:, None], "classes": data["category"][:, None]},
                training=False)
    table = retrieval.CADRetrieval(np.asarray(model.encode_views(views["views"])), views["view_categories"],
                                   views["view_models"])
    found = table(out["embedding"], out["classes"])
    q = np.asarray(retrieval.decode_rotation(out["rotation_logits"], out["rotation_delta"], out["classes"],
                                             bins.astype(np.float32)))
    uv = retrieval.decode_centre(out["centre_offset"].numpy()[np.arange(len(q)), data["category"]], data["box"])
    t = np.asarray(retrieval.translation_from_centre(uv, data["translation"][:, 2], data["K"]))
    models = synthetic.cad_models()
    rot_pred = synthetic.Rotation.from_quat(q, scalar_first=True).as_matrix()
    f1 = []
    for i, m in enumerate(np.asarray(found["model_id"])):
        pred_v = models[m]["vertices"] @ rot_pred[i].T + t[i]
        gt = models[data["model"][i]]
        gt_v = gt["vertices"] @ data["rotation"][i].T + data["translation"][i]
        f1.append(metrics.mesh_f1(pred_v, models[m]["faces"], gt_v, gt["faces"], num_samples=f1_samples,
                                  seed=i)["f1"])
    mask_pred = np.asarray(out["mask_probs"])[..., 0] >= 0.5
    import tensorflow as tf  # RoI-aligned GT masks for the IoU (the loss's targets)

    target = tf.image.crop_and_resize(data["mask"], data["box"][:, [1, 0, 3, 2]] / (data["mask"].shape[1]),
                                      np.arange(len(q)), (14, 14)).numpy()[..., 0] >= 0.5
    iou = np.sum(mask_pred & target, (1, 2)) / np.maximum(np.sum(mask_pred | target, (1, 2)), 1)
    # AP^mesh with the GT boxes (one object per image: a detection can only match its own image's object),
    # scored by the retrieval similarity, averaged over the categories
    f1, score = np.asarray(f1), np.asarray(found["similarity"])
    aps = []
    for c in range(len(synthetic.CATEGORIES)):
        idx = np.flatnonzero(data["category"] == c)
        sim = np.full((len(idx), len(idx)), -np.inf)
        sim[np.arange(len(idx)), np.arange(len(idx))] = f1[idx]
        aps.append(metrics.average_precision(score[idx], sim, len(idx)))
    return {"retrieval_top1": metrics.retrieval_top1(found["model_id"], data["model"]),
            "ap_mesh_gt_boxes": float(np.mean(aps)),
            **metrics.rotation_metrics(q, data["quaternion"]),
            "median_translation_error_m": float(np.median(np.linalg.norm(t - data["translation"], axis=1))),
            "mean_mesh_f1@0.3": float(np.mean(f1)), "mask_iou_14": float(np.mean(iou)), "num_images": len(q)}


def run(steps: int = 800, num_train: int = 320, num_test: int = 100, batch: int = 16, lr: float = 2e-3,
        seed: int = 0, log_every: int = 50) -> dict:
    import tempfile

    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    with tempfile.TemporaryDirectory() as root:  # the data go through the Pix3D format and reader
        train = load_pix3d_scenes(synthetic.write_pix3d(f"{root}/train", num_train, seed=seed))
        test = load_pix3d_scenes(synthetic.write_pix3d(f"{root}/test", num_test, seed=seed + 1000))
    views = synthetic.render_views()
    bins = rotation_bins.fit_rotation_bins(train["quaternion"], train["category"], len(synthetic.CATEGORIES))
    targets = _targets(train, bins, views)
    model = Mask2CADRoI(num_classes=len(synthetic.CATEGORIES))
    optimizer = keras.optimizers.Adam(lr)
    view_images = tf.constant(views["views"])

    @tf.function
    def step(images, boxes, masks, tgt):
        with tf.GradientTape() as tape:
            out = model({"images": images, "boxes": boxes[:, None], "classes": tgt["classes"][:, None]},
                        training=True)
            view_emb = model.encode_views(view_images, training=True)
            terms = losses.mask2cad_head_losses(out, tgt, view_emb)
            terms["mask"] = mask_loss(out, masks, boxes[:, None])
            total = terms["total"] + terms["mask"]
        grads = tape.gradient(total, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return terms

    rng = np.random.default_rng(seed)
    start, history = time.time(), []
    for i in range(steps):
        idx = rng.choice(num_train, batch, replace=False)
        terms = step(train["image"][idx].astype(np.float32), train["box"][idx], train["mask"][idx],
                     {k: v[idx] for k, v in targets.items()})
        if (i + 1) % log_every == 0 or i == 0:
            row = {k: round(float(v), 4) for k, v in terms.items()}
            history.append({"step": i + 1, **row})
            print(f"train | step {i + 1} | {time.time() - start:.1f}s | " + " ".join(f"{k} {v}" for k, v in row.items()),
                  flush=True)
    result = evaluate(model, test, views, bins)
    result.update(train_seconds=round(time.time() - start, 1), steps=steps, batch=batch)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.steps, batch=args.batch, lr=args.lr, seed=args.seed), indent=1))


if __name__ == "__main__":
    main()
