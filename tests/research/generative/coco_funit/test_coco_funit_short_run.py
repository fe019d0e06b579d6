"""COCO-FUNIT short run (contract item 5; card check 7 shortened): tools.train's run_experiment trains the
tiny generator on a tools.make_few_shot set (3 classes) for STEPS steps with the `coco_funit` objective, and
the exported network (the EMA average) is held to bars that an untrained, a collapsed (style-blind) and a
constant-output generator miss, on the training content images x (3 classes, 4 each):
- reconstruction: L1(G(x, x), x) below RECON_RATIO x the untrained generator's (same seed);
- style dependence: translating each x with style images of two classes i, j, the change of the output's
  mean colour, mean(G(x, y_i)) - mean(G(x, y_j)), points along mean(y_i) - mean(y_j) (mean cosine > COS) and
  is at least RATIO of its length (median). A constant or style-blind output gives a change of 0; the
  untrained generator's change is tiny and points anywhere (measured: cosine -0.12, ratio 0.005).
Reconstruction alone is no bar against a constant: the per-pixel mean image scores L1 0.41 on these
images, the short run 0.55; the style check is what a constant output cannot pass, and the reconstruction bar
only catches a run that does not train.
The run is reproducible (the reader draws each crop from the element's own seed; before, the same seed gave
style ratio 0.39 in one run and 0.004, a failure, in the next). It is a seeded regression check, not a claim
that 60 steps always learn the style: with runtime.seed 1..5 the style bar passed for seeds 1 and 5 and
missed for 2, 3, 4 (3 and 4 with a change of exactly 0: the tiny variant's 8-unit ReLU codes z_s and z_c share
no active unit, so w ignores the style; 32-unit codes missed too, for seeds 0 and 2)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import official.tasks.few_shot_translation  # noqa: F401  (registration)
import research.generative.coco_funit  # noqa: F401
import research.generative.coco_funit.objective  # noqa: F401
from official.core import registry
from official.core.config import model_config
from official.core.trainer import run_experiment
from official.tasks.few_shot_translation import FewShotTranslationTask
from research.generative.coco_funit.experiments import coco_funit_small_few_shot
from research.generative.coco_funit.style_response import keras_translator, style_response
from tools.make_few_shot import write

STEPS = 60
RECON_RATIO, COS, RATIO = 0.9, 0.4, 0.1  # measured at seed 0: recon 0.553 of 0.720 untrained; cosine 0.65, ratio 0.75


def styles_per_class(x, labels):
    return [x[np.where(labels == k)[0][0]] for k in np.unique(labels)]


def recon_l1(generator, x):
    return float(np.abs(np.asarray(generator({"content": x, "style": x}, training=False)) - x).mean())


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("fs")
    data = str(root / "few_shot")
    write(data, 3, 2, 4, 36, 0)
    cfg = coco_funit_small_few_shot()
    cfg.model = model_config("coco_funit_tiny", image_size=(32, 32))
    cfg.train_data.path, cfg.eval_data.path = f"{data}/train", f"{data}/test"
    cfg.trainer.epochs = cfg.trainer.steps_per_loop = STEPS
    cfg.trainer.lr_schedule.base_lr = 1e-3
    cfg.training.ema_decay, cfg.training.ema_start_step = 0.9, STEPS // 2
    results, model = run_experiment(cfg, str(root / "run"), mode="train_and_eval", return_model=True)
    cfg.eval_data.path = f"{data}/train"
    batch = next(iter(FewShotTranslationTask(cfg).build_inputs(cfg.eval_data, False, 12)))
    keras.utils.set_random_seed(cfg.runtime.seed)
    untrained = registry.create_model("coco_funit_tiny", image_size=(32, 32))
    return results, model.inference_model, untrained, batch["content"].numpy(), batch["content_label"].numpy()


def test_run_finishes_and_evaluates(run):
    results = run[0]
    assert results["step"] == STEPS, results
    ev = results.get("eval", results)
    assert np.isfinite(ev["kid"]) and ev["images"] == 12, ev


def test_reconstruction_beats_the_untrained_generator(run):
    _, trained, untrained, x, _ = run
    got, before = recon_l1(trained, x), recon_l1(untrained, x)
    print("reconstruction L1", got, "untrained", before, "mean image", np.abs(x - x.mean(0)).mean())
    assert got < RECON_RATIO * before, (got, before)


def test_translation_follows_the_style_image(run):
    _, trained, untrained, x, labels = run
    assert sorted(set(labels)) == [0, 1, 2]
    styles = styles_per_class(x, labels)
    cos, ratio = style_response(keras_translator(trained), x, styles)
    cos0, ratio0 = style_response(keras_translator(untrained), x, styles)
    print("style cosine", cos, "ratio", ratio, "untrained", cos0, ratio0)
    assert cos > COS and ratio > RATIO, (cos, ratio)
    assert not (cos0 > COS and ratio0 > RATIO), (cos0, ratio0)  # the bar separates
