"""The zoo's model test kit: what every model's tests call in a few lines.

    model = helpers.run_model_test("mobilenext_035", tmp_path, overrides=dict(classes=10, input_shape=(32, 32, 3)),
                                   expected_trainable=..., jax=True)
    helpers.check_overfit(model, x, y, loss=..., accuracy=..., bar=1.0, max_steps=300)

`run_model_test` builds the model by its registered name, checks the exact trainable count, gives it
random unit-scale weights and BatchNorm statistics (so outputs are O(1) and a comparison of near-zero
outputs cannot pass by accident), runs it forward, and round-trips it through `get_config` (the whole
config and the outputs), a `.keras` file, a SavedModel and, in a subprocess, the JAX backend. Each
check compares outputs of the same weights, so a dropped config key, a lost weight or a backend
difference fails it.
"""

from __future__ import annotations

import atexit
import contextlib
import inspect
import json
import os
import subprocess
import sys
import textwrap
import types
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --- small pieces ------------------------------------------------------------------------------


def trainable_count(model: keras.Model) -> int:
    """Trainable parameters (BN gamma/beta included, moving statistics not), as papers count them."""
    return sum(int(np.prod(v.shape)) for v in model.trainable_weights)


def assert_distinct_initial_kernels(model: keras.layers.Layer, min_size: int = 16) -> int:
    """Fails when two same-shaped randomly initialised weights of a fresh model are equal: the sign of one
    initializer instance shared by several layers (an unseeded Keras initializer fixes its seed when it is
    constructed, so every layer that calls it draws the same values). Constant weights (zeros, ones) are
    skipped. Returns how many weights were compared."""
    seen: dict[tuple, list[tuple[str, np.ndarray]]] = {}
    compared = 0
    for weight in model.weights:
        value = np.asarray(weight)
        if value.size < min_size or not np.issubdtype(value.dtype, np.floating) or np.ptp(value) == 0:
            continue
        for name, other in seen.setdefault(value.shape, []):
            assert not np.array_equal(value, other), f"{weight.path} starts equal to {name}"
        seen[value.shape].append((weight.path, value))
        compared += 1
    return compared


def random_inputs(model: keras.Model, batch: int = 2, seed: int = 0, scale: float = 1.0) -> np.ndarray:
    """Normal noise of the model's input shape (free sizes become 64)."""
    shape = [batch] + [d or 64 for d in model.inputs[0].shape[1:]]
    return (scale * np.random.default_rng(seed).normal(size=shape)).astype(np.float32)


def randomise_weights(model: keras.layers.Layer, seed: int = 0) -> None:
    """Random weights of unit gain and BatchNorm statistics away from their initial values.

    Kernels get N(0, 1/fan_in), so activations keep their scale through the depth; gamma and the
    moving variance U(0.5, 1.5); beta, biases and moving means N(0, 0.1). A fresh model (zero biases,
    unit BN statistics, mean 0 / variance 1) would let a lost BN statistic or bias pass a round trip.
    """
    rng = np.random.default_rng(seed)
    for v in model.weights:
        kind = v.path.split("/")[-1]
        shape = tuple(v.shape)
        if kind in ("gamma", "moving_variance", "variance"):  # variance: keras' Normalization layer
            value = rng.uniform(0.5, 1.5, shape)
        elif kind in ("beta", "moving_mean", "bias") or len(shape) < 2:
            value = rng.normal(0.0, 0.1, shape)
        elif "depthwise" in kind or (len(shape) == 4 and shape[-1] == 1):
            value = rng.normal(0.0, float(np.prod(shape[:2])) ** -0.5, shape)
        else:
            value = rng.normal(0.0, float(np.prod(shape[:-1])) ** -0.5, shape)
        v.assign(value.astype(v.dtype))


def outputs_of(model: Any, inputs: Any) -> list[np.ndarray]:
    """The model's outputs in inference mode as a flat list of arrays (dict outputs in key order)."""
    return [np.asarray(o) for o in keras.tree.flatten(model(inputs, training=False))]


def assert_outputs_close(got: list[np.ndarray], expected: list[np.ndarray], atol: float, what: str) -> float:
    assert len(got) == len(expected), f"{what}: {len(got)} outputs, expected {len(expected)}"
    worst = 0.0
    for i, (g, e) in enumerate(zip(got, expected, strict=True)):
        assert g.shape == e.shape, f"{what}: output {i} has shape {g.shape}, expected {e.shape}"
        diff = float(np.max(np.abs(g.astype(np.float64) - e))) if e.size else 0.0
        assert diff <= atol, f"{what}: output {i} differs by {diff:.3g} (> {atol})"
        worst = max(worst, diff)
    return worst


