"""Spec card check 7 (SavedModel with intrinsics and fixed max detections; TFLite of the pose head) and
the JAX-backend forward parity."""

import json
import os
import textwrap

import keras
import numpy as np
import tensorflow as tf

from official.core import export
from official.core.task import build_task
from tests import helpers
from tests.research.three_d.hmor.hmor_fixtures import experiment


def random_model(task):
    keras.utils.set_random_seed(0)
    return random_model_of(task.build_model(), 2)


def random_model_of(model, seed):
    helpers.randomise_weights(model, seed)
    # detections on random weights: lift the objectness so that rows are valid
    w = model.det_out.get_weights()
    w[1][0] = 3.0
    model.det_out.set_weights(w)
    # root depth at its initial gamma = 1 (random gammas give depths of 1e5-1e6 mm)
    model.depth_out.set_weights([np.zeros_like(w) for w in model.depth_out.get_weights()[:1]] + [np.ones(1, np.float32)])
    model.refine.set_weights([np.zeros_like(w) for w in model.refine.get_weights()])
    return model


def test_check7_saved_model_and_pose_head_tflite(humans_dir, tmp_path):
    cfg = experiment(humans_dir)
    cfg.export.atol = 1e-2  # mm outputs (~5,000 mm): 1e-2 mm is a relative 2e-6 of float32 values
    task = build_task(cfg)
    model = random_model(task)
    done = export.export_all(model, task, str(tmp_path), "hmor", cfg.export, 64)
    path, report = done["saved_model"]
    assert max(report.values()) <= 1e-2, report
    loaded = tf.saved_model.load(path)
    fn = loaded.signatures["serving_default"]
    assert {s.name for s in fn.structured_input_signature[1].values()} == {"images", "focal", "center"}
    request = task._eval_request()
    out = {k: v.numpy() for k, v in fn(**{k: tf.constant(v) for k, v in request.items()}).items()}
    assert out["boxes"].shape == (1, 4, 4) and out["joints_cam"].shape == (1, 4, 21, 3)  # fixed max detections
    assert out["valid"].any() and np.all(out["root_depth"][~out["valid"]] == 0)
    # served = Keras on the resized image with the resized intrinsics (the serving graph's own map)
    keras_out = task._serve(model)(**{k: tf.constant(v) for k, v in request.items()})
    for key in ("joints_cam", "root_depth", "boxes", "joints_img"):
        np.testing.assert_allclose(out[key], keras_out[key].numpy(), rtol=1e-5, atol=1e-2)
    assert os.path.isfile(os.path.join(path, "assets.extra", "tf_serving_warmup_requests"))
    tflite_path, tflite_report = done["tflite"]
    print("hmor export report", report, {k: v for k, v in tflite_report.items() if k != "ops"})
    interpreter = tf.lite.Interpreter(model_path=tflite_path)
    shape = tuple(interpreter.get_input_details()[0]["shape"])
    assert shape == (1, model.roi_size, model.roi_size, 32) and tuple(interpreter.get_output_details()[0]["shape"]) == (1, 21, 3)


JAX_SCRIPT = textwrap.dedent("""
    import json, sys
    import jax
    import keras
    import numpy as np
    assert keras.backend.backend() == "jax"
    from research.three_d.hmor.model import HMOR
    args = np.load(sys.argv[1])
    model = HMOR.from_config(json.loads(str(args["config"])))
    model.load_weights(str(args["weights"]))
    x = {k: args[k] for k in ("images", "focal", "center", "boxes")}
    out = jax.jit(lambda x: model(x))(x)  # jitted: op-by-op JAX took > 180 s on 2 loaded cores
    det = jax.jit(lambda x: model(x))({k: x[k] for k in ("images", "focal", "center")})
    assert "tensorflow" not in sys.modules, "research.three_d.hmor imported tensorflow"
    np.savez(sys.argv[2], joints_cam=np.asarray(out["joints_cam"]), root_depth=np.asarray(out["root_depth"]),
             det_boxes=np.asarray(det["boxes"]), det_joints=np.asarray(det["joints_cam"]))
""")

# The smallest HMOR that keeps every code path (detector + NMS, RoIAlign, deconvolution, integral decode,
# root depth, lifting): one deconvolution, 8 depth bins, 2 people, 32 x 32 input.
SMALL = dict(input_shape=(32, 32, 3), deconv_filters=(16,), depth_bins=8, max_people=2, neck_width=16,
             head_width=16, resnet_widths=(8, 8, 16, 16))


def test_jax_forward_matches_tensorflow(tmp_path):
    from official.core import registry

    keras.utils.set_random_seed(0)
    model = random_model_of(registry.create_model("hmor_tiny", **SMALL), 3)
    rng = np.random.default_rng(0)
    x = {"images": rng.uniform(0, 255, (2, 32, 32, 3)).astype(np.float32), "focal": np.full((2, 2), 93.75, np.float32),
         "center": np.full((2, 2), 15.5, np.float32),
         "boxes": np.array([[[5, 4, 15, 24], [17, 2, 30, 31]], [[5, 4, 15, 24], [0, 0, 0, 0]]], np.float32)}
    path = os.path.join(str(tmp_path), "hmor.weights.h5")
    model.save_weights(path)
    want = model(x)
    det = model({k: x[k] for k in ("images", "focal", "center")})
    got = helpers.run_jax_script(JAX_SCRIPT, tmp_path, config=np.array(json.dumps(model.get_config())),
                                 weights=np.array(path), **x)
    np.testing.assert_allclose(got["joints_cam"], np.asarray(want["joints_cam"]), rtol=1e-4, atol=0.1)
    np.testing.assert_allclose(got["root_depth"], np.asarray(want["root_depth"]), rtol=1e-4)
    # equal scores (saturated objectness on random weights) may come out of NMS in another order
    for b in range(2):
        mine, theirs = np.asarray(det["boxes"])[b], got["det_boxes"][b]
        order_mine, order_theirs = np.lexsort(mine.T), np.lexsort(theirs.T)
        np.testing.assert_allclose(theirs[order_theirs], mine[order_mine], atol=1e-3)
        np.testing.assert_allclose(got["det_joints"][b][order_theirs], np.asarray(det["joints_cam"])[b][order_mine],
                                   rtol=1e-4, atol=0.1)  # mm at ~5,000 mm: 2e-5 relative
