"""AherNet's `aher` training step compiled with XLA (jit_compile=True) under TensorFlow, on the tiny variant
(METHOD_CONTRACT item 9). Kept out of CI for the test budget: the step (three backbone passes, the
discriminator twice, two gradient calls) takes ~25 s of CPU to compile on the CI's cores.

    python benchmarks/ahernet_xla_step.py [--steps 2] [--out benchmarks/results/ahernet_xla_step.json]

Writes the moving-shapes data (16-d, tools/make_video_features.py) to a temp folder, builds the tiny
experiment's compiled trainer with jit_compile=True, runs the steps and checks: finite losses, and every
variable group (discriminator, generators, detector) changed by the first step. Exit status 1 if not.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=2, help="XLA-compiled steps to run")
    parser.add_argument("--out", default=os.path.join(REPO, "benchmarks/results/ahernet_xla_step.json"),
                        help="where to write the result JSON")
    args = parser.parse_args()
    import numpy as np

    from official.core import config as config_lib
    from official.core import trainer
    from official.core.file_io import write_json
    from official.core.task import build_task
    from research.video.ahernet.method import variable_groups
    from tools.make_video_features import write_dataset

    with tempfile.TemporaryDirectory() as root:
        write_dataset(os.path.join(root, "moving_shapes"), train=8, val=4, moments=8, classes=3, feature_dim=16)
        cfg = config_lib.resolve("ahernet_tiny_moving_shapes", [], "trainer.train_steps=1", root)
        task = build_task(cfg)
        model = trainer.build_compiled_model(cfg, task, trainer.plan_run(cfg, task, 1), jit=True)
        batches = iter(task.build_inputs(cfg.train_data, True, 4))
        groups = variable_groups(model.network)
        before = [[v.numpy().copy() for v in g] for g in groups]
        logs, times = [], []
        for _ in range(args.steps):
            x, y = next(batches)
            start = time.time()
            logs.append({k: float(v) for k, v in model.train_on_batch(x, y, return_dict=True).items()})
            times.append(time.time() - start)
        changed = [any(not np.allclose(a, v.numpy()) for a, v in zip(old, g, strict=True)) for old, g in zip(before, groups, strict=True)]
    ok = all(np.isfinite(list(d.values())).all() for d in logs) and all(changed)
    out = {"experiment": "ahernet_tiny_moving_shapes", "jit_compile": True, "steps": args.steps,
           "seconds_per_step": [round(t, 2) for t in times], "logs": logs,
           "groups_changed": dict(zip(("discriminator", "generators", "detector"), changed, strict=True)), "passed": bool(ok),
           "note": "first step includes the XLA compile; 2-core CPU shared with other jobs"}
    write_json(out, args.out, indent=1)
    print(f"{'PASS' if ok else 'FAIL'}: {args.steps} XLA steps, losses {[round(d['loss'], 3) for d in logs]}, "
          f"groups changed {out['groups_changed']}; wrote {args.out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
