"""Repository rule `local_tensorflow`: the headers and framework library of the pip TensorFlow.

It runs the Python of PYTHON_BIN_PATH (written into .tf_configure.bazelrc by ./configure.sh;
default: the repository's .venv/bin/python), asks tf.sysconfig for the include and library
directories, and symlinks them into the external repository @local_tensorflow, so the kernels are
compiled with exactly the headers and ABI of the TensorFlow that will load them. Nothing is downloaded.
"""

_SYSCONFIG = "\n".join([
    "import tensorflow as tf",
    "print(tf.sysconfig.get_include())",
    "print(tf.sysconfig.get_lib())",
    "print(' '.join(f for f in tf.sysconfig.get_compile_flags() if f.startswith('-D')))",
])

_BUILD = """
package(default_visibility = ["//visibility:public"])

cc_library(
    name = "headers",
    hdrs = glob(["include/**"], exclude = ["include/**/*.py", "include/**/BUILD*"]),
    defines = [{defines}],
    includes = ["include"],
)

cc_library(
    name = "framework",
    srcs = ["libtensorflow_framework.so.2"],
)
"""

def _local_tensorflow_impl(ctx):
    python = ctx.os.environ.get("PYTHON_BIN_PATH", "")
    if not python:
        python = str(ctx.path(Label("//:WORKSPACE")).dirname) + "/.venv/bin/python"
    result = ctx.execute([python, "-c", _SYSCONFIG], environment = {"TF_CPP_MIN_LOG_LEVEL": "3"})
    if result.return_code != 0:
        fail("local_tensorflow: `%s` cannot import tensorflow (run ./configure.sh):\n%s" % (python, result.stderr))
    include, lib, defines = result.stdout.strip().split("\n")[-3:]
    ctx.symlink(include, "include")
    ctx.symlink(lib + "/libtensorflow_framework.so.2", "libtensorflow_framework.so.2")
    ctx.file("BUILD", _BUILD.format(defines = ", ".join(['"%s"' % d[2:] for d in defines.split(" ") if d])))

local_tensorflow = repository_rule(
    implementation = _local_tensorflow_impl,
    environ = ["PYTHON_BIN_PATH"],
    local = True,
)
