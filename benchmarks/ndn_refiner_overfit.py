"""NDN spec check 7: the refinement module G_r alone, trained on 6 fixed layouts, undoes 0.05-std Gaussian box
perturbations to a mean L1 below 0.01 within 500 steps.

The 6 layouts are `example_batch(model, 6, seed=0)` (random boxes, their relations extracted by
official/evaluation/layout_relations.py as the readers do); every step draws a fresh perturbation, clipped to
[0, 1] as `train_forward` does, and Adam minimises G_r's masked L1 (the `refine_l1` term of losses.py). Only
G_r's weights train. The score is the mean L1 over valid elements on 8 fresh perturbations of the same layouts;
the perturbed input's own L1 is the do-nothing baseline. Runs under any Keras backend (model.fit on a
wrapper model); too long for the CI budget on 2 CPU cores, so its result is recorded here:
    python -m benchmarks.ndn_refiner_overfit --model=ndn_tiny --steps=500
    KERAS_BACKEND=jax python3 -m benchmarks.ndn_refiner_overfit --model=ndn_base --out=benchmarks/results/ndn_refiner_overfit.json
"""

from __future__ import annotations

import argparse
import json
import os
import time

import keras
import numpy as np

NOISE_STD = 0.05
BAR = 0.01


class RefinerOnly(keras.Model):
    """G_r of a NeuralDesignNetwork on (layout, perturbed boxes) -> refined boxes, masked to valid elements."""

    def __init__(self, ndn, **kwargs):
        super().__init__(**kwargs)
        self.ndn = ndn

    def call(self, x):
        cats, node_mask = self.ndn.graph_nodes(x["categories"], x["mask"])
        loc, size = keras.ops.cast(x["loc_full"], "int32"), keras.ops.cast(x["size_full"], "int32")
        out = self.ndn.refiner(cats, node_mask, loc, size, x["noisy"])
        return out * keras.ops.expand_dims(x["mask"], -1)


def masked_l1(boxes, pred, mask) -> float:
    return float((np.abs(pred - boxes).mean(-1) * mask).sum() / mask.sum())


def perturbed(layouts: dict, rng: np.random.Generator) -> dict:
    noise = rng.normal(0, NOISE_STD, layouts["boxes"].shape).astype("float32")
    noisy = np.clip(layouts["boxes"] + noise, 0.0, 1.0) * layouts["mask"][..., None]
    return {k: layouts[k] for k in ("categories", "mask", "loc_full", "size_full")} | {"noisy": noisy.astype("float32")}


def run(model_name: str, steps: int, lr: float, seed: int = 0) -> dict:
    import research.generative.ndn.variants  # noqa: F401  (registers the variants without the TF-side index)
    from official.core.registry import create_model
    from research.generative.ndn.model import example_batch

    keras.utils.set_random_seed(seed)
    ndn = create_model(model_name)
    layouts = example_batch(ndn, batch=6, seed=seed)
    for net in (ndn.relation, ndn.generator):
        net.trainable = False
    wrapper = RefinerOnly(ndn)
    target = (layouts["boxes"] * layouts["mask"][..., None]).astype("float32")
    rng = np.random.default_rng(seed + 1)

    def batches():
        while True:
            yield perturbed(layouts, rng), target

    # mean absolute error over all (element, coordinate) entries, rescaled to the mean over valid elements
    scale = layouts["mask"].size / layouts["mask"].sum()
    wrapper.compile(optimizer=keras.optimizers.Adam(lr), loss=lambda y, p: keras.ops.mean(keras.ops.abs(y - p)) * scale)
    eval_rng = np.random.default_rng(seed + 2)
    tests = [perturbed(layouts, eval_rng) for _ in range(8)]

    def score(predict: bool) -> float:
        vals = []
        for t in tests:
            pred = np.asarray(wrapper(t)) if predict else t["noisy"]
            vals.append(masked_l1(target, pred, layouts["mask"]))
        return float(np.mean(vals))

    before, baseline = score(True), score(False)
    start = time.time()
    history = wrapper.fit(batches(), steps_per_epoch=steps, epochs=1, verbose=0).history["loss"]
    seconds = time.time() - start
    after = score(True)
    return {"model": model_name, "steps": steps, "lr": lr, "layouts": 6, "noise_std": NOISE_STD,
            "backend": keras.backend.backend(), "trainable_refiner_params": int(sum(np.prod(w.shape) for w in wrapper.trainable_weights)),
            "l1_untrained": before, "l1_perturbed_input": baseline, "l1_after": after,
            "last_train_loss": float(history[-1]), "bar": BAR, "passes": after < BAR, "train_seconds": round(seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="ndn_tiny", help="registered NDN variant (ndn_tiny, ndn_base)")
    parser.add_argument("--steps", type=int, default=500, help="training steps (the card: 500)")
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate of G_r")
    parser.add_argument("--seed", type=int, default=0, help="layouts, initialisation and perturbations")
    parser.add_argument("--out", default="", help="JSON file to write (else printed only)")
    args = parser.parse_args()
    result = run(args.model, args.steps, args.lr, args.seed)
    print(json.dumps(result, indent=1))
    if args.out:
        os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
        with open(args.out, "w") as f:
            json.dump({"command": "python -m benchmarks.ndn_refiner_overfit " + " ".join(
                f"--{k}={v}" for k, v in vars(args).items() if k != "out"), **result}, f, indent=1)


if __name__ == "__main__":
    main()
