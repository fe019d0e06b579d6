"""TSIT card check 7, the plumbing overfit: with style == content and only a debug L1(G(x, x), x) loss (GAN and
VGG off), the generator reproduces 2 images. `run` is shared with the short-run test
(tests/research/generative/tsit/test_tsit_short_run.py), which runs it at 16 px for a few steps. The card's setting is 128 px, ngf 16, 300 steps; 128 px with
the paper's 8 levels has a 1x1 bottleneck (NaN in FAdaIN's unbiased variance, in the official code too), so
levels = 7 there. Too slow for the test budget on 2 CPU cores: run here, result in
benchmarks/results/tsit_overfit.json. Under KERAS_BACKEND=jax the step is jax.value_and_grad of the same loss
with the same Adam (stateless), jitted: how the card's setting runs on a GPU machine without TensorFlow.
    python -m benchmarks.tsit_overfit --size=32 --ngf=8 --levels=5 --steps=300
    KERAS_BACKEND=jax python3 -m benchmarks.tsit_overfit --size=128 --ngf=16 --levels=7 --steps=300 --out=...
"""

from __future__ import annotations

import argparse
import json
import os
import time

import keras
import numpy as np
from keras import ops

from research.generative.tsit.model import TSITGenerator


def _tf_step(g, opt, inputs, x):
    """One jit-free tf.function Adam step on L1(G(x, x), x); returns a callable giving the step's loss."""
    import tensorflow as tf

    opt.build(g.trainable_variables)  # slots made inside the first trace would make TF trace the step twice

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.abs(g(inputs, training=True) - x))
        grads = tape.gradient(loss, g.trainable_variables)
        opt.apply_gradients(zip(grads, g.trainable_variables, strict=True))
        return loss

    return lambda: float(step()), lambda: None


def _jax_step(g, opt, inputs, x):
    """The same step as a jitted stateless JAX function; `sync` writes the trained values back into `g`."""
    import jax
    import jax.numpy as jnp

    opt.build(g.trainable_variables)
    state = {"tv": [v.value for v in g.trainable_variables], "ntv": [v.value for v in g.non_trainable_variables],
             "ov": [v.value for v in opt.variables]}

    def loss_fn(tv, ntv):
        # Keras' SpectralNormalization assigns W / sigma to the (trainable) kernel in a training call, and the TF
        # step's Adam then updates that normalised kernel; stateless_call would drop the assignment, so the scope's
        # values of the trainable variables are read back too and the update starts from them
        mapping = list(zip(g.trainable_variables, tv, strict=True)) + list(zip(g.non_trainable_variables, ntv,
                                                                                strict=True))
        with keras.StatelessScope(state_mapping=mapping) as scope:
            out = g(inputs, training=True)
        used = [scope.get_current_value(v) for v in g.trainable_variables]
        return jnp.mean(jnp.abs(out - x)), ([scope.get_current_value(v) for v in g.non_trainable_variables], used)

    @jax.jit
    def step(tv, ntv, ov):
        (loss, (ntv, used)), grads = jax.value_and_grad(loss_fn, has_aux=True)(tv, ntv)
        tv, ov = opt.stateless_apply(ov, grads, used)
        return tv, ntv, ov, loss

    def one():
        state["tv"], state["ntv"], state["ov"], loss = step(state["tv"], state["ntv"], state["ov"])
        return float(loss)

    def sync():
        for variables, values in ((g.trainable_variables, state["tv"]), (g.non_trainable_variables, state["ntv"])):
            for v, value in zip(variables, values, strict=True):
                v.assign(value)

    return one, sync


def run(size: int, ngf: int, levels: int, steps: int, lr: float, seed: int = 0) -> dict:
    keras.utils.set_random_seed(seed)
    g = TSITGenerator(ngf=ngf, levels=levels, image_size=(size, size))
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(-1, 1, (2, size // 8, size // 8, 3)).astype(np.float32)
    x = np.asarray(ops.image.resize(coarse, (size, size), "bilinear"))  # smooth images, 2 of them
    noise = rng.standard_normal((2, *g.bottleneck, 3)).astype(np.float32)
    opt = keras.optimizers.Adam(lr, beta_1=0.0, beta_2=0.9)
    evaluate = lambda: float(np.mean(np.abs(np.asarray(  # noqa: E731
        g({"content": x, "style": x, "noise": noise}, training=False)) - x)))
    untrained = evaluate()

    make_step = _jax_step if keras.backend.backend() == "jax" else _tf_step
    step, sync = make_step(g, opt, {"content": x, "style": x, "noise": noise}, x)
    start, losses = time.time(), []
    for _ in range(steps):
        losses.append(step())
    sync()
    final = evaluate()
    # the best constant output (the per-pixel median of the images) scores this L1: a collapsed G's floor
    constant = float(np.mean(np.abs(x - np.median(x, axis=0, keepdims=True))))
    return {"size": size, "ngf": ngf, "levels": levels, "steps": steps, "lr": lr, "first_l1": losses[0],
            "last_train_l1": losses[-1], "untrained_eval_l1": untrained, "constant_l1": constant, "eval_l1": final, "passes_0.1": final < 0.1, "seconds": round(time.time() - start, 1),
            "backend": keras.backend.backend()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32, help="image side (px)")
    parser.add_argument("--ngf", type=int, default=8, help="generator base width")
    parser.add_argument("--levels", type=int, default=5, help="stream blocks (bottleneck = size / 2^(levels-1))")
    parser.add_argument("--steps", type=int, default=300, help="Adam steps")
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (betas 0, 0.9)")
    parser.add_argument("--out", default="", help="write the result JSON here (benchmarks/results/tsit_overfit.json "
                        "holds the recorded runs, keyed by setting)")
    args = parser.parse_args()
    result = run(args.size, args.ngf, args.levels, args.steps, args.lr)
    print(json.dumps(result))
    if not args.out:
        return
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out + ".tmp", "w") as f:
        json.dump(result, f, indent=1)
    os.replace(args.out + ".tmp", args.out)


if __name__ == "__main__":
    main()
