"""The JAX adversarial step (official/training/gan/jax_step.py) equals the TF AdversarialTrainer step: the
cyclegan objective on tiny networks, same weights and batches, two steps of plain SGD (a wrong or missing
gradient, a swapped optimizer or a D step that saw the old generator shows in the weights), D rate x 0.5,
and the generator average (decay 0.5) - every loss term per step and every weight after two steps.
The JAX side runs jitted in a subprocess under KERAS_BACKEND=jax (CPU)."""

from __future__ import annotations

import os

import keras
import numpy as np

from official.core import optimization
from official.core.config import OptimizerConfig, ScheduleConfig, TrainerConfig
from official.training.gan.config import GANConfig
from official.training.gan.cyclegan import CycleGANObjective
from official.vision.gan.resnet_generator import ResnetGenerator

SIZE, STEPS = 16, 2


def build_objective(seed: int = 0):
    """(objective, generator optimizer): CycleGAN with a 4-filter, 1-block ResnetGenerator and 4-filter
    2-layer PatchGANs at 16x16; SGD 0.02 for G, 0.01 for D; EMA 0.5."""
    keras.utils.set_random_seed(seed)
    trainer = TrainerConfig(optimizer=OptimizerConfig(name="sgd", momentum=0.0),
                            lr_schedule=ScheduleConfig(name="constant", base_lr=0.02))
    schedule_args = dict(steps_per_epoch=10, total_steps=10, lr_scale=1.0)
    network = ResnetGenerator(filters=4, blocks=1, image_size=(SIZE, SIZE), name="generator_a")
    objective = CycleGANObjective(network, GANConfig(objective="cyclegan", d_lr_multiplier=0.5, ema_decay=0.5),
                                  trainer, schedule_args, (SIZE, SIZE, 3), seed=seed, d_filters=4, d_layers=2)
    optimizer, _ = optimization.configure_optimizer(network, trainer, 10, 10, 1.0)
    return objective, optimizer


def networks(objective) -> dict:
    return {**{f"g_{k}": v for k, v in objective.generators.items()},
            **{f"d_{k}": v for k, v in objective.discriminators.items()}, "average": objective.average}


_SCRIPT = """
import importlib.util, os, sys
os.environ["XLA_FLAGS"] = "--xla_backend_optimization_level=0"  # a third of the CPU compile time (44 -> 15 s)
import numpy as np
import keras
assert keras.backend.backend() == "jax"
from official.training.gan.jax_step import JaxAdversarialStep
spec = importlib.util.spec_from_file_location("jax_step_test", {path!r})
test = importlib.util.module_from_spec(spec); spec.loader.exec_module(test)
data = np.load(sys.argv[1])
objective, optimizer = test.build_objective(seed=3)  # other initial weights: all must come from the file
for name, net in test.networks(objective).items():
    net.set_weights([data[f"{{name}}_{{i}}"] for i in range(len(net.weights))])
trainer = JaxAdversarialStep(objective, optimizer)
step, state, out = trainer.jit(), trainer.initial_state(), {{}}
for s in range({steps}):
    state, logs = step(state, {{"a": data[f"a{{s}}"], "b": data[f"b{{s}}"]}})
    out.update({{f"{{k}}@{{s}}": np.asarray(v) for k, v in logs.items()}})
trainer.write_back(state)
for name, net in test.networks(objective).items():
    out.update({{f"{{name}}_{{i}}": np.asarray(w) for i, w in enumerate(net.get_weights())}})
np.savez(sys.argv[2], **out)
"""


def test_jax_step_equals_the_tf_step(tmp_path):
    from tests import helpers

    objective, optimizer = build_objective(seed=0)
    objective.compile(optimizer=optimizer, jit_compile=False)
    objective.optimizer.build(objective.generator_variables)
    rng = np.random.default_rng(0)
    arrays = {f"{name}_{i}": w for name, net in networks(objective).items() for i, w in enumerate(net.get_weights())}
    start = dict(arrays)
    tf_logs = {}
    for s in range(STEPS):
        arrays[f"a{s}"] = rng.uniform(-1, 1, (2, SIZE, SIZE, 3)).astype(np.float32)
        arrays[f"b{s}"] = rng.uniform(-1, 1, (2, SIZE, SIZE, 3)).astype(np.float32)
        for tracker in objective.metrics:
            tracker.reset_state()
        logs = objective.train_step({"a": arrays[f"a{s}"], "b": arrays[f"b{s}"]})
        tf_logs.update({f"{k}@{s}": float(v) for k, v in logs.items()})
    got = helpers.run_jax_script(_SCRIPT.format(path=os.path.abspath(__file__), steps=STEPS), tmp_path, **arrays)

    assert set(tf_logs) <= set(got)
    for key, want in tf_logs.items():
        np.testing.assert_allclose(got[key], want, rtol=1e-5, atol=1e-6, err_msg=key)
    assert tf_logs["d_a@0"] > 0 and tf_logs["g_cycle_a@0"] > 0
    for name, net in networks(objective).items():
        moved = max(np.abs(w - start[f"{name}_{i}"]).max() for i, w in enumerate(net.get_weights()))
        assert moved > 1e-3, (name, moved)  # every network was updated, so the comparison sees the update
        for i, want in enumerate(net.get_weights()):
            # Compared on the scale of each tensor's own update: the generators' instance norms amplify
            # float32 rounding (TF/oneDNN vs XLA) to ~1e-3 of the update on some CPUs (AMD EPYC: 1.4e-4 of a
            # 0.16 update), while a wrong gradient, rate or average moves the weights by a whole update.
            update = want - start[f"{name}_{i}"]
            tol = 1e-6 + 5e-3 * np.abs(update).max()
            np.testing.assert_allclose(got[f"{name}_{i}"] - start[f"{name}_{i}"], update, rtol=0, atol=tol,
                                       err_msg=f"{name}_{i}")
