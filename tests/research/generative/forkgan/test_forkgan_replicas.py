"""The classifier's global-batch semantics under tf.distribute: with 2 MirroredStrategy replicas of 2 images
each, the BCE of the all-gathered batch mean (each replica's loss divided by the replica count, as the shared
step does) has the same summed loss and gradient as one device on the 4 images; without the all-gather (a
per-replica mean) the gradient differs."""

import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


def _run():
    import numpy as np
    import tensorflow as tf

    from official.core.strategy import configure_logical_cpus

    configure_logical_cpus(2)
    from official.training.gan.trainer import scale_for_replicas
    from research.generative.forkgan import objective as fk

    x = np.random.default_rng(0).normal(size=(4, 1, 1, 2)).astype("float32")

    def loss_of(w, xs, gather=True):
        mean = fk.global_batch_mean(w * xs) if gather else tf.reduce_mean(w * xs, axis=0, keepdims=True)
        return fk.domain_bce(mean, fk.LABEL_A)

    w1 = tf.Variable([1.5, -0.7])
    with tf.GradientTape() as tape:
        single = loss_of(w1, x)
    g1 = tape.gradient(single, w1).numpy()
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        w2 = tf.Variable([1.5, -0.7])
    batch = next(iter(strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensor_slices(x).batch(4))))
    out = []
    for gather in (True, False):
        @tf.function
        def step(xs, gather=gather):
            def fn(xs):
                with tf.GradientTape() as tape:
                    loss = scale_for_replicas(loss_of(w2, xs, gather))
                return tape.gradient(loss, w2), loss
            g, loss = strategy.run(fn, (xs,))
            return strategy.reduce("SUM", g, None), strategy.reduce("SUM", loss, None)

        g2, l2 = step(batch)
        out += [abs(float(l2) - float(single)), float(np.abs(g2.numpy() - g1).max())]
    return out


def test_all_gathered_classifier_mean_equals_one_device():
    env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([sys.executable, __file__], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    loss_diff, grad_diff, local_loss_diff, local_grad_diff = map(float, proc.stdout.split()[-4:])
    assert loss_diff < 1e-6 and grad_diff < 1e-6
    assert local_grad_diff > 1e-3 or local_loss_diff > 1e-3  # the per-replica mean is a different objective


if __name__ == "__main__":
    print(" ".join(f"{v:.9g}" for v in _run()))
