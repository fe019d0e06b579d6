"""A Keras ExportArchive whose endpoints are traced once, not twice.

Keras' archive wraps each endpoint in a `tf.function` and traces it to list the variables it uses; then
`tf.saved_model.save` traces every `tf.function` attribute again, because the save context is part of
TensorFlow's function-cache key. For a detector or GAN generator each trace costs seconds (tens of
thousands of ops). Here the endpoint is stored as the `ConcreteFunction` of that first trace: SavedModel
saves a concrete function as it is, so the SavedModel holds the same graph and signatures, built once.
`keras.export.ExportArchive()` returns the backend's archive from `__new__`, so the subclass extends
TensorFlow's (a Keras-internal class; tests/official/core/test_export_archive.py notices if it changes).
"""

from __future__ import annotations

import tensorflow as tf
from keras.src.backend.tensorflow.export import TFExportArchive


class SingleTraceExportArchive(TFExportArchive):
    """`keras.export.ExportArchive` (TensorFlow backend) with one trace per endpoint that has a signature."""

    def _backend_add_endpoint(self, name, fn, input_signature, **kwargs):
        del name, kwargs
        return tf.function(fn, input_signature=input_signature, autograph=False).get_concrete_function()
