"""Compiles the C++ TensorFlow kernels of official/ops/kernels; the package metadata is pyproject.toml.

`pip install -e .` (and `pip wheel .`) run `build_tf_kernels` after the Python files:
    g++ -std=c++17 -shared -fPIC -O2 <tf.sysconfig compile flags> official/ops/kernels/*.cc
        -o official/ops/kernels/_zoo_ops.so <tf.sysconfig link flags>
in place for an editable install, into the wheel otherwise. TensorFlow comes from
[build-system].requires, pinned to the runtime's version so that the kernels' ABI matches.
A failed compile does not fail the install: it prints a warning and leaves
official/ops/kernels/_zoo_ops.build_error.txt, which `official.ops.native` reports as a WARNING at
run time while the keras.ops composites run instead. ECCV20ZOO_BUILD_KERNELS=0 skips the compile.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import tempfile

from setuptools import Command, setup
from setuptools.command.build import build
from setuptools.dist import Distribution

KERNEL_DIR = os.path.join("official", "ops", "kernels")
LIBRARY = "_zoo_ops.so"
ERROR_FILE = "_zoo_ops.build_error.txt"
CXX = os.environ.get("CXX", "g++")
CXXFLAGS = ["-std=c++17", "-fPIC", "-O2", "-Wno-deprecated-declarations"]

_TF_FLAGS = (
    "import json, tensorflow as tf; "
    "print(json.dumps([tf.__version__, tf.sysconfig.get_compile_flags(), tf.sysconfig.get_link_flags()]))"
)


def _tf_flags() -> tuple[str, list[str], list[str]]:
    """(version, compile flags, link flags) of the TensorFlow importable by this interpreter."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, "-c", _TF_FLAGS], capture_output=True, text=True, env=env, check=False)
    if out.returncode:
        raise RuntimeError(f"tensorflow is not importable in the build environment:\n{out.stderr[-2000:]}")
    version, cflags, lflags = json.loads(out.stdout.strip().splitlines()[-1])
    return version, cflags, lflags


def compile_kernels(sources: list[str], output: str) -> str:
    """Compiles `sources` (in parallel) and links `output`; returns a one-line summary."""
    version, cflags, lflags = _tf_flags()
    with tempfile.TemporaryDirectory() as tmp:
        objects, jobs = [], []
        for src in sources:
            obj = os.path.join(tmp, os.path.basename(src) + ".o")
            cmd = [CXX, *CXXFLAGS, *cflags, "-c", src, "-o", obj]
            jobs.append((cmd, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
            objects.append(obj)
        for cmd, job in jobs:
            log, _ = job.communicate()
            if job.returncode:
                raise RuntimeError(f"{' '.join(cmd)}\n{log[-4000:]}")
        link = [CXX, "-shared", *objects, "-o", output + ".tmp", *lflags]
        out = subprocess.run(link, capture_output=True, text=True, check=False)
        if out.returncode:
            raise RuntimeError(f"{' '.join(link)}\n{out.stderr[-4000:]}")
    os.replace(output + ".tmp", output)
    return f"built {output} against tensorflow {version} ({len(sources)} sources)"


class BuildTfKernels(Command):
    """Compiles official/ops/kernels/*.cc into _zoo_ops.so; warns instead of failing."""

    description = "compile the C++ TensorFlow kernels (official/ops/kernels)"
    user_options: list = []

    def initialize_options(self) -> None:
        self.editable_mode = False  # set by setuptools' editable_wheel: build next to the sources
        self.build_lib = None
        self._outputs: list[str] = []

    def finalize_options(self) -> None:
        self.set_undefined_options("build", ("build_lib", "build_lib"))

    def run(self) -> None:
        if os.environ.get("ECCV20ZOO_BUILD_KERNELS", "1") == "0":
            print("build_tf_kernels: skipped (ECCV20ZOO_BUILD_KERNELS=0); keras.ops composites will run")
            return
        here = os.path.dirname(os.path.abspath(__file__))
        sources = sorted(glob.glob(os.path.join(here, KERNEL_DIR, "*.cc")))
        target_dir = os.path.join(here, KERNEL_DIR) if self.editable_mode else os.path.join(self.build_lib, KERNEL_DIR)
        os.makedirs(target_dir, exist_ok=True)
        output, error_file = os.path.join(target_dir, LIBRARY), os.path.join(target_dir, ERROR_FILE)
        if os.path.exists(error_file):
            os.remove(error_file)
        try:
            print(f"build_tf_kernels: {compile_kernels(sources, output)}")
        except Exception as err:  # noqa: BLE001 - any failure leaves a working (composite-only) install
            if os.path.exists(output):
                os.remove(output)  # a stale library from older sources must not load
            with open(error_file, "w", encoding="utf-8") as f:
                f.write(f"{err}\n")
            bar = "!" * 78
            print(f"{bar}\nWARNING: the C++ TensorFlow kernels did not compile; the install continues and the "
                  f"keras.ops composites run instead (slower on CPU).\n{err}\n(also in {error_file})\n{bar}",
                  file=sys.stderr)
            return
        self._outputs = [output]

    def get_outputs(self) -> list[str]:
        return [] if self.editable_mode else self._outputs

    def get_output_mapping(self) -> dict[str, str]:
        return {}


class BuildWithKernels(build):
    sub_commands = [*build.sub_commands, ("build_tf_kernels", None)]


class BinaryDistribution(Distribution):
    """The wheel holds a compiled library: tag it for the platform, not py3-none-any."""

    def has_ext_modules(self) -> bool:
        return True


setup(cmdclass={"build": BuildWithKernels, "build_tf_kernels": BuildTfKernels}, distclass=BinaryDistribution)
