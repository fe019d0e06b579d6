#!/usr/bin/env bash
# Points Bazel at a Python whose TensorFlow provides the kernel headers and library:
#   ./configure.sh [python]      (default: .venv/bin/python, else python3)
# Writes .tf_configure.bazelrc, which .bazelrc imports.
set -euo pipefail
cd "$(dirname "$0")"
python="${1:-}"
if [[ -z "$python" ]]; then
  if [[ -x .venv/bin/python ]]; then python="$PWD/.venv/bin/python"; else python="$(command -v python3)"; fi
fi
python="$(cd "$(dirname "$python")" && pwd)/$(basename "$python")"
version="$(TF_CPP_MIN_LOG_LEVEL=3 "$python" -c 'import tensorflow as tf; print(tf.__version__)' 2>/dev/null | tail -1)" \
  || { echo "configure.sh: $python cannot import tensorflow" >&2; exit 1; }
echo "build --repo_env=PYTHON_BIN_PATH=$python" > .tf_configure.bazelrc
echo "configure.sh: Bazel builds against tensorflow $version of $python"
