"""Shared fixtures: small real-format datasets written once per session."""

from __future__ import annotations

import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_configure(config):
    _build_optimizers_at_compile()
    if not os.environ.get("ZOO_TEST_DEFAULT_GC"):
        import gc

        # Tracing a TF graph makes ~10^6 short-lived Python objects; at Python's default thresholds
        # (700, 10, 10) the collector keeps walking them (TSIT's short-run file: 72 -> 59 s wall).
        gc.set_threshold(100_000, 50, 100)


def pytest_collection_finish(session):
    """After the imports (TF, Keras, the zoo): their objects live for the session, so the collector
    stops re-walking them (`gc.freeze`). ZOO_TEST_DEFAULT_GC=1 keeps Python's defaults (for A/B timing)."""
    if not os.environ.get("ZOO_TEST_DEFAULT_GC"):
        import gc

        gc.collect()
        gc.freeze()


def _build_optimizers_at_compile() -> None:
    """`Model.compile` on a built model also builds its optimizer's variables, for the tests' many
    compile-then-`fit`/`train_on_batch` steps outside a tf.distribute strategy.

    There Keras defers building the optimizer to the first train-step trace, and a tf.function whose first
    trace creates variables is traced a second time: the tests paid every such step's graph construction
    twice (ISP's tiny step: 94 -> 68 s CPU with the optimizer built first). The zoo's trainer runs under a
    strategy, where Keras builds the optimizer symbolically with `model.trainable_variables` as here, so
    this gives plain `fit` the trainer's behaviour; values are unchanged (slots start at zero either way).
    """
    import keras

    if getattr(keras.Model.compile, "_builds_optimizer", False):
        return
    original = keras.Model.compile

    def compile(self, *args, **kwargs):
        original(self, *args, **kwargs)
        optimizer = getattr(self, "optimizer", None)
        if (optimizer is not None and not optimizer.built and self.built
                and all(layer.built for layer in self._flatten_layers())):
            optimizer.build(self.trainable_variables)

    compile._builds_optimizer = True
    keras.Model.compile = compile


@pytest.fixture(scope="session")
def digits_dir(tmp_path_factory) -> str:
    """The real digits dataset (1,433 train / 364 val PNGs) in the ImageNet folder layout."""
    from tools.make_digits import write_digits

    out = str(tmp_path_factory.mktemp("digits") / "digits")
    write_digits(out)
    return out
