"""ForkGAN through the zoo's tools in one XLA-compiled run (METHOD_CONTRACT items 5, 6, 7, 9; card checks 6-7).

One module fixture trains once: tools.train's run_experiment on forkgan_tiny_night_day shrunk for CI (gf 8,
no residual blocks, 16x32 crops of a 24 + 16 image tools.make_domains night_day set; n_d 1, 1-level 1-scale
Ds: the second scale's bicubic /2 doubled the trace, and its XLA gradient has its own test in
test_forkgan_networks.py; noise and the history of fakes on) for STEPS steps with jit_compile=True, mode
train_and_eval. Every test reuses it:
- learning (item 5): the run's own evaluation (the task's pixels16 KID, tools.evaluate's path) of the
  translations is far below the untranslated images' (an identity or input-ignoring G misses), and the cycle
  night -> day -> night reconstructs far better than an untrained pair (a constant output misses);
- XLA (item 9): the run's step is compiled with jit_compile=True, and it moved every generator,
  discriminator and the classifier (initial weights snapshot when the run builds the model);
- export (item 7): the restored checkpoint as a SavedModel (both signatures, to 1e-5 of Keras; scored through
  serving_default it gives the run's KID, tools.evaluate --saved_model's path) and as TFLite float16 (stock ops).
The full schedule is the card's small run. Tracing and compiling the step is nearly all of this file's CPU
time (the model card's budget section), hence the smaller CI graph."""

from __future__ import annotations

import gc
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from official.core import config as config_lib
from official.core import export, trainer
from research.generative.forkgan.networks import ForkGenerator
from tools.make_domains import write

STEPS = 40
SIZE = (16, 32)
KID_BAR = 0.25  # translated KID below 0.25 x the untranslated one (an identity generator gives 1)
CYCLE_BAR = 0.5  # cycle L1 below 0.5 x an untrained pair's
OVERRIDES = ",".join([
    f"trainer.train_steps={STEPS}", f"trainer.steps_per_loop={STEPS}",
    "runtime.jit_compile=true", "training.sample_every_n_steps=0",
    "model.encoder_blocks=0", "model.decoder_blocks=0", "model.image_size=[16, 32]",
    "train_data.load_size=[20, 40]", "train_data.crop_size=[16, 32]",
    "eval_data.load_size=[16, 32]", "eval_data.crop_size=[16, 32]",
    "training.objective_args={n_d: 1, d_levels: 1, d_scales: 1, d_filters: 4, cls_filters: 4}",
])


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("forkgan")
    write(str(root / "night_day"), "night_day", train=24, test=16, size=20, seed=0)
    cfg = config_lib.resolve("forkgan_tiny_night_day", params_override=OVERRIDES, data_dir=str(root))
    build, initial = trainer.build_compiled_model, {}

    def build_and_snapshot(*args, **kwargs):  # the initial weights of every network, for the "moved" check
        model = build(*args, **kwargs)
        initial.update({k: [np.asarray(v).copy() for v in n.trainable_variables]
                        for k, n in {**model.generators, **model.discriminators}.items()})
        return model

    gc.disable()  # tracing the step makes ~10^6 short-lived Python objects; collecting them cost ~20% of the trace
    with pytest.MonkeyPatch.context() as patch:
        # As the suite will set for every test: XLA compiles the whole graph, LLVM optimises less (its CPU
        # compile is most of this run's cost). XLA reads the flags at its first compile in the process.
        patch.setenv("XLA_FLAGS", "--xla_backend_optimization_level=0")
        patch.setattr(trainer, "build_compiled_model", build_and_snapshot)
        try:
            results, model = trainer.run_experiment(cfg, str(root / "run"), mode="train_and_eval", return_model=True)
        finally:
            gc.enable()
    return cfg, root, results, model, initial


def _eval_batches(task, cfg):
    return list(task.build_inputs(cfg.eval_data, False, 8))


