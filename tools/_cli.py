"""The one entry point of every tool: user errors as one `error:` line, and a quiet TensorFlow start-up.

    if __name__ == "__main__":
        define_flags()
        _cli.run(main)                      # tools that use TensorFlow
        _cli.run(main, tensorflow=False)    # tools that never import it (coco_eval, tide, ...)

User errors (official.core.errors.UserError, absl's app.UsageError, a missing, unknown or invalid flag,
stray positional arguments) print exactly one line `error: <message>` on stderr and exit with status 2.
A message that starts with the value of a flag the user gave (`/x.json: ...`) is shown as
`--gt=/x.json: ...`, so the line names the flag and the file. Any other exception is a bug: traceback.

TensorFlow's C++ start-up lines (oneDNN notice, "Could not find cuda drivers", absl's "All log messages
before absl::InitializeLog()" banner, cuInit failure) are written while TensorFlow's shared libraries load,
before TF_CPP_MIN_LOG_LEVEL is consulted, so no environment variable removes them. `run` sets
TF_CPP_MIN_LOG_LEVEL=2 (unless the user set it) and imports TensorFlow with stderr captured, then writes
back every captured line except those below that level (and the CUDA lines on a machine without an
NVIDIA device). `quiet_stderr()` puts the same filter around other native calls (the TFLite converter
and interpreter in tools.export / tools.evaluate). Python logging stays at absl's WARNING (absl.app would
raise it to INFO). `--verbose`, or TF_CPP_MIN_LOG_LEVEL=0 set by the user, shows everything.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

from absl import app, flags

from official.core.errors import UserError

FLAGS = flags.FLAGS
_min_level: int | None = None  # set by `run`: TF_CPP_MIN_LOG_LEVEL in force; 0/None show everything

# "I0000 00:00:1796094878.143416    3686 port.cc:153] oneDNN custom operations are on. ..."
_ABSL_LINE = re.compile(r"^([IWEF])\d{4} [\d:.]+\s+\d+ \S+:\d+\] (.*)$")
_SEVERITY = {"I": 0, "W": 1, "E": 2, "F": 3}
_PRE_INIT_BANNER = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
# Expected on a machine without an NVIDIA device; kept where one exists (then they explain a CPU-only run).
_NO_GPU_MESSAGES = ("Could not find cuda drivers", "failed call to cuInit")
# Logged at error level, but only a notice: TF falls back to its Eigen kernels on CPUs without AVX-512.
_BENIGN_ERRORS = ("oneDNN supports DT_INT64 only on platforms with AVX-512",)
# TFLite's own logger and the int8 quantiser print these at info level, whatever TF_CPP_MIN_LOG_LEVEL says.
_TFLITE_INFO = ("INFO: Created TensorFlow Lite", "fully_quantize: ")
_REQUIRED = re.compile(r"Flag --(\w+) must have a value other than None")


def define_data_dir_flag() -> None:
    """`--data_dir`, shared by the tools that read an experiment's data (train, evaluate, export)."""
    flags.DEFINE_string(
        "data_dir", None,
        "Root of the experiment's relative data paths (runtime.data_dir; default ./data): e.g. "
        "shapes/train becomes DATA_DIR/shapes/train. Absolute paths are used as given.",
    )


def fail(message: str) -> NoReturn:
    """Prints `error: <message>` as one line on stderr and exits with status 2."""
    print(f"error: {' '.join(str(message).split())}", file=sys.stderr, flush=True)
    sys.exit(2)


def _flag_error_message(err: flags.Error) -> str:
    missing = _REQUIRED.findall(str(err))
    if missing:
        names = ", ".join(f"--{name}" for name in missing)
        return f"missing required flag{'s' if len(missing) > 1 else ''} {names} (--help lists all flags)"
    return str(err)


def _parse_flags(argv: list[str]) -> list[str]:
    """absl's parser, but a flag error is one `error:` line and status 2 instead of a usage block.

    absl.app raises Python logging to INFO unless --verbosity is given, which prints TensorFlow's INFO
    records ("Sharding callback duration", "Assets written to") between a tool's own lines; without
    --verbose the level stays at absl's default, WARNING.
    """
    try:
        argv = FLAGS(argv)
    except flags.Error as err:
        fail(_flag_error_message(err))
    if not FLAGS.verbose and FLAGS["verbosity"].using_default_value:
        FLAGS.verbosity = -1  # absl's WARNING; marks the flag as set, so absl.app leaves it
    return argv


