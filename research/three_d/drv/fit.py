"""Per-scene DRV optimisation on a COLMAP-text capture (the card's small run and check 6).

    python -m research.three_d.drv.fit --root=/tmp/drv_fixture --make_fixture --steps=1000

Trains on random ray batches of the collocated training views (L2 in linear space, Adam), then renders
every view and reports PSNR / SSIM (official/evaluation/image_quality.py) on training views, held-out
collocated views and the novel-light views (shadow rays marched to the light). Writes ROOT/.../results.json.
Per-scene optimisation does not fit tools.train's dataset-of-examples flow (README "Known differences").
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def load_capture(root: str):
    """Images (N, H, W, 3) float32 and the scene arrays of official/data/colmap.py."""
    from official.data.colmap import colmap_image_dataset, load_colmap_scene

    scene = load_colmap_scene(root)
    ds, n = colmap_image_dataset(root)
    items = list(ds.as_numpy_iterator())
    if n != len(scene["names"]):
        raise ValueError(f"{root}: {len(scene['names']) - n} images missing")
    return np.stack([it["image"] for it in items]), scene


def fit(root: str, variant: str = "drv_direct32", steps: int = 1000, rays: int = 1024, lr: float = 0.05,
        holdout: tuple[str, ...] = (), seed: int = 0, log_every: int = 500, jit_compile: bool = False,
        **overrides) -> dict:
    import keras
    import tensorflow as tf

    import research.three_d.drv.variants  # noqa: F401  (registers the variants)
    from official.core.registry import create_model
    from official.evaluation.image_quality import psnr, ssim
    from research.three_d.drv import render

    images, scene = load_capture(root)
    names = [str(n) for n in scene["names"]]
    size = images.shape[1]
    model = create_model(variant, image_size=size, seed=seed, **overrides)
    centres = np.asarray(render.camera_centres(scene["rotation"], scene["translation"]))
    collocated = np.linalg.norm(scene["light"] - centres, axis=-1) < 1e-6
    train = [i for i, n in enumerate(names) if collocated[i] and n not in holdout]
    o, d = render.camera_rays(scene["rotation"].astype(np.float32), scene["translation"].astype(np.float32),
                              scene["intrinsics"].astype(np.float32), size, size)
    o, d = np.asarray(o), np.asarray(d)
    all_o = tf.constant(o[train].reshape(-1, 3))
    all_d = tf.constant(d[train].reshape(-1, 3))
    all_c = tf.constant(images[train].reshape(-1, 3))
    optimizer = keras.optimizers.Adam(lr)
    variables = model.trainable_variables
    rng = tf.random.Generator.from_seed(seed)

    @tf.function(jit_compile=jit_compile)
    def step():
        idx = rng.uniform((rays,), 0, all_o.shape[0], dtype=tf.int32)
        batch_o, batch_d, target = (tf.gather(t, idx) for t in (all_o, all_d, all_c))
        with tf.GradientTape() as tape:
            rgb = model({"origins": batch_o[None], "directions": batch_d[None], "light": batch_o[None]})[0]
            loss = tf.reduce_mean(tf.square(rgb - target))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=False))
        return loss

    start = time.time()
    history = []
    for k in range(1, steps + 1):
        loss = float(step())
        if k % log_every == 0 or k == steps:
            history.append((k, loss))
            print(f"train | step {k} | loss {loss:.6f} | {k / (time.time() - start):.1f} steps/sec", flush=True)
    train_seconds = time.time() - start

    renders = []
    for i in range(len(names)):
        rgb = model({"origins": o[i : i + 1], "directions": d[i : i + 1], "light": scene["light"][i : i + 1]
                     .astype(np.float32)}, collocated=bool(collocated[i]))
        renders.append(np.asarray(rgb).reshape(size, size, 3))
    renders = np.clip(np.stack(renders), 0.0, 1.0).astype(np.float64)
    gt = images.astype(np.float64)
    p, s = np.asarray(psnr(renders, gt)), np.asarray(ssim(renders, gt))
    groups = {"train": train, "heldout": [i for i, n in enumerate(names) if collocated[i] and n in holdout],
              "novel_light": [i for i in range(len(names)) if not collocated[i]]}
    result = {"variant": variant, "steps": steps, "rays": rays, "lr": lr, "train_seconds": round(train_seconds, 1),
              "final_loss": history[-1][1] if history else None}
    for g, idx in groups.items():
        if idx:
            result[f"{g}_psnr"] = round(float(np.mean(p[idx])), 2)
            result[f"{g}_ssim"] = round(float(np.mean(s[idx])), 4)
    result["per_view_psnr"] = {names[i]: round(float(p[i]), 2) for i in range(len(names))}
    return {"result": result, "model": model, "renders": renders, "images": images}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="COLMAP-text capture (cameras.txt, images.txt, images/)")
    parser.add_argument("--make_fixture", action="store_true", help="write the synthetic fixture to --root first")
    parser.add_argument("--variant", default="drv_direct32")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--rays", type=int, default=1024)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--holdout", default="view_005.png,view_017.png")
    parser.add_argument("--export_dir", default="", help="also write the SavedModel of render(camera, light)")
    args = parser.parse_args(argv)
    if args.make_fixture:
        from research.three_d.drv.synthetic import write_fixture

        t = time.time()
        write_fixture(args.root, num_views=26, size=64, resolution=64, num_samples=128, novel_lights=2)
        print(f"fixture written to {args.root} in {time.time() - t:.1f} s", flush=True)
    out = fit(args.root, args.variant, args.steps, args.rays, args.lr, tuple(args.holdout.split(",")))
    print(json.dumps({k: v for k, v in out["result"].items() if k != "per_view_psnr"}, indent=1))
    with open(os.path.join(args.root, f"results_{args.variant}.json"), "w", encoding="utf-8") as f:
        json.dump(out["result"], f, indent=1)
    if args.export_dir:
        from research.three_d.drv.export import export_renderer

        report = export_renderer(out["model"], args.export_dir)
        print(f"SavedModel written to {report['path']} (max |difference| vs the Keras graph "
              f"{report['max_abs_diff']:.3g}, vs eager Keras {report['eager_max_abs_diff']:.3g})")


if __name__ == "__main__":
    main()
