"""The zoo's C++ TensorFlow kernels (official/ops/kernels/_zoo_ops.so): loading and dispatch.

`pip install -e .` compiles the kernels (setup.py); where they are missing or cannot run, each op
falls back to its keras.ops composite, which computes the same values and, on TensorFlow, the same
gradients. On first use one INFO line (logger `official.ops.native`) says which implementation runs.

The kernel runs only where it can, decided per call at trace time (`kernel_applies`):
- the Keras backend is TensorFlow and the library loaded (JAX never imports TensorFlow here);
- not inside `composite_ops()` and ECCV20ZOO_NATIVE_OPS is not "0": the exporter builds its graphs
  in `composite_ops()`, so SavedModels, TFLite and ONNX files hold only stock ops that TF Serving
  and LiteRT run without this library;
- not while XLA compiles the graph (`jit_compile=True`): XLA has no kernel for a custom op. This is
  read from the graph being traced, not from the trainer's setting, so every path to XLA (the
  trainer, `model.compile(jit_compile=True)` by hand, `tf.function(jit_compile=True)`) is covered
  without the trainer knowing about kernels;
- no GPU is visible: the kernels are CPU-only, and a CPU op inside a GPU graph would copy its
  tensors to the host and back;
- a float32 tensor (mixed precision layers see float16 / bfloat16 and take the composite).
The choice is made when a graph is traced: a tf.function traced before entering `composite_ops()`
keeps the kernel; trace the graph to export inside the block (official/core/export.py does).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from typing import Any

import keras

log = logging.getLogger(__name__)

# ECCV20ZOO_NATIVE_LIBRARY points at another build, e.g. Bazel's bazel-bin/official/ops/kernels/zoo_ops.so.
LIBRARY_PATH = os.environ.get("ECCV20ZOO_NATIVE_LIBRARY") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "kernels", "_zoo_ops.so"
)
ENV_SWITCH = "ECCV20ZOO_NATIVE_OPS"  # "0" forces the composites in the whole process

_lock = threading.Lock()
_state: dict[str, Any] = {"loaded": False, "library": None, "reason": "", "gpu": None}
_composite_depth = 0
_gradients_registered = False


def _load(path: str) -> tuple[Any, str]:
    """(library module, "") or (None, why not); registers the gradients on success."""
    if keras.backend.backend() != "tensorflow":
        return None, f"Keras backend is {keras.backend.backend()}"
    if os.environ.get(ENV_SWITCH, "1") == "0":
        return None, f"{ENV_SWITCH}=0"
    if not os.path.exists(path):
        failed = os.path.join(os.path.dirname(path), "_zoo_ops.build_error.txt")
        if os.path.exists(failed):
            return None, f"{path} failed to compile during pip install; see {failed}"
        return None, f"{path} not built (pip install -e . compiles it)"
    import tensorflow as tf

    try:
        library = tf.load_op_library(path)
    except Exception as err:  # a library built against another TensorFlow fails here
        return None, f"{path} failed to load: {str(err).splitlines()[0] if str(err) else type(err).__name__}"
    _register_gradients(library)
    return library, ""


def _register_gradients(library: Any) -> None:
    """tf.RegisterGradient for each kernel op (once per process: TensorFlow refuses a second one).

    ZooCornerPoolGrad and the point ops' *Grad kernels have no gradient: a second derivative through a
    kernel raises LookupError or is None (take it through `composite_ops()`).
    """
    global _gradients_registered
    if _gradients_registered:
        return
    import tensorflow as tf

    @tf.RegisterGradient("ZooCornerPool")
    def _corner_pool_grad(op, grad):
        return library.zoo_corner_pool_grad(op.inputs[0], grad, direction=op.get_attr("direction"))

    _register_point_gradients(library)
    _gradients_registered = True


def _register_point_gradients(library: Any) -> None:
    """Gradients of the point kernels, the ones TensorFlow derives for the keras.ops composites.

    Index outputs and sampling / ball query have none. Distances: d2 = |q - p[idx]|^2 gives
    2 (q - p[idx]) g to the query and its negative, scatter-added, to the point (k-NN); 3-NN's
    Euclidean distance goes through SqrtGrad first. Gather and interpolate scatter-add into the
    features; interpolation weights get no gradient (as the Pointnet2 CUDA op).
    """
    import tensorflow as tf

    for name in ("ZooFarthestPointSample", "ZooBallQuery", "ZooGatherPointsGrad", "ZooThreeInterpolateGrad"):
        tf.no_gradient(name)

    def distance_grads(points, queries, idx, grad_d2):
        neighbours = library.zoo_gather_points(points, idx)  # (B, M, k, 3)
        pull = 2.0 * grad_d2[..., None] * (queries[:, :, None, :] - neighbours)
        return library.zoo_gather_points_grad(idx, -pull, tf.shape(points)[1]), tf.reduce_sum(pull, axis=2)

    @tf.RegisterGradient("ZooKnn")
    def _knn_grad(op, grad_d2, _):
        return distance_grads(op.inputs[0], op.inputs[1], op.outputs[1], grad_d2)

    @tf.RegisterGradient("ZooThreeNN")
    def _three_nn_grad(op, grad_dist, _):
        grad_d2 = tf.raw_ops.SqrtGrad(y=op.outputs[0], dy=grad_dist)
        known_grad, unknown_grad = distance_grads(op.inputs[1], op.inputs[0], op.outputs[1], grad_d2)
        return unknown_grad, known_grad

    @tf.RegisterGradient("ZooGatherPoints")
    def _gather_points_grad(op, grad):
        features, indices = op.inputs
        return library.zoo_gather_points_grad(indices, grad, tf.shape(features)[1]), None

    @tf.RegisterGradient("ZooThreeInterpolate")
    def _three_interpolate_grad(op, grad):
        features, indices, weights = op.inputs
        return library.zoo_three_interpolate_grad(grad, indices, weights, tf.shape(features)[1]), None, None


def library() -> Any:
    """The loaded kernel library (LIBRARY_PATH), or None: composites run. Loads and logs once."""
    with _lock:
        if not _state["loaded"]:
            lib, reason = _load(LIBRARY_PATH)
            _state.update(loaded=True, library=lib, reason=reason)
            if lib is not None:
                log.info("eccv20zoo ops: C++ kernels from %s (composites inside XLA, exports, on GPU)", LIBRARY_PATH)
            else:  # a compile that failed is worth a warning; JAX or a switch is a choice
                level = logging.WARNING if "failed" in reason else logging.INFO
                log.log(level, "eccv20zoo ops: keras.ops composites (%s)", reason)
        return _state["library"]


def unavailable_reason() -> str:
    """Why the kernels do not run ("" when they loaded)."""
    library()
    return _state["reason"]


def reset() -> None:
    """Forgets the load decision (tests); an already loaded library stays registered in TensorFlow."""
    with _lock:
        _state.update(loaded=False, library=None, reason="")


@contextlib.contextmanager
def composite_ops() -> Iterator[None]:
    """Within this block (process-wide, all threads) every op traces as its keras.ops composite."""
    global _composite_depth
    with _lock:
        _composite_depth += 1
    try:
        yield
    finally:
        with _lock:
            _composite_depth -= 1


def _gpu_present() -> bool:
    if _state["gpu"] is None:
        import tensorflow as tf

        _state["gpu"] = bool(tf.config.list_physical_devices("GPU"))
    return _state["gpu"]


def _in_xla() -> bool:
    """True while tracing a graph that XLA will compile (tf.function(jit_compile=True))."""
    import tensorflow as tf

    try:
        from tensorflow.python.ops import control_flow_util
    except ImportError:  # pragma: no cover - the API moved: stay on the safe side
        return True
    return bool(control_flow_util.GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph()))


def kernel_applies(x: Any, rank: int = 4) -> bool:
    """True when the C++ kernel should compute this op on `x`, a float32 tensor of rank `rank`
    (4: NHWC corner pools; 3: point clouds); the other rules are in the module docstring."""
    if _composite_depth or library() is None or isinstance(x, keras.KerasTensor):
        return False
    dtype, shape = getattr(x, "dtype", None), getattr(x, "shape", None)
    if dtype is None or keras.backend.standardize_dtype(dtype) != "float32":
        return False
    if shape is None or getattr(shape, "rank", rank) is None or len(shape) != rank:
        return False
    return not _gpu_present() and not _in_xla()


def corner_pool(x: Any, direction: str) -> Any:
    """The ZooCornerPool kernel (check `kernel_applies(x)` first)."""
    return library().zoo_corner_pool(x, direction=direction)


# The point kernels (official/ops/point_ops.py dispatches; check `kernel_applies(x, rank=3)` first).
# Integer arguments go in as int32, the kernels' index type.


def farthest_point_sample(points: Any, num_samples: int) -> Any:
    """ZooFarthestPointSample: (B, num_samples) int32."""
    return library().zoo_farthest_point_sample(points, num_samples=int(num_samples))


def ball_query(points: Any, centers: Any, radius: float, max_samples: int) -> Any:
    """ZooBallQuery: (B, S, max_samples) int32. The attr is `radius * radius` (Python or numpy
    arithmetic) rounded once to float32: the threshold the composite compares with."""
    return library().zoo_ball_query(points, centers, radius_sq=float(radius * radius), max_samples=int(max_samples))


def knn(points: Any, queries: Any, k: int) -> tuple[Any, Any]:
    """ZooKnn: (squared distances (B, M, k) ascending, indices (B, M, k) int32)."""
    return tuple(library().zoo_knn(points, queries, k=int(k)))


def gather_points(features: Any, indices: Any) -> Any:
    """ZooGatherPoints: features (B, N, C) at int32 indices (B, ...) -> (B, ..., C)."""
    import tensorflow as tf

    return library().zoo_gather_points(features, tf.cast(indices, tf.int32))


def three_nn(unknown: Any, known: Any) -> tuple[Any, Any]:
    """ZooThreeNN: (Euclidean distances (B, M, 3) ascending, indices (B, M, 3) int32)."""
    return tuple(library().zoo_three_nn(unknown, known))


def three_interpolate(features: Any, indices: Any, weights: Any) -> Any:
    """ZooThreeInterpolate: sum_j weights[..., j] * features[b, indices[..., j]] -> (B, M, C)."""
    return library().zoo_three_interpolate(features, indices, weights)