def _cycle(g_a2b, g_b2a, a):
    return float(np.abs(np.asarray(g_b2a(g_a2b(a, training=False), training=False)) - a).mean())


def test_short_xla_run_translates_night_towards_day(run):
    cfg, _, results, model, _ = run
    assert results["step"] == STEPS and model.jit_compile is True
    from official.tasks.image_translation import ImageTranslationTask

    task = ImageTranslationTask(cfg)
    trained = results["eval"]["kid"]
    identity = task.evaluate_predict_fn(lambda x: x, task.build_inputs(cfg.eval_data, False, 8))["kid"]
    a = np.concatenate([b["a"].numpy() for b in _eval_batches(task, cfg)])
    net, reverse = model.inference_model, model.generators["b2a"]
    keras.utils.set_random_seed(1)
    fresh = [ForkGenerator.from_config(net.get_config()) for _ in range(2)]
    cycle, untrained = _cycle(net, reverse, a), _cycle(*fresh, a)
    print(f"pixels16 KID translated {trained:.4f} vs untranslated {identity:.4f}; "
          f"cycle L1 {cycle:.4f} vs untrained {untrained:.4f}")
    assert results["eval"]["images"] == 16
    assert trained < KID_BAR * identity, (trained, identity)
    assert cycle < CYCLE_BAR * untrained, (cycle, untrained)


def test_xla_run_moved_every_network(run):
    """Each generator, discriminator and the classifier left its initial weights in the compiled run (a
    detached loss, a network missing from its optimizer or an XLA step that updates nothing would not)."""
    _, _, _, model, initial = run
    nets = {**model.generators, **model.discriminators}
    assert set(nets) == set(initial) and len(model.discriminators) == 1 + 6
    for k, n in nets.items():
        moved = max(float(np.abs(np.asarray(v) - w).max())
                    for v, w in zip(n.trainable_variables, initial[k], strict=True))
        assert moved > 1e-6, k


def test_export_round_trip_and_saved_model_score(run):
    cfg, root, results, _, _ = run
    model, task, step = trainer.restore_for_inference(cfg, str(root / "run"))
    assert step == STEPS
    cfg.export.formats, cfg.export.quantize, cfg.export.atol = ("saved_model", "tflite"), "float16", 1e-3
    done = export.export_all(model, task, str(root / "exports"), "forkgan_tiny", cfg.export, 0)
    path, _ = done["saved_model"]
    loaded = tf.saved_model.load(path)
    assert set(loaded.signatures) == {"serving_default", "translate_uint8"}
    x = np.concatenate([b["a"].numpy() for b in _eval_batches(task, cfg)])[:4]
    want = np.asarray(model(x))
    np.testing.assert_allclose(loaded.signatures["serving_default"](image=tf.constant(x))["image"].numpy(), want, atol=1e-5)
    u8 = np.round((x + 1) * 127.5).clip(0, 255).astype(np.uint8)
    got = loaded.signatures["translate_uint8"](image=tf.constant(u8))["image"].numpy().astype(int)
    ref = np.round((np.asarray(model(u8.astype(np.float32) / 127.5 - 1)) + 1) * 127.5).clip(0, 255)
    assert np.abs(got - ref).max() <= 1
    assert os.path.isfile(os.path.join(path, "assets.extra", "tf_serving_warmup_requests"))
    served = task.evaluate_saved_model(loaded, 8)
    assert served["kid"] == pytest.approx(results["eval"]["kid"], rel=1e-3, abs=1e-4)
    # float16 weights: the exporter checked |TFLite - Keras| <= 10 x atol on its examples.
    tfl_path, tfl = done["tflite"]
    assert tfl["max_abs_diff"] < 1e-2 and not any(op.startswith("Flex") or op == "CUSTOM" for op in tfl["ops"])
    assert tfl_path.endswith("forkgan_tiny_float16.tflite")
