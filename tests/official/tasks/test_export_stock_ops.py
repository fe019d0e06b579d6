"""An exported CPN SavedModel holds only stock TensorFlow ops, although training graphs use the C++ kernels.

TF Serving and LiteRT do not have official/ops/kernels/_zoo_ops.so, so the exporter traces every graph
with the keras.ops composites (native.composite_ops); this scans saved_model.pb for any Zoo* op.
"""

import dataclasses
import os

import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

from official.core import config as config_lib
from official.core import export
from official.core.task import build_task
from official.ops import native

CUSTOM_OPS = ("ZooCornerPool", "ZooCornerPoolGrad")


def saved_model_ops(path: str) -> set[str]:
    """Every op type in the SavedModel's graphs and their function libraries."""
    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(path, "saved_model.pb"), "rb") as f:
        proto.ParseFromString(f.read())
    ops = set()
    for meta in proto.meta_graphs:
        ops.update(node.op for node in meta.graph_def.node)
        for function in meta.graph_def.library.function:
            ops.update(node.op for node in function.node_def)
    return ops


def test_cpn_saved_model_has_no_custom_op(tmp_path):
    from tools.make_shapes import write_shapes

    assert native.library() is not None, native.unavailable_reason()  # else the check proves nothing
    data = str(tmp_path / "shapes")
    write_shapes(data, 2, 2, size=64, seed=0)
    override = (
        f"train_data.path={data}/train,train_data.annotations={data}/annotations/instances_train.json,"
        f"eval_data.path={data}/val,eval_data.annotations={data}/annotations/instances_val.json"
    )
    cfg = config_lib.resolve("cpn_dla34tiny_shapes", [], override)
    task = build_task(cfg)
    model = task.build_model()
    size = cfg.train_data.image_size
    images = np.zeros((1, size, size, 3), np.float32)

    traced = tf.function(lambda x: model(x, training=False)).get_concrete_function(tf.constant(images))
    assert "ZooCornerPool" in {node.op for node in traced.graph.as_graph_def().node}  # kernels in training

    cfg_export = dataclasses.replace(cfg.export, formats=("saved_model",), warmup_requests=0, verify_examples=1)
    path, report = export.export_saved_model(model, task, str(tmp_path / "exports"), "cpn", cfg_export, size)
    assert report["proposals/proposals"] <= cfg_export.atol
    ops = saved_model_ops(path)
    assert "Maximum" in ops and "Conv2D" in ops  # the composite pools and the network are there
    assert not ops & set(CUSTOM_OPS), sorted(ops & set(CUSTOM_OPS))
