"""A long-lived KERAS_BACKEND=jax process that runs the tests' JAX scripts one after another.

Importing keras + jax (+ the zoo's modules) costs ~5 s per process on these CPUs, and the suite runs
about fifty JAX scripts (backend-parity checks); one worker per pytest process pays it once, and the
primitives JAX compiles for one script are reused by the next. `tests/helpers.py` starts it lazily and
talks to it over pipes: one JSON request per line on stdin ({"script": source, "argv": [...]}), one JSON
reply per line on the original stdout ({"ok": bool, "error": text, "stdout": the script's prints,
"tensorflow": bool}). A script that imported TensorFlow makes the worker exit after replying, so the
"this module imports no TensorFlow" assertions of later scripts still mean something.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import traceback


def _run(script: str, argv: list[str], printed: io.StringIO) -> str | None:
    """Runs `script` as `python -c script *argv` would, in a fresh namespace, its prints going to
    `printed`; returns the error or None."""
    import keras

    keras.backend.clear_session()
    sys.argv = ["-c", *argv]
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(script, "<jax test script>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
    except SystemExit as stop:  # sys.exit() inside a script: 0 / None is success, as for a process
        if stop.code not in (0, None):
            return f"SystemExit({stop.code!r})"
    except BaseException:  # noqa: BLE001 - any failure goes back to the test as text
        return traceback.format_exc()
    finally:  # global settings a script may change go back to a fresh process's values
        keras.config.set_floatx("float32")
        keras.config.set_dtype_policy("float32")
        keras.config.set_epsilon(1e-7)
        keras.config.set_image_data_format("channels_last")
    return None


def main() -> None:
    # Replies get a private copy of the stdout pipe; file descriptor 1 itself now points at stderr, so
    # whatever a library writes there below Python (C code, subprocesses) cannot corrupt a reply.
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    for line in sys.stdin:
        request = json.loads(line)
        printed = io.StringIO()
        error = _run(request["script"], request["argv"], printed)
        tainted = "tensorflow" in sys.modules
        reply = {"ok": error is None, "error": error or "", "stdout": printed.getvalue(), "tensorflow": tainted}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()
        if tainted:
            return


if __name__ == "__main__":
    main()