def json_config(model: keras.layers.Layer) -> dict:
    """get_config() as it comes back from a .keras file's JSON (tuples become lists)."""
    return json.loads(json.dumps(model.get_config()))


# --- the round trips ---------------------------------------------------------------------------


def check_config_names_constructor_arguments(model: keras.Model) -> dict:
    """get_config() (as JSON gives it back) names every constructor argument; returns that config."""
    config = json_config(model)
    params = inspect.signature(type(model).__init__).parameters.values()
    missing = [p.name for p in params if p.kind == p.POSITIONAL_OR_KEYWORD and p.name != "self" and p.name not in config]
    assert not missing, f"{type(model).__name__}.get_config() lacks constructor arguments {missing}"
    return config


def check_config_round_trip(model: keras.Model, inputs: Any = None, atol: float = 1e-6,
                            expected: list[np.ndarray] | None = None) -> keras.Model:
    """from_config(JSON of get_config()) has the same whole config, and the same outputs on the same weights
    (`expected`: the model's own outputs_of(model, inputs) when the caller has them: one forward pass less)."""
    config = check_config_names_constructor_arguments(model)
    clone = type(model).from_config(config)
    assert json_config(clone) == config, "from_config(get_config()) changed the config"
    assert [tuple(v.shape) for v in clone.weights] == [tuple(v.shape) for v in model.weights]
    if inputs is not None:
        clone.set_weights(model.get_weights())
        reference = outputs_of(model, inputs) if expected is None else expected
        assert_outputs_close(outputs_of(clone, inputs), reference, atol, "config round trip")
    return clone


def checkpoint_misses(model: keras.layers.Layer) -> list[str]:
    """Paths of the model's variables that `tf.train.Checkpoint(model=model)` would not save (the trainer's
    checkpoints); RNG seed states are left out. Layers held in lists are the usual cause (base_model.py)."""
    import tensorflow as tf

    root = tf.train.Checkpoint(model=model)  # held: TrackableView keeps only a weak reference
    reachable = {id(o) for o in tf.train.TrackableView(root).descendants()}
    return [v.path for v in model.variables if id(v) not in reachable and "seed_generator" not in v.path]


