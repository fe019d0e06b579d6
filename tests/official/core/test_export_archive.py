"""SingleTraceExportArchive: each endpoint is traced once (Keras' archive traces twice), and the SavedModel
still holds every endpoint, the serving_default alias, the variables and the same outputs."""

import keras
import numpy as np
import tensorflow as tf

from official.core.export_archive import SingleTraceExportArchive


def _model():
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.BatchNormalization()])


def test_one_trace_per_endpoint_and_same_outputs(tmp_path):
    model = _model()
    traces = {"double": 0, "logits": 0}

    def double(x):
        traces["double"] += 1
        return {"z": 2.0 * model(x, training=False)}

    def logits(x):
        traces["logits"] += 1
        return {"y": model(x, training=False)}

    archive = SingleTraceExportArchive()
    archive.track(model)
    spec = [tf.TensorSpec((None, 4), tf.float32, name="x")]
    archive.add_endpoint("double", double, spec)  # first endpoint: also exported as serving_default
    archive.add_endpoint("logits", logits, spec)
    archive.write_out(str(tmp_path), verbose=False)
    assert traces == {"double": 1, "logits": 1}, traces

    loaded = tf.saved_model.load(str(tmp_path))
    assert set(loaded.signatures) == {"serving_default", "double", "logits"}
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    want = np.asarray(model(x, training=False))
    np.testing.assert_allclose(loaded.signatures["serving_default"](x=tf.constant(x))["z"], 2 * want, rtol=1e-6)
    np.testing.assert_allclose(loaded.signatures["logits"](x=tf.constant(x))["y"], want, rtol=1e-6)
    np.testing.assert_allclose(loaded.logits(tf.constant(x))["y"], want, rtol=1e-6)  # callable attribute too
    assert len(loaded.variables) == len(model.variables)


def test_keras_archive_traces_twice(tmp_path):
    """Why the subclass exists: if Keras stops re-tracing, this fails and the subclass can go."""
    model = _model()
    traces = []
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serving_default", lambda x: traces.append(1) or {"y": model(x)},
                         [tf.TensorSpec((None, 4), tf.float32)])
    archive.write_out(str(tmp_path), verbose=False)
    assert len(traces) == 2


def test_sub_models_are_not_traced_for_the_resource_walk_and_tables_are_kept(tmp_path):
    """Keras' walk for lookup tables would trace each keras.Model's default serving function: a whole extra
    trace of the network and one per sub-model. The archive hides those; a StringLookup's table still ships."""
    calls = []

    class Counting(keras.Model):
        def call(self, x):
            calls.append(1)
            return x * 2.0

    inner = Counting()
    inputs = keras.Input((4,))
    outer = keras.Model(inputs, inner(keras.layers.Dense(4)(inputs)))
    lookup = keras.layers.StringLookup(vocabulary=["cat", "dog"])
    lookup(tf.constant(["cat"]))
    calls.clear()  # building the functional model called it once

    archive = SingleTraceExportArchive()
    archive.track(outer)
    archive.track(lookup)
    archive.add_endpoint("serving_default", lambda x, w: {"y": outer(x), "id": lookup(w)},
                         [tf.TensorSpec((None, 4), tf.float32, name="x"), tf.TensorSpec((None,), tf.string, name="w")])
    archive.write_out(str(tmp_path), verbose=False)
    assert len(calls) == 1, calls  # the endpoint's one trace; Keras' walk adds one per model

    loaded = tf.saved_model.load(str(tmp_path))
    x = np.ones((2, 4), np.float32)
    out = loaded.signatures["serving_default"](x=tf.constant(x), w=tf.constant(["dog", "owl"]))
    np.testing.assert_array_equal(out["id"], [2, 0])  # index 0: out of vocabulary
    np.testing.assert_allclose(out["y"], np.asarray(outer(x)), rtol=1e-6)
