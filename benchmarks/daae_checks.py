"""DAAE checks moved out of CI for the test budget (METHOD_CONTRACT items 7 and 9), recorded in
benchmarks/results/daae_checks.json:
- one training step of `daae_tiny_faces` (16 px network, batch 4) compiled with XLA (runtime.jit_compile=true)
  through the trainer: finite losses;
- TFLite of the `age` path (image -> age, the task's export body) verified against Keras (max |difference|).
    python -m benchmarks.daae_checks
"""

from __future__ import annotations

import json
import os
import tempfile
import time

import numpy as np


def main() -> dict:
    from official.core import config as config_lib
    from official.core import export, trainer
    from official.data import synthetic_faces
    from research.generative.daae import task as daae_task

    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "faces")
        synthetic_faces.write_faces(data, "cacd", identities=6, per_identity=6, size=32)
        override = ",".join([f"train_data.path={data}", f"eval_data.path={data}", "trainer.train_steps=1",
                             "trainer.steps_per_epoch=1", "trainer.global_batch_size=4", "runtime.jit_compile=true",
                             "model.image_size=16", "model.channels=[8,16]", "train_data.image_size=16",
                             "eval_data.image_size=16"])
        cfg = config_lib.resolve("daae_tiny_faces", [], override)
        start = time.time()
        results, model = trainer.run_experiment(cfg, os.path.join(tmp, "xla"), "train", return_model=True)
        losses = {k: float(v) for k, v in results.items() if isinstance(v, (int, float)) and k != "step"}
        out["xla_step"] = {"jit_compile": bool(model.jit_compile), "step": int(results["step"]),
                           "finite": bool(all(np.isfinite(v) for v in losses.values())), "losses": losses,
                           "seconds": round(time.time() - start, 1)}
        cfg32 = config_lib.resolve("daae_tiny_faces", [], f"train_data.path={data},eval_data.path={data}")
        task = daae_task.FaceAgingTask(cfg32)
        network = task.build_model()
        path, report = export.export_tflite(network, task, os.path.join(tmp, "export"), "daae", cfg32.export, 0, "none")
        out["tflite_age"] = {"max_abs_diff_years": float(report["max_abs_diff"]), "bytes": os.path.getsize(path),
                             "ops": report.get("ops")}
    assert out["xla_step"]["jit_compile"] and out["xla_step"]["finite"], out
    assert out["tflite_age"]["max_abs_diff_years"] <= 1e-4, out
    os.makedirs("benchmarks/results", exist_ok=True)
    with open("benchmarks/results/daae_checks.json", "w") as f:
        json.dump(out, f, indent=2)
    print(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