def check_keras_round_trip(model: keras.Model, tmp_path, inputs: Any, atol: float = 1e-6,
                           expected: list[np.ndarray] | None = None) -> None:
    """A .keras file reloads (safe_mode on) as the same class, config and outputs (`expected` as above).
    Loading rebuilds the model with from_config, so this also covers check_config_round_trip."""
    check_config_names_constructor_arguments(model)
    path = os.path.join(str(tmp_path), "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded) is type(model)
    assert json_config(loaded) == json_config(model)
    reference = outputs_of(model, inputs) if expected is None else expected
    assert_outputs_close(outputs_of(loaded, inputs), reference, atol, ".keras round trip")


def check_saved_model_round_trip(model: keras.Model, tmp_path, inputs: np.ndarray, atol: float = 1e-5,
                                 expected: list[np.ndarray] | None = None) -> None:
    """`model.export()` writes a SavedModel whose `serve` endpoint gives the model's outputs."""
    import tensorflow as tf

    path = os.path.join(str(tmp_path), "saved_model")
    model.export(path, format="tf_saved_model", verbose=False)
    loaded = tf.saved_model.load(path)  # keep a reference: its variables die with the object
    served = loaded.serve(tf.constant(inputs))
    got = [np.asarray(o) for o in keras.tree.flatten(served)]
    assert_outputs_close(got, outputs_of(model, inputs) if expected is None else expected, atol, "SavedModel round trip")


_JAX_SCRIPT = """
import json, sys
import numpy as np
import keras
assert keras.backend.backend() == "jax", keras.backend.backend()
from tests.helpers import numpy_initial_draws
module = __import__({module!r}, fromlist=["x"])
with numpy_initial_draws():  # load_weights overwrites them: JAX need not compile its PRNG per shape
    model = getattr(module, {cls!r}).from_config(json.load(open(sys.argv[1])))
model.load_weights(sys.argv[2])
outputs = keras.tree.flatten(model(np.load(sys.argv[3]), training=False))
np.savez(sys.argv[4], *[np.asarray(o) for o in outputs])
if {no_tf!r}:
    assert "tensorflow" not in sys.modules, "{module} imported tensorflow: the GPU machine has none"
"""


class _JaxWorker:
    """The pytest process's one KERAS_BACKEND=jax (CPU) worker (tests/jax_worker.py), started on first use.

    It runs scripts as `python -c script *argv` would, without paying the keras + jax import per script;
    it exits after a script that imported TensorFlow (the next call starts a fresh one), and is killed on
    a timeout. Its stderr (the scripts' prints and warnings) goes to a file whose new tail a failure shows.
    """

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.log = None

    def _start(self) -> None:
        import tempfile

        self.log = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        # LLVM at -O0: the scripts run small inputs once, so XLA's compile, not the run, is their cost (TSIT's
        # parity checks: ~56 -> ~21 s of the worker's CPU; the whole graph still goes through XLA).
        flags = os.environ.get("XLA_FLAGS", "")
        if "--xla_backend_optimization_level" not in flags:
            flags = (flags + " --xla_backend_optimization_level=0").strip()
        env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "PYTHONPATH": REPO, "XLA_FLAGS": flags}
        self.proc = subprocess.Popen([sys.executable, os.path.join(REPO, "tests", "jax_worker.py")], cwd=REPO,
                                     env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def run(self, script: str, argv: list[str], timeout: float) -> str:
        import select

        if self.proc is None or self.proc.poll() is not None:
            self._start()
        self.log.seek(0, os.SEEK_END)
        start = self.log.tell()
        self.proc.stdin.write(json.dumps({"script": script, "argv": [str(a) for a in argv]}) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            self.stop()
        self.log.seek(start)
        stderr = self.log.read()[-3000:]
        assert line, f"the JAX worker died or passed {timeout} s:\n{stderr}"
        reply = json.loads(line)
        if reply["tensorflow"]:
            self.proc.wait(timeout=60)
            self.proc = None
        assert reply["ok"], reply["error"][-3000:] + "\n--- stderr ---\n" + stderr
        return reply["stdout"]


_JAX_WORKER = _JaxWorker()
atexit.register(_JAX_WORKER.stop)


def run_in_jax_worker(script: str, argv: tuple | list = (), timeout: float = 600) -> str:
    """Runs `script` under KERAS_BACKEND=jax (CPU) as `python -c script *argv` would, in the shared worker;
    returns what it printed (a failure shows its traceback and stderr)."""
    return _JAX_WORKER.run(script, list(argv), timeout)


def run_jax_script(script: str, tmp_path, **arrays: Any) -> dict[str, np.ndarray]:
    """Runs `script` under KERAS_BACKEND=jax (CPU) in the JAX worker as `python -c script IN.npz OUT.npz`
    with `arrays` saved to IN.npz; returns the arrays it saved to OUT.npz (a failure shows its stderr)."""
    src, out = os.path.join(str(tmp_path), "jax_in.npz"), os.path.join(str(tmp_path), "jax_out.npz")
    np.savez(src, **arrays)
    run_in_jax_worker(script, [src, out], timeout=600)
    with np.load(out) as got:
        return {k: got[k] for k in got.files}


def enter_bare_packages(*names: str) -> None:
    """Inside a JAX script, before importing a network module: registers each package as an empty module
    on its folder, so importing `pkg.sub` skips `pkg/__init__.py` (the zoo's package __init__s register
    experiments, which import the TensorFlow trainer). The script then also proves the network imports no TF."""
    for name in names:
        if name not in sys.modules:
            package = types.ModuleType(name)
            package.__path__ = [os.path.join(REPO, *name.split("."))]
            sys.modules[name] = package


@contextlib.contextmanager
def numpy_initial_draws():
    """Inside a JAX script, around building a model whose weights are loaded next: initializers draw zeros
    with numpy. JAX compiles its PRNG once per weight shape (~1 s of CPU per distinct kernel shape here);
    draws that load_weights overwrites need not pay that."""
    from keras.src.backend.jax import random as jax_random

    saved = {k: getattr(jax_random, k) for k in ("uniform", "normal", "truncated_normal")}
    try:
        for k in saved:
            setattr(jax_random, k, lambda shape, *a, dtype=None, seed=None, **kw: np.zeros(shape, dtype or "float32"))
        yield
    finally:
        for k, f in saved.items():
            setattr(jax_random, k, f)


def check_jax_parity(
    model: keras.Model, tmp_path, inputs: np.ndarray, atol: float = 1e-4, without_tensorflow: bool = True
) -> float:
    """The same config and weights under KERAS_BACKEND=jax (the JAX worker) give the same outputs.

    without_tensorflow: also assert the model's module imports no TensorFlow (GPU numbers are taken on
    a machine without it). Returns the max |difference|.
    """
    tmp = str(tmp_path)
    files = [os.path.join(tmp, n) for n in ("jax_config.json", "jax.weights.h5", "jax_inputs.npy", "jax_out.npz")]
    with open(files[0], "w") as f:
        json.dump(model.get_config(), f)
    model.save_weights(files[1])
    np.save(files[2], inputs)
    cls = type(model)
    script = textwrap.dedent(_JAX_SCRIPT.format(module=cls.__module__, cls=cls.__name__, no_tf=without_tensorflow))
    run_in_jax_worker(script, files, timeout=600)
    with np.load(files[3]) as data:
        got = [data[f"arr_{i}"] for i in range(len(data.files))]
    return assert_outputs_close(got, outputs_of(model, inputs), atol, "TF vs JAX")


# --- the one call ------------------------------------------------------------------------------


def run_model_test(
    name: str,
    tmp_path,
    *,
    overrides: dict[str, Any] | None = None,
    inputs: np.ndarray | None = None,
    expected_trainable: int | None = None,
    expected_output_shapes: list[tuple] | None = None,
    keras_file: bool = True,
    saved_model: bool = True,
    jax: bool = False,
    jax_without_tensorflow: bool = True,
    atol: float = 1e-5,
    jax_atol: float = 1e-4,
    seed: int = 0,
) -> keras.Model:
    """The shared model test (keras-hub's run_backbone_test in spirit); returns the randomised model.

    name, overrides: the registered variant and constructor overrides (tiny widths, 32-64 px inputs).
    inputs: the batch to run (default: unit normal noise of the input shape, batch 2).
    expected_trainable: the exact trainable parameter count at these overrides (from the spec, not the code).
    expected_output_shapes: shapes of the flattened outputs.
    keras_file / saved_model / jax: which round trips to run (jax spawns a subprocess: ~20-60 s).
    """
    from official.core import registry

    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    model = registry.create_model(name, **(overrides or {}))
    if expected_trainable is not None:
        assert trainable_count(model) == expected_trainable, (
            f"{name}: {trainable_count(model):,} trainable parameters, expected {expected_trainable:,}"
        )
    randomise_weights(model, seed)
    inputs = random_inputs(model, seed=seed) if inputs is None else inputs
    outputs = outputs_of(model, inputs)
    assert outputs and all(np.all(np.isfinite(o)) for o in outputs), f"{name}: non-finite outputs"
    assert max(float(np.max(np.abs(o))) for o in outputs if o.size) > 1e-3, f"{name}: all outputs ~0 prove nothing"
    if expected_output_shapes is not None:
        assert [o.shape for o in outputs] == [tuple(s) for s in expected_output_shapes]
    check_config_round_trip(model, inputs, atol, expected=outputs)
    if keras_file:
        check_keras_round_trip(model, tmp_path, inputs, atol, expected=outputs)
    if saved_model:
        check_saved_model_round_trip(model, tmp_path, inputs, atol, expected=outputs)
    if jax:
        check_jax_parity(model, tmp_path, inputs, jax_atol, jax_without_tensorflow)
    return model


def check_overfit(
    model: keras.Model,
    x: Any,
    y: Any,
    *,
    loss: Any,
    accuracy: Callable[[keras.Model], float],
    bar: float,
    max_steps: int,
    learning_rate: float = 1e-3,
    batch_size: int | None = None,
    chunk: int = 20,
) -> int:
    """Trains on (x, y) until `accuracy(model)` (inference mode, the caller's metric) reaches `bar`.

    Fails when `max_steps` Adam steps are not enough. Returns the steps used. The model must be built.
    jit_compile stays off:
    XLA is 2-5x slower on these CPUs (the XLA step has its own test per method).
    """
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, jit_compile=False)
    # Slots built now: outside a strategy Keras builds them inside the first train-step trace, and
    # tf.function then traces the step a second time (MobileNeXt-0.35: first fit ~53 -> ~23 s CPU).
    model.optimizer.build(model.trainable_variables)
    batch = batch_size or len(keras.tree.flatten(x)[0])
    steps, value = 0, accuracy(model)
    while steps < max_steps and value < bar:
        n = min(chunk, max_steps - steps)
        model.fit(x, y, batch_size=batch, epochs=steps + n, initial_epoch=steps, verbose=0, shuffle=False)
        steps += n
        value = accuracy(model)
    assert value >= bar, f"metric {value:.4f} < {bar} after {steps} steps"
    return steps

