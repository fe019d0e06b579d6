"""A Keras ExportArchive whose endpoints are traced once, not twice.

Keras' archive wraps each endpoint in a `tf.function` and traces it to list the variables it uses; then
`tf.saved_model.save` traces every `tf.function` attribute again, because the save context is part of
TensorFlow's function-cache key. For a detector or GAN generator each trace costs seconds (tens of
thousands of ops). Here the endpoint is stored as the `ConcreteFunction` of that first trace: SavedModel
saves a concrete function as it is, so the SavedModel holds the same graph and signatures, built once.
`keras.export.ExportArchive()` returns the backend's archive from `__new__`, so the subclass extends
TensorFlow's (a Keras-internal class; tests/official/core/test_export_archive.py notices if it changes).

Before saving, Keras walks every tracked model in SavedModel mode to find lookup tables. In that mode each
keras.Model (the network and every sub-model inside it) offers a `serving_default` tf.function
(`TFLayer._default_save_signature`), and the walk traces them all: a whole extra trace of the network and
one per sub-model (20 s of a 80 s CPN export on 2 cores). The archive saves only its endpoints and
variables, never those functions, so the walk here runs with them hidden; tables are still found.
"""

from __future__ import annotations

import contextlib

import tensorflow as tf
from keras.src.backend.tensorflow.export import TFExportArchive
from keras.src.backend.tensorflow.layer import TFLayer


class SingleTraceExportArchive(TFExportArchive):
    """`keras.export.ExportArchive` (TensorFlow backend) with one trace per endpoint that has a signature."""

    def _backend_add_endpoint(self, name, fn, input_signature, **kwargs):
        del name, kwargs
        return tf.function(fn, input_signature=input_signature, autograph=False).get_concrete_function()

    def _filter_and_track_resources(self):
        with _default_save_signatures_hidden():
            super()._filter_and_track_resources()


@contextlib.contextmanager
def _default_save_signatures_hidden():
    """Every Keras model's `_default_save_signature` reads None (not a tf.function: the walk skips it)."""
    saved = TFLayer.__dict__["_default_save_signature"]
    TFLayer._default_save_signature = None
    try:
        yield
    finally:
        TFLayer._default_save_signature = saved
