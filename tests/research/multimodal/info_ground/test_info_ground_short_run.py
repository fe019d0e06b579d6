"""Spec checks 7 and 8 at a test-sized schedule, through tools.make_grounding_shapes' real-format files, the
trainer and the info_ground Task (COCO-captions training with a frozen 2-layer keras-hub BERT, Flickr30k
Entities phrase evaluation). The run uses jit_compile=True: METHOD_CONTRACT item 9's XLA train step. The trained
model is exported (serving_default + encode_text, verified against Keras by the exporter) and the SavedModel's
grounding metrics must equal Keras'. The README's measured small run uses the full info_ground_tiny_shapes schedule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from official.core import config as config_lib
from official.core.task import build_task
from official.core.trainer import run_experiment
from tools import make_grounding_shapes

STEPS = 60


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ig_run")
    make_grounding_shapes.write_grounding_shapes(str(tmp / "grounding_shapes"), train=20, val=2, test=10, seed=0)
    overrides = (f"trainer.train_steps={STEPS},trainer.steps_per_loop={STEPS},trainer.steps_per_epoch={STEPS},"
                 "trainer.lr_schedule.base_lr=3e-3,runtime.jit_compile=true")
    cfg = config_lib.resolve("info_ground_tiny_shapes", params_override=overrides, data_dir=str(tmp))
    results, model = run_experiment(cfg, str(tmp / "run"), mode="train_and_eval", return_model=True)
    return cfg, results, model, tmp


def test_short_run_grounds_phrases(trained):
    _, results, _, _ = trained
    ev = results["eval"]
    assert results["step"] == STEPS and np.isfinite(results["loss"])
    assert {"lang_sup_loss", "neg_noun_loss"} <= set(results), results
    assert ev["phrases"] == 40  # 10 test images x 2 sentences x 2 phrases
    # The image-word InfoNCE falls below its chance value log(B) = log(20). Grounding accuracy at this schedule was
    # 22.5 % (chance about 18 %): the attention does not sharpen in 60 steps (README "Small run"), so no accuracy
    # bar is asserted here yet.
    assert results["lang_sup_loss"] < math.log(20) - 0.3, results
    assert ev["accuracy"] > 0.0, ev
    assert ev["recall@5"] >= ev["accuracy"]


def test_exported_saved_model_scores_like_keras(trained):
    import tensorflow as tf

    from official.core import export

    cfg, results, model, tmp = trained
    task = build_task(cfg)
    path, report = export.export_saved_model(model, task, str(tmp / "exports"), "info_ground", cfg.export, 0)
    assert max(report.values()) <= 1e-5, report
    loaded = tf.saved_model.load(path)
    assert set(loaded.signatures) >= {"serving_default", "encode_text"}
    sig = loaded.signatures["serving_default"]
    assert set(sig.structured_input_signature[1]) == {"region_feats", "region_mask", "token_feats", "token_mask"}
    metrics = task.evaluate_saved_model(loaded, 10)
    for key in ("accuracy", "recall@5", "pointing", "phrases"):
        assert metrics[key] == pytest.approx(results["eval"][key], abs=1e-9), key
