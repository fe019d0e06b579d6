"""tf.distribute strategy from a name: auto | one_device | mirrored | multi_worker (TF_CONFIG).

Also decides XLA: `jit_compile=auto` turns it on only where a GPU is present, because on CPU-only hosts
XLA made a MobileNetV2 digits run 3.5x slower (111 s vs 31 s on 2 cores).
"""

from __future__ import annotations

import json
import logging
import os

import tensorflow as tf

from official.core.config import ConfigError

log = logging.getLogger(__name__)

STRATEGIES = ("auto", "one_device", "mirrored", "multi_worker")


def configure_logical_cpus(count: int) -> None:
    """Splits the host CPU into `count` logical devices (mirrored training tests on CPU)."""
    if count <= 1:
        return
    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError as err:  # already initialised: keep what exists if it is enough
        if len(tf.config.list_logical_devices("CPU")) < count:
            raise RuntimeError(f"runtime.num_logical_cpus={count}: TF is already initialised ({err})") from err


def configure_threads(intra_op: int = 0, inter_op: int = 0) -> None:
    """Fixes TF's thread pools (0 keeps TF's default: one thread per core).

    CPU kernels split their sums by the intra-op thread count, so the same seeded run gives the same
    bits on a 2-core and a 16-core machine only when this count is fixed. Must precede TF's
    initialisation; in a process where TF already runs, a different count is logged and not applied.
    """
    pools = (
        ("intra_op_threads", intra_op, tf.config.threading.get_intra_op_parallelism_threads,
         tf.config.threading.set_intra_op_parallelism_threads),
        ("inter_op_threads", inter_op, tf.config.threading.get_inter_op_parallelism_threads,
         tf.config.threading.set_inter_op_parallelism_threads),
    )
    for key, count, get, set_ in pools:
        if count <= 0:
            continue
        try:
            set_(count)
        except RuntimeError:
            log.warning("runtime.%s=%d not applied: TensorFlow already runs in this process with %s",
                        key, count, get() or "its default")


def create_strategy(name: str, num_logical_cpus: int = 0) -> tf.distribute.Strategy:
    """Builds the named strategy. `auto`: mirrored over all GPUs if there are 2+, OneDeviceStrategy on one
    GPU, and TF's default strategy on a host without GPUs.

    Why not OneDeviceStrategy on CPU: Keras' `fit` runs every batch through the strategy's distributed
    dataset, and on CPU its iterator leaves the step's kernels using about one core of two (measured on a
    2-core AMD EPYC: a 4-conv net 11.5 vs 4.8 s per 100 steps, with or without fetch-to-device;
    cpn_dla34tiny_shapes 0.27 vs 0.125 s per step; a custom loop over a plain iterator under the same
    strategy runs at full speed). The default strategy gives the same variables, checkpoints, seeds and
    one-replica batches. `one_device` still asks for OneDeviceStrategy explicitly.
    """
    if name not in STRATEGIES:
        raise ConfigError(f"runtime.strategy: expected one of {', '.join(STRATEGIES)}, got {name!r}")
    if name == "multi_worker":
        if not os.environ.get("TF_CONFIG"):
            raise ConfigError("runtime.strategy=multi_worker needs the TF_CONFIG environment variable")
        json.loads(os.environ["TF_CONFIG"])  # fail early on malformed JSON
        options = tf.distribute.experimental.CommunicationOptions(
            implementation=tf.distribute.experimental.CommunicationImplementation.AUTO
        )
        return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    configure_logical_cpus(num_logical_cpus)
    gpus = tf.config.list_logical_devices("GPU")
    if name == "mirrored":
        devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices)
    if name == "auto" and len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    if name == "auto" and not gpus:
        return tf.distribute.get_strategy()  # the docstring says why: CPU-only hosts train 2x faster without a wrapper
    return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")


def describe(strategy: tf.distribute.Strategy) -> str:
    """The strategy's name for the run banner (the default strategy has a private class name)."""
    if strategy is tf.distribute.get_strategy() and not tf.distribute.has_strategy():
        return "default (one device, no tf.distribute wrapper)"
    return type(strategy).__name__


def resolve_jit_compile(value: str) -> bool:
    """`auto` -> XLA on when a GPU is present; `true`/`false` force it."""
    value = str(value).lower()
    if value == "auto":
        return bool(tf.config.list_physical_devices("GPU"))
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off"):
        return False
    raise ConfigError(f"runtime.jit_compile: expected auto, true or false, got {value!r}")


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """True on the worker that owns the model directory (every worker of a single-host run)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    return task_type is None or task_type == "chief" or (task_type == "worker" and task_id == 0)


def worker_id(strategy: tf.distribute.Strategy) -> str:
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or resolver.task_type is None:
        return "worker_0"
    return f"{resolver.task_type}_{resolver.task_id}"
