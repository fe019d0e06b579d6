"""The shared KERAS_BACKEND=jax worker (tests/jax_worker.py) behaves like a fresh `python -c` per script:
argv and prints come through, failures carry their traceback, global Keras settings and TensorFlow do not
leak from one script into the next."""

from __future__ import annotations

import pytest

from tests import helpers

pytestmark = pytest.mark.jax


def test_prints_argv_and_backend_come_back():
    printed = helpers.run_in_jax_worker("import sys, keras\nprint(keras.backend.backend(), sys.argv[1:])", ["a", 2])
    assert printed.strip() == "jax ['a', '2']"


def test_a_failing_script_reports_its_traceback_and_the_worker_goes_on():
    with pytest.raises(AssertionError, match="ZeroDivisionError"):
        helpers.run_in_jax_worker("x = 1 / 0")
    with pytest.raises(AssertionError, match=r"SystemExit\(3\)"):
        helpers.run_in_jax_worker("import sys\nsys.exit(3)")
    assert helpers.run_in_jax_worker("print('alive')").strip() == "alive"


def test_settings_and_tensorflow_do_not_leak_into_the_next_script():
    helpers.run_in_jax_worker("import keras\nkeras.config.set_floatx('float64')\nkeras.config.set_dtype_policy('mixed_bfloat16')")
    after = helpers.run_in_jax_worker("import keras\nprint(keras.config.floatx(), keras.config.dtype_policy().name)")
    assert after.split() == ["float32", "float32"]
    helpers.run_in_jax_worker("import tensorflow")
    clean = helpers.run_in_jax_worker("import sys\nprint('tensorflow' in sys.modules)")
    assert clean.strip() == "False"