def _name_flag(err: Exception) -> str:
    """`/x.json: no such file` -> `--gt=/x.json: no such file` when --gt=/x.json was given."""
    message = " ".join(str(err).split())
    if getattr(err, "_names_config_key", False):
        return message
    for flag in FLAGS.get_key_flags_for_module(sys.argv[0]):
        value = flag.value
        if flag.present and isinstance(value, str) and value and message.startswith(f"{value}:"):
            return f"--{flag.name}={message}"
    return message


def _config_values(obj: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    for field in dataclasses.fields(obj):
        value = getattr(obj, field.name)
        if dataclasses.is_dataclass(value):
            yield from _config_values(value, f"{prefix}{field.name}.")
        elif isinstance(value, str) and value:
            yield f"{prefix}{field.name}", value


@contextlib.contextmanager
def naming_config_keys(cfg: Any) -> Iterator[None]:
    """A UserError whose message starts with a config value `v:` is re-raised as `key=v: ...`.

    Readers name the path they failed on; this adds the config key it came from (train_data.path), so
    the one error line says what to change.
    """
    try:
        yield
    except UserError as err:
        message = str(err)
        for key, value in _config_values(cfg):
            if message.startswith(f"{value}:"):
                err.args = (f"{key}={message}",)
                err._names_config_key = True  # the flag it came through (--params_override) adds nothing
                break
        raise


def _is_noise(line: str, min_level: int, gpu_present: bool) -> bool:
    """Whether a line a native library wrote is below the log level the user asked for."""
    text = line.strip()
    if text == _PRE_INIT_BANNER:
        return min_level >= 1
    if text.startswith(_TFLITE_INFO):
        return min_level >= 1
    match = _ABSL_LINE.match(text)
    if match is None:
        return False
    severity = _SEVERITY[match[1]]
    if severity < min_level or (min_level >= 2 and severity == 2 and match[2].startswith(_BENIGN_ERRORS)):
        return True
    return not gpu_present and min_level >= 2 and severity < 3 and match[2].startswith(_NO_GPU_MESSAGES)


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Captures file descriptor 2 for the block and writes back every line that is not noise.

    Native libraries (TensorFlow, TFLite, the MLIR quantiser) write to the descriptor directly, past
    Python's sys.stderr and past TF_CPP_MIN_LOG_LEVEL. Lines come back when the block ends (tracebacks
    are printed after it). Does nothing with --verbose or TF_CPP_MIN_LOG_LEVEL=0, or outside `run`.
    """
    if not _min_level:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode("utf-8", "replace").splitlines(keepends=True)
            gpu_present = bool(glob.glob("/dev/nvidia[0-9]*"))
            sys.stderr.write("".join(ln for ln in lines if not _is_noise(ln, _min_level, gpu_present)))
            sys.stderr.flush()


def _import_tensorflow_quietly() -> None:
    with quiet_stderr():
        import tensorflow as tf

        tf.config.list_physical_devices()  # CUDA is probed (and cuInit logged) here, not at import


def _user_log_level() -> int | None:
    try:
        return int(os.environ["TF_CPP_MIN_LOG_LEVEL"])
    except (KeyError, ValueError):
        return None


def run(main: Callable[[list[str]], int | None], tensorflow: bool = True) -> NoReturn:
    """Parses flags and runs `main(argv)`; user errors exit with status 2 and one `error:` line."""
    flags.DEFINE_bool(
        "verbose", False, "Show TensorFlow's start-up lines and INFO logs (hidden by default).",
        module_name=sys.argv[0],
    )

    def checked_main(argv: list[str]) -> int | None:
        if len(argv) > 1:
            fail(f"unexpected arguments: {' '.join(argv[1:])} (flags are written --name=value)")
        global _min_level
        if not FLAGS.verbose:
            _min_level = _user_log_level()
            if _min_level is None:
                os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
                _min_level = 2
        if tensorflow:
            _import_tensorflow_quietly()
        try:
            return main(argv)
        except (UserError, app.UsageError) as err:
            fail(_name_flag(err))

    app.run(checked_main, flags_parser=_parse_flags)
