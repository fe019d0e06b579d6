"""TSIT card check 7, the plumbing overfit: with style == content and only a debug L1(G(x, x), x) loss (GAN and
VGG off), the generator reproduces 2 images. `run` is shared with the short-run test
(tests/research/generative/tsit/test_tsit_short_run.py), which runs it at 16 px for a few steps. The card's setting is 128 px, ngf 16, 300 steps; 128 px with
the paper's 8 levels has a 1x1 bottleneck (NaN in FAdaIN's unbiased variance, in the official code too), so
levels = 7 there. Too slow for the test budget on 2 CPU cores: run here, result in
benchmarks/results/tsit_overfit.json.
    python -m benchmarks.tsit_overfit --size=32 --ngf=8 --levels=5 --steps=300
"""

from __future__ import annotations

import argparse
import json
import os
import time

import keras
import numpy as np
import tensorflow as tf

from research.generative.tsit.model import TSITGenerator


def run(size: int, ngf: int, levels: int, steps: int, lr: float, seed: int = 0) -> dict:
    keras.utils.set_random_seed(seed)
    g = TSITGenerator(ngf=ngf, levels=levels, image_size=(size, size))
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(-1, 1, (2, size // 8, size // 8, 3)).astype(np.float32)
    x = tf.image.resize(coarse, (size, size), "bilinear").numpy()  # smooth images, 2 of them
    noise = rng.standard_normal((2, *g.bottleneck, 3)).astype(np.float32)
    opt = keras.optimizers.Adam(lr, beta_1=0.0, beta_2=0.9)
    evaluate = lambda: float(np.mean(np.abs(np.asarray(  # noqa: E731
        g({"content": x, "style": x, "noise": noise}, training=False)) - x)))
    untrained = evaluate()

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            out = g({"content": x, "style": x, "noise": noise}, training=True)
            loss = tf.reduce_mean(tf.abs(out - x))
        grads = tape.gradient(loss, g.trainable_variables)
        opt.apply_gradients(zip(grads, g.trainable_variables, strict=True))
        return loss

    start, losses = time.time(), []
    for _ in range(steps):
        losses.append(float(step()))
    final = evaluate()
    # the best constant output (the per-pixel median of the images) scores this L1: a collapsed G's floor
    constant = float(np.mean(np.abs(x - np.median(x, axis=0, keepdims=True))))
    return {"size": size, "ngf": ngf, "levels": levels, "steps": steps, "lr": lr, "first_l1": losses[0],
            "last_train_l1": losses[-1], "untrained_eval_l1": untrained, "constant_l1": constant, "eval_l1": final, "passes_0.1": final < 0.1, "seconds": round(time.time() - start, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32, help="image side (px)")
    parser.add_argument("--ngf", type=int, default=8, help="generator base width")
    parser.add_argument("--levels", type=int, default=5, help="stream blocks (bottleneck = size / 2^(levels-1))")
    parser.add_argument("--steps", type=int, default=300, help="Adam steps")
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (betas 0, 0.9)")
    parser.add_argument("--out", default="benchmarks/results/tsit_overfit.json", help="result JSON")
    args = parser.parse_args()
    result = run(args.size, args.ngf, args.levels, args.steps, args.lr)
    print(json.dumps(result))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out + ".tmp", "w") as f:
        json.dump(result, f, indent=1)
    os.replace(args.out + ".tmp", args.out)


if __name__ == "__main__":
    main()
