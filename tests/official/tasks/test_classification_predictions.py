"""`--predictions_out` for classification: one {index, label, prediction, probability} per val example, in
the reader's order, the same from a Keras model and from an artifact's predict function (issue 24)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from official.core.task import build_task
from tests import tiny_models


def test_predictions_file_matches_the_model(digits_dir, tmp_path, monkeypatch):
    tiny_models.registered(monkeypatch)
    cfg = tiny_models.tiny_experiment(digits_dir, steps=1, global_batch_size=16)
    task = build_task(cfg)
    model = task.build_model()
    dataset = task.build_inputs(cfg.eval_data, False, 16)
    out = tmp_path / "keras.json"
    metrics = task.evaluate(model, dataset, predictions_out=str(out))
    records = json.loads(out.read_text())
    images = np.concatenate([x.numpy() for x, _ in dataset])
    labels = np.concatenate([y.numpy() for _, y in dataset])
    logits = np.asarray(model(images, training=False))
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    assert [r["index"] for r in records] == list(range(len(labels)))
    assert [r["label"] for r in records] == labels.tolist()
    assert [r["prediction"] for r in records] == np.argmax(logits, -1).tolist()
    np.testing.assert_allclose([r["probability"] for r in records], probs.max(-1), rtol=1e-5)
    assert metrics["top1"] == pytest.approx(np.mean(np.argmax(logits, -1) == labels))
    # an exported artifact's predict function writes the same file
    again = tmp_path / "artifact.json"
    task.evaluate_predict_fn(lambda x: np.asarray(model(x, training=False)), dataset, predictions_out=str(again))
    assert [r["prediction"] for r in json.loads(again.read_text())] == [r["prediction"] for r in records]


def test_tide_is_refused_for_classification(digits_dir, monkeypatch):
    from official.core.errors import BadValueError

    tiny_models.registered(monkeypatch)
    task = build_task(tiny_models.tiny_experiment(digits_dir, steps=1))
    with pytest.raises(BadValueError, match="--tide needs a detection task"):
        task.check_tide(True)
