"""Full-length overfit checks of HMOR (spec card check 6) and PartAwarePose (check 7), trained on one GPU
under JAX; the tests run shortened versions (tests/research/three_d/{hmor,partaware_pose}).

Three phases, so that the accelerator machine needs neither TensorFlow nor the fixtures' writers:

    python benchmarks/pose3d_overfit.py prepare --data /tmp/pose3d_overfit.npz         # here (TF readers)
    KERAS_BACKEND=jax python benchmarks/pose3d_overfit.py train --data F --out P.npz   # GPU (JAX)
    python benchmarks/pose3d_overfit.py score --data F --pred P.npz --json benchmarks/results/pose3d_overfit.json

prepare: HMOR's 8 training images of the test fixture (tests/research/three_d/hmor/hmor_fixtures.py: seed 0,
MuCo-21, 64 x 64, written in the 3DMPPE layout and read back by the task's tf.data pipeline), and 32
PartAwarePose crops (synthetic Human3.6M subject 1: 1 action x 2 subactions x 4 frames x 4 cameras, read by
PartAwarePoseTask at the tiny experiment's 64 px / 16 bins, no augmentation).
train: each case trains its network from scratch on its fixed batch with its own loss (HMOR: losses.hmor_loss
on ground-truth boxes; PartAwarePose: losses.integral_l1), torch-style Adam (benchmarks/jax_adam.py) at
3e-3 then 3e-4 from 70 % of the steps, and stores the predictions at the evaluation steps.
score: the tasks' own metrics on those predictions (HMOR: metrics.evaluate_batches, detector and GT boxes;
PartAwarePose: the task's MPJPE / PA-MPJPE in mm), with the fixture's labels.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

HMOR_KEEP = ("joints_cam", "joints_img", "root_depth", "valid")
# name -> (method, registered variant, overrides). hmor_tiny is the registered test variant; the others ask
# whether its 16-cell heatmaps limit the overfit (card: 45.6 mm at 4,000 CPU steps vs the < 20 mm bar).
CASES = {
    "hmor_tiny": ("hmor", "hmor_tiny", {}),
    "hmor_tiny_hm32": ("hmor", "hmor_tiny", dict(roi_size=8, deconv_filters=(32, 32), depth_bins=32)),
    "hmor_resnet18": ("hmor", "hmor_tiny", dict(  # the card's "small backbone, e.g. ResNet-18" at 64 px
        resnet_blocks=(2, 2, 2, 2), resnet_widths=(64, 128, 256, 512), stem_width=64, neck_width=256,
        roi_size=8, deconv_filters=(256, 256), depth_bins=32, head_width=256)),
    "partaware_tiny": ("partaware", "partaware_pose_tiny", {}),
}


def _hmor_batch(tmp: str):
    """x, y of the HMOR test fixture's 8 training images, as the task's pipeline yields them."""
    import numpy as np

    from official.core import config as config_lib
    from official.core.task import build_task
    from official.data import humans3d, mppe3d, skeletons3d

    rng = np.random.default_rng(0)
    scenes = [humans3d.scene(rng, skeletons3d.MUCO_21, image_size=(64, 64)) for _ in range(8)]
    mppe3d.write_mppe3d(tmp, "train", scenes, image_format="png")
    cfg = config_lib.resolve("hmor_tiny_humans3d")
    cfg.train_data.path, cfg.train_data.annotations = f"{tmp}/images", f"{tmp}/annotations/train.json"
    x, y = next(iter(build_task(cfg).build_inputs(cfg.train_data, True, 8)))
    return {f"hmor_x_{k}": np.asarray(v) for k, v in x.items()} | {f"hmor_y_{k}": np.asarray(v) for k, v in y.items()}


def _partaware_task(root: str):
    import dataclasses

    from research.three_d.partaware_pose import experiments
    from research.three_d.partaware_pose.task import PartAwarePoseTask

    cfg = experiments.partaware_pose_tiny_synth()
    cfg.eval_data = dataclasses.replace(cfg.eval_data, path=root, subjects=(1,))
    return PartAwarePoseTask(cfg), cfg


def _partaware_batch(tmp: str):
    import numpy as np

    from official.data.human36m import synthetic_subject, write_human36m

    write_human36m(tmp, 1, synthetic_subject(np.random.default_rng(0), 1, frames=4, image_size=128))
    task, cfg = _partaware_task(tmp)
    images, labels = next(iter(task.build_inputs(cfg.eval_data, False, 64)))
    assert len(images) == 32, len(images)
    return {"partaware_images": np.asarray(images), "partaware_labels": np.asarray(labels)}


def prepare(args) -> int:
    import numpy as np

    with tempfile.TemporaryDirectory() as hmor_dir, tempfile.TemporaryDirectory() as pa_dir:
        arrays = _hmor_batch(hmor_dir) | _partaware_batch(pa_dir)
    np.savez_compressed(args.data, **arrays)
    print(f"wrote {args.data}: " + ", ".join(f"{k} {v.shape}" for k, v in arrays.items()))
    return 0


def _train_case(name: str, data, steps: int, eval_steps: list[int], seed: int) -> dict:
    import jax
    import jax.numpy as jnp
    import keras
    import numpy as np

    from benchmarks.jax_adam import adam_init, adam_update
    from official.core import registry

    method, variant, overrides = CASES[name]
    keras.utils.set_random_seed(seed)
    if method == "hmor":
        import research.three_d.hmor.variants  # noqa: F401  (registration)
        from research.three_d.hmor.losses import hmor_loss

        x = {k[7:]: jnp.asarray(v) for k, v in data.items() if k.startswith("hmor_x_")}
        y = {k[7:]: jnp.asarray(v) for k, v in data.items() if k.startswith("hmor_y_")}
        model = registry.create_model(variant, **overrides)

        def objective(out):
            return hmor_loss(model, out, y, x)[0]

        def predictions(tv, ntv):
            run = {"det": {k: v for k, v in x.items() if k != "boxes"}, "gtbox": x}
            return {f"{tag}_{k}": v for tag, inputs in run.items()
                    for k, v in model.stateless_call(tv, ntv, inputs, training=False)[0].items() if k in HMOR_KEEP}
    else:
        import research.three_d.partaware_pose.variants  # noqa: F401  (registration)
        from research.three_d.partaware_pose.losses import integral_l1

        x, labels = jnp.asarray(data["partaware_images"]), jnp.asarray(data["partaware_labels"])
        model = registry.create_model(variant, **overrides)

        def objective(out):
            return integral_l1(labels, out)

        def predictions(tv, ntv):
            return {"joints": model.stateless_call(tv, ntv, x, training=False)[0]}

    def loss_fn(tv, ntv):
        out, ntv = model.stateless_call(tv, ntv, x, training=True)
        return objective(out), ntv

    def step(tv, ntv, adam, lr):
        (loss, ntv), grads = jax.value_and_grad(loss_fn, has_aux=True)(tv, ntv)
        tv, adam = adam_update(tv, grads, adam, lr=lr)
        return tv, ntv, adam, loss

    train, infer = jax.jit(step, donate_argnums=(0, 1, 2)), jax.jit(predictions)
    tv = [v.value for v in model.trainable_variables]
    ntv = [v.value for v in model.non_trainable_variables]
    adam = adam_init(tv)
    params = int(sum(np.prod(v.shape) for v in model.trainable_variables))
    print(f"{name}: {variant} {overrides or ''} ({params:,} trainable), {steps} steps on {jax.devices()[0]}",
          flush=True)
    out, losses, start = {}, {}, time.perf_counter()
    for i in range(1, steps + 1):
        lr = jnp.float32(3e-3 if i <= 0.7 * steps else 3e-4)
        tv, ntv, adam, loss = train(tv, ntv, adam, lr)
        if i == 1 or i in eval_steps:
            losses[i] = float(loss)
        if i in eval_steps:
            for k, v in infer(tv, ntv).items():
                out[f"{name}/{i}/{k}"] = np.asarray(v)
            print(f"  step {i}: loss {losses[i]:.4g} ({time.perf_counter() - start:.0f} s)", flush=True)
    out[f"{name}/losses"] = np.array(sorted(losses.items()), np.float64)
    out[f"{name}/meta"] = np.array([params, steps, time.perf_counter() - start], np.float64)
    return out


def train(args) -> int:
    import numpy as np

    with np.load(args.data) as f:
        data = {k: f[k] for k in f.files}
    eval_steps = sorted({s for s in args.eval_steps if s <= args.steps} | {args.steps})
    out = {}
    for name in args.cases:
        out.update(_train_case(name, data, args.steps, eval_steps, args.seed))
        np.savez_compressed(args.out, **out)  # what is done survives a later case's failure
    return 0


def _hmor_in_crop(labels: dict, joints_cam) -> dict:
    """GT-box root-relative MPJPE split by whether a joint lies inside its person's crop (the image-clipped
    box grown 1.25x, as 3DMPPE): a soft-argmax inside the crop cannot reach a joint outside it (truncated
    people at the image border), so those joints set a floor that no training removes."""
    import numpy as np

    from research.three_d.hmor import geometry
    from research.three_d.hmor.ordinal import skeleton

    root = skeleton("muco_21").root
    crops = np.asarray(geometry.crop_boxes(labels["boxes"], 1.25))[..., None, :]
    uv = labels["keypoints_img"]
    inside = np.all((uv >= crops[..., :2]) & (uv <= crops[..., 2:]), axis=-1) & (labels["person_mask"][..., None] > 0)
    real = np.broadcast_to(labels["person_mask"][..., None] > 0, inside.shape)
    gt = labels["keypoints_cam"]
    err = np.linalg.norm((joints_cam - joints_cam[..., root:root + 1, :]) - (gt - gt[..., root:root + 1, :]), axis=-1)
    whole = np.all(inside | ~real, axis=-1) & (labels["person_mask"] > 0)
    return {"gtbox/mpjpe_rel_people_inside_crop": round(float(err[whole].mean()), 2),
            "people_inside_crop": int(whole.sum()), "people": int(real[..., 0].sum()),
            "gtbox/mpjpe_rel_joints_outside_crop": round(float(err[real & ~inside].mean()), 2),
            "joints_outside_crop_pct": round(100.0 * float((real & ~inside).sum() / real.sum()), 2)}


def score(args) -> int:
    import numpy as np

    from benchmarks.common import write_json_atomically
    from research.three_d.hmor import metrics as hmor_metrics
    from research.three_d.hmor.ordinal import skeleton

    with np.load(args.data) as f:
        data = {k: f[k] for k in f.files}
    with np.load(args.pred) as f:
        pred = {k: f[k] for k in f.files}
    results = {"command": " ".join(sys.argv), "phases": [line.strip() for line in __doc__.splitlines() if "pose3d_overfit.py" in line],
               "cases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        pa_task, _ = _partaware_task(tmp)
    labels = {k[7:]: v for k, v in data.items() if k.startswith("hmor_y_")}
    for name in sorted({k.split("/")[0] for k in pred}):
        method, variant, overrides = CASES[name]
        params, steps, seconds = pred[f"{name}/meta"]
        case = {"variant": variant, "overrides": overrides, "trainable": int(params), "steps": int(steps),
                "train_seconds": round(float(seconds), 1),
                "loss": {int(s): float(v) for s, v in pred[f"{name}/losses"]}, "at_step": {}}
        for s in sorted({int(k.split("/")[1]) for k in pred if k.count("/") == 2}):
            p = {k.split("/")[2]: v for k, v in pred.items() if k.startswith(f"{name}/{s}/")}
            if method == "hmor":
                det = {k[4:]: v for k, v in p.items() if k.startswith("det_")}
                gt = {k[6:]: v for k, v in p.items() if k.startswith("gtbox_")}
                m = hmor_metrics.evaluate_batches([(labels, det, gt)], root=skeleton("muco_21").root)
                row = {k: round(float(v), 2) for k, v in m.items()
                       if k in ("recall", "mpjpe_rel", "depth_order_acc", "root_error_mm") or k.startswith("gtbox/")}
                row.update(_hmor_in_crop(labels, gt["joints_cam"]))
            else:
                joints = p["joints"]
                m = pa_task._scores(lambda _x, j=joints: j, [(data["partaware_images"], data["partaware_labels"])], None)
                row = {k: round(float(v), 2) for k, v in m.items()}
            case["at_step"][s] = row
            print(f"{name} step {s}: {row}")
        results["cases"][name] = case
    if args.json:
        write_json_atomically(results, args.json)
        print(f"wrote {args.json}")
    return 0


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="phase", required=True)
    p = sub.add_parser("prepare", help="write the fixtures' batches (needs TensorFlow)")
    p.add_argument("--data", required=True, help="output .npz of the fixed batches")
    t = sub.add_parser("train", help="train each case under JAX and save its predictions")
    t.add_argument("--data", required=True, help=".npz written by `prepare`")
    t.add_argument("--out", required=True, help="output .npz of predictions, losses and timings")
    t.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES), help="cases to train")
    t.add_argument("--steps", type=int, default=4000, help="Adam steps per case (3e-4 from 70 %%)")
    t.add_argument("--eval_steps", type=int, nargs="*", default=[500, 1000, 2000, 3000],
                   help="steps at which predictions are stored (the last step always is)")
    t.add_argument("--seed", type=int, default=0, help="keras.utils.set_random_seed before each build")
    s = sub.add_parser("score", help="the tasks' metrics on the stored predictions (needs TensorFlow)")
    s.add_argument("--data", required=True, help=".npz written by `prepare`")
    s.add_argument("--pred", required=True, help=".npz written by `train`")
    s.add_argument("--json", default="", help="write the results here (benchmarks/results/pose3d_overfit.json)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    return {"prepare": prepare, "train": train, "score": score}[args.phase](args)


if __name__ == "__main__":
    sys.exit(main())
