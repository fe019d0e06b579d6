"""Spec card check 7 without the detector: heads + in-graph retrieval (constant CAD table) + pose decoding as
one SavedModel signature, round-tripped to 1e-5; the same weights under KERAS_BACKEND=jax give the same
outputs (contract item 9, heads and decoding only)."""

import textwrap

import numpy as np
import tensorflow as tf

from research.three_d.mask2cad import heads, retrieval
from tests.helpers import run_jax_script

TINY = dict(num_classes=2, num_bins=4, in_width=8, width=8, embed_dim=8)


def _decode(model, table, bins, feats, masks, classes, boxes, depth, k):
    out = model({"roi_features": feats, "mask_probs": masks}, training=False)
    found = table(out["embedding"], classes)
    q = retrieval.decode_rotation(out["rotation_logits"], out["rotation_delta"], classes, bins)
    uv = retrieval.decode_centre(retrieval.select_class(out["centre_offset"], classes), boxes)
    t = retrieval.translation_from_centre(uv, depth, k)
    return {"model_id": found["model_id"], "similarity": found["similarity"], "quaternion": q, "translation": t}


def _inputs(r=5):
    rng = np.random.default_rng(0)
    boxes = np.concatenate([rng.uniform(0, 30, (r, 2)), rng.uniform(35, 64, (r, 2))], 1).astype(np.float32)
    return {"feats": rng.normal(size=(r, 14, 14, 8)).astype(np.float32),
            "masks": rng.random((r, 14, 14, 1)).astype(np.float32),
            "classes": rng.integers(0, 2, r).astype(np.int32), "boxes": boxes,
            "depth": rng.uniform(2, 4, r).astype(np.float32),
            "k": np.array([[80, 0, 32], [0, 80, 32], [0, 0, 1]], np.float32)}


def _table_and_bins():
    rng = np.random.default_rng(1)
    q = rng.normal(size=(2, 4, 4))
    return (rng.normal(size=(8, 8)).astype(np.float32), np.array([0, 0, 0, 0, 1, 1, 1, 1]),
            np.array([0, 0, 1, 1, 2, 2, 3, 3]), (q / np.linalg.norm(q, axis=-1, keepdims=True)).astype(np.float32))


def test_check7_saved_model_round_trip_and_jax_parity(tmp_path):
    model = heads.Mask2CADHeads(**TINY)
    views, view_cats, view_models, bins = _table_and_bins()
    table = retrieval.CADRetrieval(views, view_cats, view_models)
    x = _inputs()
    expected = {k: np.asarray(v) for k, v in _decode(model, table, bins, *x.values()).items()}

    module = tf.Module()
    module.model, module.table = model, table
    spec = [tf.TensorSpec((None, 14, 14, 8), tf.float32, "roi_features"),
            tf.TensorSpec((None, 14, 14, 1), tf.float32, "mask_probs"), tf.TensorSpec((None,), tf.int32, "classes"),
            tf.TensorSpec((None, 4), tf.float32, "boxes"), tf.TensorSpec((None,), tf.float32, "depth"),
            tf.TensorSpec((3, 3), tf.float32, "intrinsics")]
    module.serve = tf.function(lambda *a: _decode(model, table, tf.constant(bins), *a), input_signature=spec)
    path = str(tmp_path / "saved_model")
    tf.saved_model.save(module, path, signatures={"serving_default": module.serve})
    loaded = tf.saved_model.load(path)
    served = loaded.signatures["serving_default"](
        roi_features=tf.constant(x["feats"]), mask_probs=tf.constant(x["masks"]), classes=tf.constant(x["classes"]),
        boxes=tf.constant(x["boxes"]), depth=tf.constant(x["depth"]), intrinsics=tf.constant(x["k"]))
    for key, value in expected.items():
        np.testing.assert_allclose(served[key].numpy(), value, atol=1e-5, err_msg=key)

    weights = str(tmp_path / "heads.weights.h5")
    model.save_weights(weights)
    script = textwrap.dedent(f"""
        import sys, numpy as np, keras
        assert keras.backend.backend() == "jax"
        from research.three_d.mask2cad import heads, retrieval
        x = dict(np.load(sys.argv[1]))
        model = heads.Mask2CADHeads(**{TINY!r})
        model.load_weights({weights!r})
        table = retrieval.CADRetrieval(x["views"], x["view_cats"], x["view_models"])
        out = model({{"roi_features": x["feats"], "mask_probs": x["masks"]}}, training=False)
        found = table(out["embedding"], x["classes"])
        q = retrieval.decode_rotation(out["rotation_logits"], out["rotation_delta"], x["classes"], x["bins"])
        uv = retrieval.decode_centre(retrieval.select_class(out["centre_offset"], x["classes"]), x["boxes"])
        t = retrieval.translation_from_centre(uv, x["depth"], x["k"])
        np.savez(sys.argv[2], model_id=np.asarray(found["model_id"]), similarity=np.asarray(found["similarity"]),
                 quaternion=np.asarray(q), translation=np.asarray(t))
        assert "tensorflow" not in sys.modules
    """)
    got = run_jax_script(script, tmp_path, views=views, view_cats=view_cats, view_models=view_models, bins=bins, **x)
    for key, value in expected.items():
        np.testing.assert_allclose(got[key], value, atol=1e-4, err_msg=key)
