"""@rules_java//java:defs.bzl as thin forwards to Bazel's built-in Java rules.

Only loaded, never built here: Bazel 4 parses @bazel_tools//tools/jdk (which loads this file) while
resolving any toolchain, and would otherwise download rules_java before compiling C++.
"""

def java_binary(**kwargs):
    native.java_binary(**kwargs)

def java_import(**kwargs):
    native.java_import(**kwargs)

def java_library(**kwargs):
    native.java_library(**kwargs)

def java_plugin(**kwargs):
    native.java_plugin(**kwargs)

def java_runtime(**kwargs):
    native.java_runtime(**kwargs)

def java_test(**kwargs):
    native.java_test(**kwargs)

def java_toolchain(**kwargs):
    native.java_toolchain(**kwargs)
